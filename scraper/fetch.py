"""Safe HTTP fetching of listing images and pages (requests + urllib3 Retry).

Every request: http(s) only; host resolved and refused when it is loopback,
private, link-local, unique-local, multicast, unspecified, IPv4-mapped or a cloud
metadata address (loopback/private only with PICGUARD_ALLOW_PRIVATE_HOSTS=1 or a
per-instance allowlist); redirects followed here, one hop at a time, each hop
checked again; connect/read timeouts and a total deadline; a byte cap while
streaming (decoded bytes, so compression bombs stop too); content type checked;
a per-host rate limit and a bound on parallel requests; conditional GET.
Thread-safe: one Fetcher serves the daemon's whole thread pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urljoin

import requests
from urllib3.exceptions import DecodeError, ProtocolError
from urllib3.exceptions import TimeoutError as U3TimeoutError

from . import __version__
from .fetcherrors import (
    BadContentTypeError,
    BadResponseError,
    BadSchemeError,
    BadURLError,
    BlockedAddressError,
    ConnectFailedError,
    DNSError,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    TLSError,
    TooLargeError,
    TooManyRedirectsError,
    http_status_reason,
    short_error,
)
from .netguard import (
    AddressPolicy,
    default_port,
    is_public_address,
    split_checked,
)
from .ratelimit import HostRateLimiter
from .sniff import check_image_type, check_page_type
from .transport import GuardedAdapter, has_timeout, make_retry

__all__ = [
    "BadContentTypeError",
    "BadResponseError",
    "BadSchemeError",
    "BadURLError",
    "BlockedAddressError",
    "ConnectFailedError",
    "DNSError",
    "FetchError",
    "FetchResult",
    "FetchTimeoutError",
    "Fetcher",
    "HTTPStatusError",
    "TLSError",
    "TooLargeError",
    "TooManyRedirectsError",
    "is_public_address",
]

USER_AGENT = (
    f"PicGuard/{__version__} (a seller's own tool that checks where their product photos "
    f"appear; runs on the seller's computer) python-requests/{requests.__version__}"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_IMAGE_ACCEPT = "image/avif,image/webp,image/jpeg,image/png,image/gif,image/*;q=0.8"
_PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchResult:
    """One fetched resource; `headers` has lower-case names.

    A 304 answer gives not_modified=True and empty content.
    """

    url: str
    status: int
    content: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None
    date: str | None
    not_modified: bool
    headers: dict[str, str] = field(default_factory=dict)
    redirects: tuple[str, ...] = ()

    def text(self) -> str:
        """The content decoded with the declared charset (UTF-8 when none), never raising."""
        charset = "utf-8"
        for param in (self.headers.get("content-type") or "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                charset = value.strip().strip("\"'")
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")


class Fetcher:
    """Fetches images and pages under the SSRF guard and politeness limits above."""

    def __init__(
        self,
        allow_private: bool | None = None,
        allowed_hosts: set[str] | frozenset[str] | tuple[str, ...] = (),
        max_bytes: int = 20 * 1024 * 1024,
        timeout: tuple[float, float] = (5.0, 20.0),
        max_redirects: int = 5,
        per_host_interval: float = 1.0,
        max_parallel: int = 4,
        total_timeout: float = 60.0,
        retries: int = 3,
        backoff_factor: float = 0.5,
        user_agent: str = USER_AGENT,
    ) -> None:
        if max_bytes <= 0 or max_parallel <= 0 or max_redirects < 0:
            raise ValueError(
                "max_bytes and max_parallel must be positive, max_redirects not negative"
            )
        self.policy = AddressPolicy.build(allow_private, allowed_hosts)
        self.max_bytes = int(max_bytes)
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self.max_redirects = int(max_redirects)
        self.total_timeout = float(total_timeout)
        self.user_agent = user_agent
        self._limiter = HostRateLimiter(per_host_interval)
        self._slots = threading.BoundedSemaphore(max_parallel)
        self._adapter = GuardedAdapter(
            self.policy, make_retry(retries, backoff_factor), pool_maxsize=max_parallel
        )
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    # --- public ---------------------------------------------------------------------------

    def check_url(self, url: str) -> None:
        """Raise a FetchError subclass if this Fetcher would refuse `url` (no request made)."""
        parts = split_checked(url)
        self.policy.resolve(parts.hostname or "", default_port(parts))

    def fetch_image(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        *,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """An image (any image/* but SVG, or unlabelled bytes that are an image)."""
        return self._fetch(url, _IMAGE_ACCEPT, check_image_type, etag, last_modified, max_bytes)

    def fetch_page(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        *,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """An HTML page (text/html or application/xhtml+xml)."""
        return self._fetch(url, _PAGE_ACCEPT, check_page_type, etag, last_modified, max_bytes)

    def close(self) -> None:
        with self._sessions_lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
        self._adapter.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals ------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no proxies or .netrc from the environment
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # no cookies at all
            session.headers.update({"User-Agent": self.user_agent})
            session.mount("http://", self._adapter)
            session.mount("https://", self._adapter)
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def _fetch(
        self,
        url: str,
        accept: str,
        check_type: Callable[[str | None, bytes | None], str | None],
        etag: str | None,
        last_modified: str | None,
        max_bytes: int | None,
    ) -> FetchResult:
        limit = self.max_bytes if max_bytes is None else int(max_bytes)
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        deadline = time.monotonic() + self.total_timeout
        history: list[str] = []
        current = url.strip() if isinstance(url, str) else url
        with self._slots:
            for _hop in range(self.max_redirects + 1):
                try:
                    parts = split_checked(current)
                    host = parts.hostname or ""
                    # Checked before any connection: a redirect to 169.254.169.254 stops here.
                    self.policy.resolve(host, default_port(parts))
                except FetchError as exc:
                    if history:  # say that a redirect led here, and from where
                        origin = history[-1][:200]
                        exc.reason = f"{origin} redirected to a refused URL; {exc.reason}"
                        exc.args = (exc.reason,)
                    raise
                self._limiter.wait(host)
                response = self._send(current, headers, host)
                if response.status_code in _REDIRECTS and response.headers.get("Location"):
                    location = response.headers["Location"]
                    response.close()
                    history.append(current)
                    current = urljoin(current, location.strip())
                    continue
                return self._finish(
                    response,
                    current,
                    tuple(history),
                    check_type,
                    limit,
                    deadline,
                    etag,
                    last_modified,
                )
        raise TooManyRedirectsError(
            f"gave up after {self.max_redirects} redirects (last: {current[:200]})", url=url
        )

    def _send(self, url: str, headers: dict[str, str], host: str) -> requests.Response:
        try:
            return self._session().get(
                url, headers=headers, stream=True, allow_redirects=False, timeout=self.timeout
            )
        except FetchError:
            raise
        except requests.exceptions.ConnectTimeout:
            raise FetchTimeoutError(
                f"{host} did not accept a connection within {self.timeout[0]:g} s", url=url
            ) from None
        except requests.exceptions.ReadTimeout:
            raise FetchTimeoutError(
                f"{host} did not answer within {self.timeout[1]:g} s", url=url
            ) from None
        except requests.exceptions.SSLError as exc:
            raise TLSError(
                f"the secure connection to {host} failed ({short_error(exc)})", url=url
            ) from None
        except requests.exceptions.ConnectionError as exc:
            if has_timeout(exc):
                raise FetchTimeoutError(
                    f"{host} did not answer within {self.timeout[1]:g} s", url=url
                ) from None
            raise ConnectFailedError(
                f"could not connect to {host} ({short_error(exc)})", url=url
            ) from None
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.InvalidSchema,
            requests.exceptions.MissingSchema,
        ) as exc:
            raise BadURLError(f"this URL cannot be fetched ({short_error(exc)})", url=url) from None
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"fetching {url[:200]} failed ({short_error(exc)})", url=url) from None

    def _finish(
        self,
        response: requests.Response,
        url: str,
        history: tuple[str, ...],
        check_type: Callable[[str | None, bytes | None], str | None],
        limit: int,
        deadline: float,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        status = response.status_code
        hdrs = {k.lower(): v for k, v in response.headers.items()}
        common: dict[str, Any] = {
            "url": url,
            "status": status,
            "headers": hdrs,
            "redirects": history,
            "etag": hdrs.get("etag") or None,
            "last_modified": hdrs.get("last-modified") or None,
            "date": hdrs.get("date") or None,
        }
        if status == 304:
            response.close()
            common["etag"] = common["etag"] or etag
            common["last_modified"] = common["last_modified"] or last_modified
            return FetchResult(content=b"", content_type=None, not_modified=True, **common)
        if not 200 <= status < 300:
            response.close()
            raise HTTPStatusError(http_status_reason(status, hdrs, url), url=url, status=status)
        declared = hdrs.get("content-type")
        try:
            check_type(declared, None)  # refuse a wrong type before downloading anything
            length = hdrs.get("content-length", "").strip()
            if length.isdigit() and int(length) > limit:
                raise TooLargeError(
                    f"the file is {int(length):,} bytes, more than the {limit:,}-byte limit",
                    url=url,
                )
            content = self._read_body(response, url, limit, deadline)
        finally:
            response.close()
        content_type = check_type(declared, content)
        return FetchResult(content=content, content_type=content_type, not_modified=False, **common)

    def _read_body(
        self, response: requests.Response, url: str, limit: int, deadline: float
    ) -> bytes:
        raw = response.raw
        read = (
            raw.read1 if hasattr(raw, "read1") else raw.read
        )  # read1: return as soon as data arrives
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                if time.monotonic() > deadline:
                    raise FetchTimeoutError(
                        f"the download took longer than {self.total_timeout:g} s and was stopped",
                        url=url,
                    )
                chunk = read(_CHUNK, decode_content=True)
                if not chunk:
                    break
                total += len(chunk)
                if total > limit:
                    raise TooLargeError(
                        f"the download passed the {limit:,}-byte limit and was stopped", url=url
                    )
                chunks.append(chunk)
        except (U3TimeoutError, TimeoutError):
            raise FetchTimeoutError(
                f"the server stopped sending for more than {self.timeout[1]:g} s", url=url
            ) from None
        except DecodeError:
            raise BadResponseError(
                "the server sent content whose compression is broken", url=url
            ) from None
        except (ProtocolError, OSError) as exc:
            raise ConnectFailedError(
                f"the connection broke during the download ({short_error(exc)})", url=url
            ) from None
        return b"".join(chunks)
