"""scraper.fetch against a real HTTP server on 127.0.0.1 (nothing else is ever contacted).

Addresses that must be refused (10.x, 169.254.169.254, ...) are refused by the
guard before any connection; the tests record every socket connect to prove it.
"""

from __future__ import annotations

import contextlib
import gzip
import http.server
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from email.utils import formatdate
from urllib.parse import parse_qs, urlsplit

import pytest

from scraper.fetch import (
    BadContentTypeError,
    BadSchemeError,
    BadURLError,
    BlockedAddressError,
    DNSError,
    Fetcher,
    FetchError,
    FetchTimeoutError,
    HTTPStatusError,
    TooLargeError,
    TooManyRedirectsError,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 500
LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)


class Recorder:
    """What the server saw: hits per path, request headers, arrival times, concurrency."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.arrivals: list[float] = []
        self.active = 0
        self.max_active = 0


class Handler(http.server.BaseHTTPRequestHandler):
    server: TestServer

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def send(
        self, status: int, body: bytes = b"", ctype: str | None = "image/png", **headers: str
    ) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        named = {name.replace("_", "-"): value for name, value in headers.items()}
        named.setdefault("Content-Length", str(len(body)))
        for name, value in named.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: C901 - one branch per test route
        rec = self.server.rec
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        with rec.lock:
            rec.hits[path] += 1
            hit = rec.hits[path]
            rec.headers.append({k.lower(): v for k, v in self.headers.items()})
            rec.arrivals.append(time.monotonic())
        # the fetcher hangs up on purpose at the size cap or a timeout
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.route(path, query, hit)

    def route(self, path: str, query: dict[str, list[str]], hit: int) -> None:
        rec = self.server.rec
        if path == "/img.png":
            if (
                self.headers.get("If-None-Match") == '"v1"'
                or self.headers.get("If-Modified-Since") == LAST_MODIFIED
            ):
                self.send(304, ctype=None, ETag='"v1"', Content_Length="0")
                return
            self.send(200, PNG, ETag='"v1"', Last_Modified=LAST_MODIFIED)
        elif path == "/redirect":
            self.send(302, ctype=None, Location=query["to"][0])
        elif path.startswith("/chain/"):
            left = int(path.rsplit("/", 1)[1])
            target = f"/chain/{left - 1}" if left > 0 else query.get("to", ["/img.png"])[0]
            suffix = "?" + urlsplit(self.path).query if left > 0 and query else ""
            self.send(302, ctype=None, Location=target + suffix)
        elif path == "/loop":
            self.send(302, ctype=None, Location="/loop")
        elif path == "/big-declared":
            self.send(200, PNG[:10], Content_Length=str(50_000_000))
        elif path == "/big-stream":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()  # no Content-Length: the body ends when the server closes
            self.wfile.write(PNG[:8])
            for _ in range(200):
                self.wfile.write(b"\x00" * 65536)
        elif path == "/gzip-bomb":
            body = gzip.compress(PNG[:8] + b"\x00" * 8_000_000)
            self.send(200, body, Content_Encoding="gzip")
        elif path == "/slow":
            time.sleep(2.0)
            self.send(200, PNG)
        elif path == "/drip":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                self.wfile.write(b"\x00")
                self.wfile.flush()
                time.sleep(0.05)
        elif path == "/429":
            if hit == 1:
                self.send(429, b"slow down", "text/plain", Retry_After="1")
            else:
                self.send(200, PNG)
        elif path == "/429-long":
            self.send(429, b"slow down", "text/plain", Retry_After="3600")
        elif path == "/503":
            if hit <= 2:
                self.send(503, b"busy", "text/plain")
            else:
                self.send(200, PNG)
        elif path == "/500":
            self.send(500, b"broken", "text/plain")
        elif path == "/404":
            self.send(404, b"gone", "text/html")
        elif path == "/html":
            self.send(200, b"<html><body>a page</body></html>", "text/html; charset=utf-8")
        elif path == "/svg":
            self.send(200, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")
        elif path == "/octet-jpeg":
            self.send(200, JPEG, "application/octet-stream")
        elif path == "/octet-text":
            self.send(200, b"hello world", "application/octet-stream")
        elif path == "/fake-image":
            self.send(200, b"<html><body>captcha</body></html>", "image/jpeg")
        elif path == "/page":
            self.send(
                200, "<html><p>Grüße</p></html>".encode(), "text/html; charset=utf-8", ETag='"p1"'
            )
        elif path == "/cookie":
            self.send(200, PNG, Set_Cookie="session=tracking; Path=/")
        elif path == "/busy":
            with rec.lock:
                rec.active += 1
                rec.max_active = max(rec.max_active, rec.active)
            time.sleep(0.25)
            with rec.lock:
                rec.active -= 1
            self.send(200, PNG)
        else:
            self.send(404, b"no such route", "text/plain")


class TestServer(http.server.ThreadingHTTPServer):
    __test__ = False  # not a pytest test class
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64  # many fetcher threads connect at once

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.rec = Recorder()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up mid-body is expected here

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture()
def server() -> Iterator[TestServer]:
    srv = TestServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture()
def connects(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every address any socket in this process tries to connect to."""
    seen: list[object] = []
    real = socket.socket.connect

    def recording_connect(self: socket.socket, address: object) -> None:
        seen.append(address)
        real(self, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    return seen


def make(**kw: object) -> Fetcher:
    """A fetcher that may reach this test's 127.0.0.1 server and nothing private else."""
    options: dict[str, object] = {
        "allowed_hosts": {"127.0.0.1"},
        "allow_private": False,
        "per_host_interval": 0,
        "timeout": (2.0, 2.0),
        "backoff_factor": 0.01,
    }
    options.update(kw)
    return Fetcher(**options)  # type: ignore[arg-type]


def only_loopback(addresses: list[object]) -> bool:
    return all(isinstance(a, tuple) and a[0] == "127.0.0.1" for a in addresses)


# --- the happy path, conditional GET, headers ---------------------------------------------------


def test_image_fetch_and_etag_round_trip(server: TestServer) -> None:
    with make() as fetcher:
        first = fetcher.fetch_image(server.url("/img.png"))
        assert (first.status, first.content, first.content_type) == (200, PNG, "image/png")
        assert (first.etag, first.last_modified, first.not_modified) == (
            '"v1"',
            LAST_MODIFIED,
            False,
        )
        assert first.date and first.date.endswith("GMT")
        assert first.headers["etag"] == '"v1"'
        assert first.url == server.url("/img.png") and first.redirects == ()

        again = fetcher.fetch_image(server.url("/img.png"), etag=first.etag)
        assert (again.status, again.not_modified, again.content, again.etag) == (
            304,
            True,
            b"",
            '"v1"',
        )
        assert server.rec.headers[-1]["if-none-match"] == '"v1"'

        by_date = fetcher.fetch_image(server.url("/img.png"), last_modified=first.last_modified)
        assert (by_date.status, by_date.not_modified, by_date.last_modified) == (
            304,
            True,
            LAST_MODIFIED,
        )
        assert server.rec.headers[-1]["if-modified-since"] == LAST_MODIFIED


def test_honest_user_agent_and_no_cookies(server: TestServer) -> None:
    with make() as fetcher:
        fetcher.fetch_image(server.url("/cookie"))
        fetcher.fetch_image(server.url("/img.png"))
    first, second = server.rec.headers
    assert first["user-agent"].startswith("PicGuard/0.1.0 (")
    assert "image/" in first["accept"]
    assert "cookie" not in second  # the cookie the server set is never sent back


def test_page_fetch_and_text(server: TestServer) -> None:
    with make() as fetcher:
        page = fetcher.fetch_page(server.url("/page"))
        assert page.content_type == "text/html"
        assert page.text() == "<html><p>Grüße</p></html>"
        assert page.etag == '"p1"'
        with pytest.raises(BadContentTypeError):
            fetcher.fetch_page(server.url("/img.png"))


# --- SSRF guard -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://10.0.0.5/admin",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://[fc00::1]/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[::ffff:127.0.0.1]:8765/api/v1/status",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_redirect_into_a_forbidden_address_is_refused_before_connecting(
    server: TestServer, connects: list[object], target: str
) -> None:
    with make() as fetcher, pytest.raises(BlockedAddressError) as info:
        fetcher.fetch_image(server.url("/chain/2?to=") + target)
    err = info.value
    assert err.code == "blocked_address"
    assert "redirected to a refused URL" in err.reason and "never fetches" in err.reason
    assert (
        server.rec.hits["/chain/2"]
        == server.rec.hits["/chain/1"]
        == server.rec.hits["/chain/0"]
        == 1
    )
    assert connects and only_loopback(connects)  # three hops to 127.0.0.1, nothing else


