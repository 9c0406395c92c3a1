"""Typed fetch failures: each has a short machine `code` and a plain-words `reason`."""

from __future__ import annotations


class FetchError(Exception):
    """A URL could not be fetched. `reason` says why in plain words, `code` for machines."""

    code = "fetch_failed"

    def __init__(self, reason: str, url: str | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url
        self.status = status

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "reason": self.reason, "url": self.url, "status": self.status}


class BadURLError(FetchError):
    code = "bad_url"


class BadSchemeError(FetchError):
    code = "bad_scheme"


class DNSError(FetchError):
    code = "dns"


class BlockedAddressError(FetchError):
    """The host is (or resolves to) an address PicGuard must not reach (SSRF guard)."""

    code = "blocked_address"


class FetchTimeoutError(FetchError):
    code = "timeout"


class TooLargeError(FetchError):
    code = "too_large"


class BadContentTypeError(FetchError):
    code = "bad_content_type"


class HTTPStatusError(FetchError):
    code = "http_status"


class TooManyRedirectsError(FetchError):
    code = "too_many_redirects"


class ConnectFailedError(FetchError):
    code = "connection"


class TLSError(FetchError):
    code = "tls"


class BadResponseError(FetchError):
    """The server's answer could not be read (broken compression or framing)."""

    code = "bad_response"


def http_status_reason(status: int, headers: dict[str, str], url: str) -> str:
    """Plain words for a final non-2xx answer (after retries)."""
    if status == 429:
        after = headers.get("retry-after")
        wait = f" (it asked to wait {after} s)" if after else ""
        return f"the server refused because of too many requests (HTTP 429){wait}; try again later"
    if status in (404, 410):
        return f"the server says this does not exist (HTTP {status}): {url[:200]}"
    if status in (401, 403):
        return f"the server refused access (HTTP {status}): {url[:200]}"
    if status >= 500:
        return f"the server failed (HTTP {status}) and kept failing after retries; try again later"
    return f"the server answered HTTP {status} instead of the file: {url[:200]}"


def short_error(exc: BaseException) -> str:
    """An exception's message, trimmed for a one-line reason."""
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
