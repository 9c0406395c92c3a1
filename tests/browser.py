"""Harness for the browser extension's end-to-end tests (tests/test_extension_*.py).

* `MarketServer`: a local HTTP server that plays AliExpress and its image CDN. Chromium
  maps the marketplace hosts to it with `--host-resolver-rules`, so the manifest's real
  match patterns (`*://*.aliexpress.com/*` ...) are exercised. Pages are the real fixtures
  from shared/fixtures/aliexpress/ with their CDN image URLs pointed at this server (the
  daemon normalises `ae01.alicdn.com` URLs to https, which it could not reach here), plus
  a rendered gallery, since the fixture's own scripts do not run (see `item_page`).
* `Daemon`: the real `picguard serve` as a subprocess on a free port.
* `launch_browser`: Debian's chromium with the unpacked extension, through Python playwright.
* Helpers to pair through the real options page, read the daemon's database read-only,
  and evaluate code in the content script's isolated world (through CDP).

Everything listens on and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import daemon_support
from tests.chromium import chromium_path, require_chromium
from tests.daemon_support import free_port  # noqa: F401 - re-exported for the tests

REPO = Path(__file__).resolve().parent.parent
EXTENSION = REPO / "extension"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = chromium_path() or Path("/usr/bin/chromium")
MARKET_DOMAINS = ("aliexpress.com", "aliexpress.us", "aliexpress.ru")
HOSTILE_DOMAIN = "evil.test"

# The real pages used to build the fake marketplace.
ITEM_2023 = "item_2023-12_runParams-components-is23_he_32995535623.html"
ITEM_2022 = "item_2022-12_runParams-modules_aliexpress-us_3256803382674519.html"
ITEM_2025 = "item_2025_csr-d_c_-DCData_de_1005008204179129.html"

_CDN_URL_RE = re.compile(
    r"(?:https?:)?//(?:ae0\d|ae-pic-a1)\.(?:alicdn|aliexpress-media)\.com/kf/"
    r"([A-Za-z0-9._-]+)((?:/[^\"'\s<>)]*)?)")


def wait_until(check: Callable[[], object], timeout: float, what: str,
               interval: float = 0.2) -> object:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_error = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}"
                                 + (f" (last error: {last_error!r})" if last_error else ""))
        time.sleep(interval)


# --------------------------------------------------------------------------- market server

@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class _DualServer(ThreadingHTTPServer):
    """HTTP, and HTTPS on the same port once it has a TLS context: each connection's first
    byte tells (0x16 opens a TLS handshake). Decided in the connection's own thread."""

    daemon_threads = True
    tls_context = None

    def finish_request(self, request, client_address) -> None:
        if self.tls_context is not None:
            try:
                request.settimeout(30)
                first = request.recv(1, socket.MSG_PEEK)
                if first == b"\x16":
                    request = self.tls_context.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except OSError:
                return
        self.RequestHandlerClass(request, client_address, self)