def test_loopback_under_another_name_is_not_on_the_allowlist(
    server: TestServer, connects: list[object]
) -> None:
    port = server.server_address[1]
    with make() as fetcher:
        for alias in (f"http://localhost:{port}/img.png", f"http://2130706433:{port}/img.png"):
            with pytest.raises(BlockedAddressError, match="loopback"):
                fetcher.fetch_image(alias)
    assert connects == []


def test_without_the_switch_loopback_is_refused(
    server: TestServer, connects: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PICGUARD_ALLOW_PRIVATE_HOSTS", raising=False)
    with Fetcher(per_host_interval=0) as fetcher, pytest.raises(BlockedAddressError) as info:
        fetcher.fetch_image(server.url("/img.png"))
    assert "PICGUARD_ALLOW_PRIVATE_HOSTS=1" in info.value.reason
    assert connects == []


def test_env_switch_admits_loopback_but_never_metadata(
    server: TestServer, connects: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PICGUARD_ALLOW_PRIVATE_HOSTS", "1")
    with Fetcher(per_host_interval=0) as fetcher:
        assert fetcher.fetch_image(server.url("/img.png")).status == 200
        with pytest.raises(BlockedAddressError, match="metadata"):
            fetcher.fetch_image(server.url("/redirect?to=http://169.254.169.254/latest/meta-data/"))
        with pytest.raises(BlockedAddressError, match="IPv4-mapped"):
            fetcher.fetch_image("http://[::ffff:10.0.0.1]/x.png")
    assert only_loopback(connects)


def test_dns_rebinding_is_caught_at_connect_time(
    server: TestServer, connects: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first lookup says public, the lookup made when connecting says 127.0.0.1."""
    port = server.server_address[1]
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14", "127.0.0.1", "127.0.0.1"])

    def fake_getaddrinfo(host: str, *args: object, **kwargs: object) -> list[tuple]:
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with make() as fetcher, pytest.raises(BlockedAddressError, match="rebind.example"):
        fetcher.fetch_image(f"http://rebind.example:{port}/img.png")
    assert connects == []  # neither the "public" nor the loopback address was contacted
    assert server.rec.hits["/img.png"] == 0


def test_a_host_with_one_private_address_is_refused_whole(
    connects: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with make() as fetcher, pytest.raises(BlockedAddressError, match="10.1.2.3"):
        fetcher.fetch_image("http://mixed.example/a.jpg")
    assert connects == []


def test_dns_failure_is_typed(connects: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(*args: object, **kwargs: object) -> list[tuple]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with make() as fetcher, pytest.raises(DNSError) as info:
        fetcher.fetch_image("https://no-such-shop.example/a.jpg")
    assert info.value.code == "dns" and "could not find the server" in info.value.reason
    assert connects == []


@pytest.mark.parametrize(
    ("url", "error", "code"),
    [
        ("", BadURLError, "bad_url"),
        ("javascript:alert(1)", BadSchemeError, "bad_scheme"),
        ("file:///etc/passwd", BadSchemeError, "bad_scheme"),
        ("ftp://127.0.0.1/a.png", BadSchemeError, "bad_scheme"),
        ("http:///no-host.png", BadURLError, "bad_url"),
        ("http://127.0.0.1:notaport/a.png", BadURLError, "bad_url"),
        ("http://user:secret@127.0.0.1/a.png", BadURLError, "bad_url"),
    ],
)
def test_bad_urls_are_typed_errors(
    connects: list[object], url: str, error: type[FetchError], code: str
) -> None:
    with make() as fetcher, pytest.raises(error) as info:
        fetcher.fetch_image(url)
    assert info.value.code == code and info.value.reason
    assert connects == []


def test_redirect_to_another_scheme_is_refused(server: TestServer) -> None:
    with make() as fetcher, pytest.raises(BadSchemeError, match="redirected"):
        fetcher.fetch_image(server.url("/redirect?to=file:///etc/passwd"))


def test_too_many_redirects(server: TestServer) -> None:
    with make(max_redirects=3) as fetcher, pytest.raises(TooManyRedirectsError) as info:
        fetcher.fetch_image(server.url("/loop"))
    assert info.value.code == "too_many_redirects"
    assert server.rec.hits["/loop"] == 4


def test_redirects_within_the_limit_are_followed(server: TestServer) -> None:
    with make(max_redirects=3) as fetcher:
        result = fetcher.fetch_image(server.url("/chain/2"))
    assert result.url == server.url("/img.png")
    assert result.redirects == (
        server.url("/chain/2"),
        server.url("/chain/1"),
        server.url("/chain/0"),
    )


# --- size, time, type ---------------------------------------------------------------------------


def test_declared_oversize_is_refused_before_download(server: TestServer) -> None:
    with make(max_bytes=1_000_000) as fetcher, pytest.raises(TooLargeError) as info:
        fetcher.fetch_image(server.url("/big-declared"))
    assert info.value.code == "too_large"
    assert "50,000,000 bytes" in info.value.reason and "1,000,000-byte limit" in info.value.reason


def test_oversized_stream_is_cut_at_the_cap(server: TestServer) -> None:
    with (
        make(max_bytes=300_000) as fetcher,
        pytest.raises(TooLargeError, match="300,000-byte limit"),
    ):
        fetcher.fetch_image(server.url("/big-stream"))
    # per-call cap
    with make() as fetcher, pytest.raises(TooLargeError):
        fetcher.fetch_image(server.url("/img.png"), max_bytes=100)


def test_compression_bomb_is_cut_on_decoded_bytes(server: TestServer) -> None:
    with make(max_bytes=1_000_000) as fetcher, pytest.raises(TooLargeError):
        fetcher.fetch_image(server.url("/gzip-bomb"))


def test_slow_server_times_out(server: TestServer) -> None:
    with make(timeout=(1.0, 0.4), retries=0) as fetcher, pytest.raises(FetchTimeoutError) as info:
        fetcher.fetch_image(server.url("/slow"))
    assert info.value.code == "timeout" and "did not answer within 0.4 s" in info.value.reason


def test_dripping_server_hits_the_total_deadline(server: TestServer) -> None:
    with (
        make(total_timeout=0.6) as fetcher,
        pytest.raises(FetchTimeoutError, match="longer than 0.6 s"),
    ):
        fetcher.fetch_image(server.url("/drip"))


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("/html", "expected an image but the server sent text/html"),
        ("/svg", "SVG is not fetched"),
        ("/octet-text", "not an image"),
        ("/fake-image", "sent a web page or text"),
    ],
)
def test_wrong_content_type_is_refused(server: TestServer, path: str, match: str) -> None:
    with make() as fetcher, pytest.raises(BadContentTypeError, match=match) as info:
        fetcher.fetch_image(server.url(path))
    assert info.value.code == "bad_content_type"


def test_unlabelled_image_bytes_are_identified(server: TestServer) -> None:
    with make() as fetcher:
        result = fetcher.fetch_image(server.url("/octet-jpeg"))
    assert (result.content_type, result.content) == ("image/jpeg", JPEG)


# --- retries and status errors ------------------------------------------------------------


def test_429_with_retry_after_is_retried_after_waiting(server: TestServer) -> None:
    with make() as fetcher:
        result = fetcher.fetch_image(server.url("/429"))
    assert result.status == 200 and result.content == PNG
    assert server.rec.hits["/429"] == 2
    gap = server.rec.arrivals[1] - server.rec.arrivals[0]
    assert gap >= 0.95  # Retry-After: 1 was honoured


def test_429_asking_for_an_hour_is_not_waited_for(server: TestServer) -> None:
    with make() as fetcher, pytest.raises(HTTPStatusError) as info:
        fetcher.fetch_image(server.url("/429-long"))
    assert (info.value.code, info.value.status) == ("http_status", 429)
    assert "too many requests" in info.value.reason and "3600" in info.value.reason
    assert server.rec.hits["/429-long"] == 1


def test_5xx_is_retried_with_backoff(server: TestServer) -> None:
    with make() as fetcher:
        assert fetcher.fetch_image(server.url("/503")).status == 200
    assert server.rec.hits["/503"] == 3
    with make(retries=2) as fetcher, pytest.raises(HTTPStatusError) as info:
        fetcher.fetch_image(server.url("/500"))
    assert info.value.status == 500 and "kept failing" in info.value.reason
    assert server.rec.hits["/500"] == 3


def test_404_is_a_status_error_without_retry(server: TestServer) -> None:
    with make() as fetcher, pytest.raises(HTTPStatusError, match="does not exist") as info:
        fetcher.fetch_image(server.url("/404"))
    assert info.value.status == 404 and server.rec.hits["/404"] == 1


# --- politeness and threads ---------------------------------------------------------------


def test_per_host_rate_limit(server: TestServer) -> None:
    with make(per_host_interval=0.3) as fetcher:
        for _ in range(3):
            fetcher.fetch_image(server.url("/img.png"))
    arrivals = server.rec.arrivals
    assert all(b - a >= 0.28 for a, b in zip(arrivals, arrivals[1:], strict=False))


def test_parallel_requests_are_bounded_and_thread_safe(server: TestServer) -> None:
    with make(max_parallel=2) as fetcher, ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: fetcher.fetch_image(server.url("/busy")), range(6)))
    assert [r.status for r in results] == [200] * 6
    assert server.rec.max_active == 2


def test_many_threads_share_one_fetcher(server: TestServer) -> None:
    with make(max_parallel=8) as fetcher, ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: fetcher.fetch_image(server.url(f"/img.png?i={i}")), range(24))
        )
    assert all(r.content == PNG for r in results)
    assert server.rec.hits["/img.png"] == 24


def test_errors_carry_plain_words_and_a_dict(server: TestServer) -> None:
    with make() as fetcher, pytest.raises(FetchError) as info:
        fetcher.fetch_image(server.url("/404"))
    data = info.value.to_dict()
    assert (
        data["code"] == "http_status"
        and data["status"] == 404
        and str(info.value) == data["reason"]
    )
