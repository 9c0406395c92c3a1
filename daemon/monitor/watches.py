"""Which URLs may be watched (re-visited on a schedule): one rule for the API and the CLI."""

from __future__ import annotations

from urllib.parse import urlsplit

from daemon.config import Settings
from daemon.monitor.ingest import refused_address

MAX_URL_LENGTH = 2048


class WatchUrlError(ValueError):
    """A URL that cannot be watched; `code` is the API's error code, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_watch_url(url: object, settings: Settings) -> str:
    """The URL to watch, stripped; WatchUrlError when it is not a public http(s) address."""
    if not isinstance(url, str) or not url.strip():
        raise WatchUrlError("bad_url", "give the http(s) address of a listing or store page")
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or len(url) > MAX_URL_LENGTH):
        raise WatchUrlError("bad_url", "url must be the http(s) address of a listing or store "
                            f"(at most {MAX_URL_LENGTH} characters)")
    if refused_address(url) and not settings.allow_private_hosts:
        raise WatchUrlError("refused_address", (
            "that URL points at a private or local network address, which PicGuard never "
            "visits; give the marketplace address of the listing"))
    return url