class MarketServer:
    """Plays AliExpress (any Host header) and its image CDN (`/kf/<id>/...`)."""

    def __init__(self) -> None:
        self.pages: dict[str, Route] = {}
        self.images: dict[str, bytes] = {}     # CDN id -> JPEG bytes
        self.log: list[tuple[str, str, str]] = []   # (host, path, user agent)
        # POST handlers by path: fn(host, path, query, headers, body) -> Route
        self.posts: dict[str, Callable[..., Route]] = {}
        self.tls_spki = ""   # set by start_tls
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                path = urlsplit(self.path).path
                with server._lock:
                    server.log.append((host, self.path, self.headers.get("User-Agent", "")))
                route = server._route(host, path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._answer(route)

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._lock:
                    server.log.append((host, self.path, self.headers.get("User-Agent", "")))
                handler = server.posts.get(parts.path)
                if handler is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self._answer(handler(host, parts.path, parts.query, self.headers, body))

            def _answer(self, route: Route) -> None:
                self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(route.body)

        self.httpd = _DualServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.cdn = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start_tls(self, cert_dir: Path) -> None:
        """Answer HTTPS too, on the same port (a throw-away self-signed certificate; the
        browser is told to accept it): the marketplaces' real addresses are https (store
        sweeps open them; Chromium reaches HSTS-preloaded hosts such as etsy.com only so)."""
        import ssl

        cert, key = cert_dir / "cert.pem", cert_dir / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=picguard-test-market", "-keyout", str(key), "-out",
                        str(cert)], check=True, capture_output=True, timeout=60)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.httpd.tls_context = context
        self.tls_spki = spki_sha256(cert)

    @property
    def tls(self) -> bool:
        return self.httpd.tls_context is not None

    def browser_args(self) -> list[str]:
        """Chromium flags so the browser trusts this server's throw-away certificate.

        Playwright's `ignore_https_errors` is applied per page, once it has attached to
        the tab; a tab the extension opens itself (a store sweep) may already have met
        the certificate and shown "Privacy error" by then (the first https tab lost that
        race about one run in three). Trusting the certificate's key from the start has
        no race, and trusts nothing else.
        """
        return [f"--ignore-certificate-errors-spki-list={self.tls_spki}"] if self.tls else []

    def _route(self, host: str, path: str) -> Route | None:
        if path.startswith("/kf/"):
            image_id = path[4:].split("/", 1)[0]
            image_id = re.sub(r"\.(?:jpe?g|png|webp)(?:_.*)?$", "", image_id)
            data = self.images.get(image_id)
            return Route(data, "image/jpeg") if data is not None else None
        return self.pages.get(f"{host}{path}") or self.pages.get(path)

    def start(self) -> MarketServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add_page(self, path: str, html: str, host: str = "", **headers: str) -> None:
        self.pages[f"{host}{path}"] = Route(html.encode("utf-8"), headers=headers)

    def add_json(self, path: str, obj: object) -> None:
        self.pages[path] = Route(json.dumps(obj).encode(), "application/json; charset=utf-8")

    def requests_for(self, needle: str) -> list[tuple[str, str, str]]:
        with self._lock:
            return [entry for entry in self.log if needle in entry[1]]

    def resolver_rules(self, extra_domains: tuple[str, ...] = ()) -> str:
        """Chromium's --host-resolver-rules: marketplace (and the hostile test site, and any
        `extra_domains`: other marketplaces) here, everything else unresolvable (no traffic
        leaves 127.0.0.1)."""
        domains = (*MARKET_DOMAINS, *extra_domains)
        maps = [f"MAP *.{d} 127.0.0.1:{self.port}" for d in (*domains, HOSTILE_DOMAIN)]
        maps += [f"MAP {d} 127.0.0.1:{self.port}" for d in domains]
        return ", ".join([*maps, "MAP * ~NOTFOUND", "EXCLUDE 127.0.0.1", "EXCLUDE localhost"])


def spki_sha256(cert_pem: Path) -> str:
    """Base64 SHA-256 of a certificate's public key (Chromium's SPKI pin format)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = x509.load_pem_x509_certificate(cert_pem.read_bytes()).public_key()
    spki = key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def jpeg(path: Path, quality: int = 90, scale: float = 1.0) -> bytes:
    """A re-encoded (optionally resized) JPEG of a photo: an 'edited copy'."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        if scale != 1.0:
            im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                           Image.LANCZOS)
        out = io.BytesIO()
        im.save(out, "JPEG", quality=quality)
        return out.getvalue()


def dated_photo(path: Path, dest: Path, taken: str = "2024:03:01 10:00:00") -> Path:
    """A copy of a catalog photo carrying the EXIF capture time a camera writes: the seller
    shot it long before any competitor's listing, so an alert can say `copied`."""
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        exif = Image.Exif()
        exif[0x0132] = taken                        # DateTime
        exif.get_ifd(0x8769)[0x9003] = taken        # DateTimeOriginal
        exif.get_ifd(0x8769)[0x9004] = taken        # DateTimeDigitized
        dest.parent.mkdir(parents=True, exist_ok=True)
        im.save(dest, "JPEG", quality=95, exif=exif)
    return dest


def gallery_urls(html: str) -> list[str]:
    """The URLs in the page's first `imagePathList` (the gallery), in order."""
    match = re.search(r'"imagePathList"\s*:\s*\[([^\]]*)\]', html)
    assert match, "the fixture has no imagePathList"
    return re.findall(r'"([^"]+)"', match.group(1))


def image_id(url: str) -> str:
    """The CDN id in an AliExpress image URL: `/kf/<id>[/<slug>].jpg_640x640.jpg` -> id."""
    match = re.search(r"/kf/([A-Za-z0-9._-]+)", url)
    assert match, f"not a CDN image URL: {url}"
    return re.sub(r"\.(?:jpe?g|png|webp)(?:_.*)?$", "", match.group(1))


def point_cdn_here(html: str, cdn: str) -> str:
    """Every AliExpress CDN image URL now points at the local CDN, suffixes kept."""
    return _CDN_URL_RE.sub(lambda m: f"{cdn}/kf/{m.group(1)}{m.group(2)}", html)


def item_page(fixture_html: str, cdn: str, nonce: str, extra_body: str = "") -> str:
    """A real fixture page as the browser would show it after rendering.

    The CDN URLs point at the local CDN, and the gallery the page's own (unavailable)
    scripts would render is added as plain <img> elements, with a click counter so tests
    can tell that marks do not swallow clicks. The page is served with a CSP that allows
    only scripts carrying `nonce`: the fixture's own scripts (which would try to reach the
    real AliExpress and may redirect) do not run; the data in them stays in the HTML.
    """
    html = point_cdn_here(fixture_html, cdn)
    imgs = "\n".join(
        f'<a href="#img{i}" class="pg-test-thumb" style="display:inline-block;margin:4px">'
        f'<img id="pg-gallery-{i}" src="{url}_640x640.jpg" width="300" '
        f'height="300" alt="" style="object-fit:cover;display:block"></a>'
        for i, url in enumerate(gallery_urls(html)))
    gallery = (
        '<div id="pg-test-gallery" style="position:relative;padding:8px;background:#fff">'
        f"{imgs}</div>"
        f'<script nonce="{nonce}">window.__clicks = [];'
        "document.getElementById('pg-test-gallery').addEventListener('click', e => {"
        " e.preventDefault(); window.__clicks.push(e.target.id); });</script>"
        f"{extra_body}")
    return re.sub(r"<body([^>]*)>", lambda m: f"<body{m.group(1)}>{gallery}", html, count=1)


def csp(nonce: str) -> dict[str, str]:
    return {"Content-Security-Policy": f"script-src 'nonce-{nonce}'"}


# --------------------------------------------------------------------------- the daemon

class Daemon(daemon_support.Daemon):
    """The real daemon (tests/daemon_support.py), allowed to fetch from this machine's
    fake marketplace, plus what the extension tests ask of it."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        super().__init__(data_dir, port, env={"PICGUARD_ALLOW_PRIVATE_HOSTS": "1",
                                              "PYTHONUNBUFFERED": "1"})

    def cli(self, *args: str, timeout: float = 120) -> str:
        return daemon_support.picguard(*args, data_dir=self.data_dir, env=self.env,
                                       timeout=timeout).stdout

    def configure_fast(self) -> None:
        for key in ("fetch_interval_s", "match_interval_s", "notify_interval_s"):
            self.cli("config", "set", key, "2")

    def start(self, timeout: float = 40) -> Daemon:
        super().start(timeout)
        return self

    def api(self, method: str, path: str, body: object = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/api/v1/{path}", data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            return json.load(r)

    def db(self, sql: str, params: tuple = ()) -> list[dict]:
        """Read the daemon's database (read-only) to check what it stored."""
        conn = sqlite3.connect(f"file:{self.data_dir / 'picguard.sqlite3'}?mode=ro", uri=True,
                               timeout=5)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in conn.execute(sql, params)]
        finally:
            conn.close()


# --------------------------------------------------------------------------- the browser

@dataclass
class Browser:
    context: object
    worker: object
    ext_id: str
    profile: Path

    def ext_url(self, path: str) -> str:
        return f"chrome-extension://{self.ext_id}/{path}"

    def sw(self, expression: str, arg: object = None):
        """Evaluate in the extension's service worker (re-found if it was restarted)."""
        workers = [w for w in self.context.service_workers if self.ext_id in w.url]
        if workers:
            self.worker = workers[0]
        return self.worker.evaluate(expression, arg)

    def badge(self) -> str:
        return self.sw("chrome.action.getBadgeText({})")

    def notifications(self) -> dict:
        return self.sw("chrome.notifications.getAll()")

    def queue(self) -> dict:
        return self.sw("globalThis.picguard.queueSummary()")


def launch_browser(playwright, profile: Path, market: MarketServer,
                   lang: str | None = None, *, display: str | None = None,
                   extra_domains: tuple[str, ...] = ()) -> Browser:
    """Chromium with the unpacked extension. With `display` (an X display, see `xvfb`) it
    runs headed there, so the browser's own permission prompts can be answered."""
    args = [f"--disable-extensions-except={EXTENSION}", f"--load-extension={EXTENSION}",
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync",
            "--disable-quic", "--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable",
            f"--host-resolver-rules={market.resolver_rules(extra_domains)}",
            *market.browser_args()]
    env = dict(os.environ)
    if display:
        env["DISPLAY"] = display
        args.append("--window-size=1280,900")
    if lang:
        args.append(f"--lang={lang}")
        env["LANGUAGE"] = lang.replace("-", "_")
    context = playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=display is None, args=args,
        env=env, viewport={"width": 1280, "height": 900},
        ignore_https_errors=market.tls)
    worker = (context.service_workers[0] if context.service_workers
              else context.wait_for_event("serviceworker", timeout=15000))
    ext_id = urlsplit(worker.url).hostname
    # On install, unpaired, the extension opens its options page by itself: wait for it so
    # that it does not take over a tab the test opens next.
    wait_until(lambda: worker.evaluate(
        "chrome.tabs.query({}).then(tabs => tabs.some(t => t.url === "
        "chrome.runtime.getURL('options/options.html')))"), 15,
        "the options page opened on install")
    return Browser(context, worker, ext_id, profile)


def pair(browser: Browser, daemon: Daemon, token: str | None = None) -> object:
    """Pair through the real options page: type the address and token, Save, and wait
    for the connected result."""
    page = browser.context.new_page()
    page.goto(browser.ext_url("options/options.html"))
    page.wait_for_selector("body[data-ready=true]", timeout=10000)
    page.fill("#daemon-url", daemon.url)
    page.fill("#token", token or daemon.token)
    page.click("#save")
    page.wait_for_selector("#result[data-state=connected]", timeout=15000)
    return page


def isolated_world_eval(page, expression: str, timeout: float = 5):
    """Evaluate `expression` in PicGuard's content-script world of `page` (through CDP).

    This stands for a compromised content script / renderer: whatever it can make the
    background do, a hostile page that took over the renderer could too.
    """
    session = page.context.new_cdp_session(page)
    contexts: list[dict] = []
    session.on("Runtime.executionContextCreated", lambda e: contexts.append(e["context"]))
    session.send("Runtime.enable")

    def ours() -> list[dict]:
        # The extension's isolated world: named after the (localised) extension, with the
        # extension's origin; never the page's default world.
        return [c for c in contexts if not c.get("auxData", {}).get("isDefault", True)
                and str(c.get("origin", "")).startswith("chrome-extension://")
                and str(c.get("name", "")).startswith("PicGuard")]

    try:
        ctx = wait_until(ours, timeout, "the content script's world")[-1]
        result = session.send("Runtime.evaluate", {
            "expression": expression, "contextId": ctx["id"], "awaitPromise": True,
            "returnByValue": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"isolated-world evaluation failed: {result['exceptionDetails']}")
        return result["result"].get("value")
    finally:
        session.detach()


def stop_service_worker(browser: Browser) -> None:
    """Stop the extension's worker the way the browser's idle suspension does, using
    chrome://serviceworker-internals (the one place that stops an extension worker)."""
    page = browser.context.new_page()
    try:
        page.goto("chrome://serviceworker-internals/")
        page.get_by_role("button", name="Stop").first.click(timeout=10000)
    finally:
        page.close()


class XDisplay:
    """A private X server (Xvfb) for a headed Chromium, and the seller's keyboard on it
    (xdotool): the browser's own permission prompt is answered the way a seller would."""

    def __init__(self) -> None:
        for tool in ("Xvfb", "xdotool"):
            if shutil.which(tool) is None:
                pytest.skip(f"{tool} is not installed (apt install xvfb xdotool): the browser's "
                            "permission prompt needs a display and a keyboard")
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", "1400x1000x24", "-nolisten", "tcp"],
            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        if not number:
            self.proc.kill()
            raise AssertionError("Xvfb did not report its display")
        self.name = f":{number}"

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=20,
                              env={**os.environ, "DISPLAY": self.name})
        return done.stdout

    def answer_prompt(self, allow: bool, answered: Callable[[], object],
                      timeout: float = 20) -> None:
        """Answer the browser's permission prompt with the keyboard: its default button is
        Deny (Return); Tab moves to Allow. The prompt is drawn inside the browser window (no
        window of its own to wait for), so the keys are sent again until `answered()` says
        the extension got the answer; before the prompt is up they land on the options
        page's checkboxes, where Tab and Return change nothing."""
        deadline = time.monotonic() + timeout
        while True:
            windows = self.xdotool("search", "--onlyvisible", "--name", "Chromium").split()
            if windows:
                self.xdotool("windowfocus", "--sync", windows[-1])
                self.xdotool("key", *(["Tab", "Return"] if allow else ["Return"]))
            try:
                wait_until(answered, 1.5, "the prompt's answer", interval=0.1)
                return
            except AssertionError:
                if time.monotonic() > deadline:
                    raise AssertionError("the permission prompt was not answered") from None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)
    return path


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def playwright_session():
    require_chromium()
    from playwright import sync_api
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def xvfb():
    display = XDisplay()
    yield display
    display.stop()


@pytest.fixture(scope="module")
def fake_market():
    server = MarketServer().start()
    yield server
    server.stop()


def new_nonce() -> str:
    return secrets.token_urlsafe(12)

