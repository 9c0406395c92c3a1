"""End-to-end: "find copies of my photos" (issue 13) with the extension in Debian's chromium,
the real daemon, and a local stand-in for AliExpress's search by image.

The seller turns image search on in the options page (the consent), opens AliExpress once
(their own session) and starts the sweep from the popup. For each catalog photo the
extension fetches the JPEG from the daemon, uploads it through the stand-in's mtop upload
(token handshake and MD5 signature as the real one), opens the results page for the file
id and pushes it. Three of the sixty result cards show edited copies of catalog photos
(tests/edits.py) from a local CDN: exactly those three alerts appear, each found by image
search. Then a captcha answers the results page: the sweep is reported blocked, the daemon
pauses image sweeps and the popup says so.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import re
import threading
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote_plus

import pytest

pytest.register_assert_rewrite("browser")

from browser import (  # noqa: E402
    Daemon,
    Route,
    csp,
    dated_photo,
    image_id,
    isolated_world_eval,
    launch_browser,
    new_nonce,
    pair,
    point_cdn_here,
    screenshot,
    wait_until,
)

pytest_plugins = ["browser"]   # fixtures: playwright_session, fake_market
pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOME = "http://www.aliexpress.com/"
SEARCH_URL = "http://www.aliexpress.com/w/wholesale-shorts.html?SearchText=shorts"
UPLOAD_PATH = "/h5/mtop.relationrecommend.aliexpressrecommend.recommend/1.0/"
APP_KEY = "24815441"
COPY_CARDS = (7, 23, 41)   # the result cards that show edited copies of catalog photos
H5_TOKEN = "5f1e2d3c4b5a69788796a5b4c3d2e1f0"


def photos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".webp"})


def edited(path: Path, how: int) -> bytes:
    """An edited copy of a catalog photo, as copiers make them (tests/edits.py)."""
    from PIL import Image, ImageOps

    from tests import edits

    with Image.open(path) as im:
        im = ImageOps.exif_transpose(im).convert("RGB")
        rng = random.Random(how)
        edit = [edits.watermark, edits.border(0.05), edits.resize(0.6)][how]
        out = edit(im, rng, [])
        return out if isinstance(out, bytes) else edits.encode(out, quality=80)


def plain_jpeg(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        im.thumbnail((600, 600))
        out = io.BytesIO()
        im.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue()


def results_page(cards: list[dict], nonce: str) -> str:
    """A search-by-image results page in the live shape: the `_init_data_` object between
    the init-data comments, and the rendered cards."""
    data = {"data": {"root": {"fields": {
        "mods": {"itemList": {"content": cards}},
        "pageInfo": {"page": 1, "pageSize": 60, "totalResults": len(cards)}}}}}
    rendered = "\n".join(
        f'<a class="search-card-item" href="//www.aliexpress.com/item/{c["productId"]}.html">'
        f'<img src="{c["image"]["imgUrl"]}" width="220" height="220" alt=""></a>' for c in cards)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Search by image</title>"
            f"</head><body><div id='root'>{rendered}</div><script nonce='{nonce}'>\n"
            "/*!-->init-data-start--*/\nwindow._dida_config_._init_data_ = "
            f"{json.dumps(data)};\n/*!-->init-data-end--*/\n</script></body></html>")


class ImageSearchStandIn:
    """The mtop upload: the first call of a session hands out the `_m_h5_tk` cookie
    (FAIL_SYS_TOKEN_EMPTY), a signed call answers a file id. Records what was uploaded."""

    def __init__(self) -> None:
        self.uploads: list[bytes] = []
        self.handshakes = 0
        self.bad_signatures = 0
        self._lock = threading.Lock()

    def __call__(self, host, path, query, headers, body) -> Route:
        cors = {"Access-Control-Allow-Origin": headers.get("Origin") or "*",
                "Access-Control-Allow-Credentials": "true"}
        q = {k: v[0] for k, v in parse_qs(query).items()}
        data = unquote_plus(body.decode()[len("data="):])
        cookie = headers.get("Cookie") or ""
        if f"_m_h5_tk={H5_TOKEN}_" not in cookie:
            with self._lock:
                self.handshakes += 1
            return Route(json.dumps({"ret": ["FAIL_SYS_TOKEN_EMPTY::令牌为空"]}).encode(),
                         "application/json", {**cors, "Set-Cookie":
                                              f"_m_h5_tk={H5_TOKEN}_1900000000000; Path=/; "
                                              "Domain=aliexpress.com"})
        sign = hashlib.md5(f"{H5_TOKEN}&{q.get('t')}&{APP_KEY}&{data}".encode()).hexdigest()  # noqa: S324 - the marketplace's signature
        if q.get("sign") != sign or q.get("appKey") != APP_KEY:
            with self._lock:
                self.bad_signatures += 1
            return Route(json.dumps({"ret": ["FAIL_SYS_ILLEGAL_SIGN::非法签名"]}).encode(),
                         "application/json", cors)
        params = json.loads(json.loads(data)["params"])
        jpeg = base64.b64decode(params["image_base64"])
        with self._lock:
            self.uploads.append(jpeg)
            n = len(self.uploads)
        return Route(json.dumps({"ret": ["SUCCESS::调用成功"], "data": {
            "fileId": f"OSS/ae-image-search-sg2/2026-11-29/picguard-test-{n}.jpg"}}).encode(),
            "application/json", cors)


@pytest.fixture(scope="module")
def shop(tmp_path_factory, photos_dir, shared_dir, fake_market):
    market = fake_market
    market.start_tls(tmp_path_factory.mktemp("tls"))   # store sweeps open https addresses
    search_fixtures = shared_dir / "fixtures" / "aliexpress-search"
    catalog_dir = tmp_path_factory.mktemp("catalog")
    clothing = photos_dir / "clothing"
    mine = [dated_photo(photos(clothing / kind)[0], catalog_dir / f"{kind}.jpg")
            for kind in ("dress", "shirt", "skirt")]
    unrelated = photos(photos_dir / "appliances")

    # Real 2024 search results (60 cards), their CDN pointed at the local server.
    text = (search_fixtures / "searchShorts.js").read_text(encoding="utf-8")
    content, _ = json.JSONDecoder().raw_decode(text[text.index("=") + 1:].strip())
    cards = json.loads(point_cdn_here(json.dumps(content["content"]), market.cdn))
    assert len(cards) == 60
    copies = {}
    for n, card in enumerate(cards):
        card.pop("images", None)   # the main image is what copiers take; keeps the test quick
        key = image_id(card["image"]["imgUrl"])
        if n in COPY_CARDS:
            which = COPY_CARDS.index(n)
            market.images[key] = edited(mine[which], which)
            copies[str(card["productId"])] = mine[which].name
        else:
            market.images[key] = plain_jpeg(unrelated[n % len(unrelated)])
    nonce = new_nonce()
    page = results_page(cards, nonce)
    # A store that copied gets its whole product list swept (issue 13 item 4): the stand-in
    # store lists show that store's card.
    for n in COPY_CARDS:
        market.add_page(f"/store/{cards[n]['store']['storeId']}/pages/all-items.html",
                        results_page([cards[n]], nonce), host="www.aliexpress.com", **csp(nonce))
    market.add_page("/", "<!DOCTYPE html><html><head><title>AliExpress</title></head>"
                    "<body><h1>AliExpress</h1></body></html>", host="www.aliexpress.com")
    market.add_page("/w/wholesale-.html", page, host="www.aliexpress.com", **csp(nonce))
    standin = ImageSearchStandIn()
    market.posts[UPLOAD_PATH] = standin
    # A results page the seller browses: the first 30 cards in the page, the next 30 from
    # the page's own search-pc request (scrolling).
    market.add_page("/w/wholesale-shorts.html", results_page(cards[:30], nonce),
                    host="www.aliexpress.com", **csp(nonce))
    more = json.dumps({"data": {"data": {"root": {"fields": {"mods": {"itemList": {
        "content": cards[30:]}}}}}}}).encode()
    market.posts["/fn/search-pc/index"] = lambda *_: Route(more, "application/json")

    data_dir = tmp_path_factory.mktemp("sweeps") / "data"
    data_dir.mkdir()
    daemon = Daemon(data_dir)
    daemon.configure_fast()
    daemon.cli("catalog", "add", *map(str, mine))
    daemon.start()
    # The seller's budget for this shop: a request a second (the default is one every 20 s).
    daemon.api("POST", "settings/discovery", {"min_interval_s": 1})
    yield SimpleNamespace(daemon=daemon, market=market, mine=mine, copies=copies, nonce=nonce,
                          copy_cards=[cards[n] for n in COPY_CARDS],
                          standin=standin, results=page, tmp=data_dir.parent,
                          captcha=(search_fixtures / "NEGATIVE_hendkai_aliexpress_search_"
                                   "captcha-punish-page.html").read_text(encoding="utf-8"))
    daemon.stop()


def settled(daemon: Daemon) -> bool:
    """Every image the daemon knows was fetched (and matched) or failed."""
    rows = daemon.db("SELECT status, matched_at FROM images")
    return bool(rows) and all(r["status"] == "failed" or (r["status"] == "fetched"
                                                          and r["matched_at"]) for r in rows)


def tasks_of(daemon: Daemon, kind: str) -> list[dict]:
    return [t for sweep in daemon.api("GET", "sweeps")["sweeps"] for t in sweep.get("tasks", [])
            if t["kind"] == kind]


def open_popup(browser):
    popup = browser.context.new_page()
    popup.set_viewport_size({"width": 380, "height": 600})
    popup.goto(browser.ext_url("popup/popup.html"))
    popup.wait_for_selector("body[data-loaded=true]", timeout=15000)
    return popup


def test_find_copies_by_image_search_then_a_captcha_pauses(shop, playwright_session):
    daemon = shop.daemon
    browser = launch_browser(playwright_session, shop.tmp / "profile", shop.market)
    try:
        browser.sw("chrome.storage.local.set({pollSeconds: 1})")
        options = pair(browser, daemon)

        # 1. Consent, in plain words, on the options page: off until the seller turns it on.
        options.wait_for_selector("#discovery[data-loaded=true]", timeout=10000)
        assert "only time a photo leaves your computer" in options.inner_text("#discovery")
        assert not options.is_checked("#consent")
        assert daemon.api("GET", "settings/discovery")["image_search_consent"] is False
        options.check("#consent")
        wait_until(lambda: daemon.api("GET", "settings/discovery")["image_search_consent"],
                   10, "the consent saved in the daemon")

        # 2. The seller's own AliExpress session, then "find copies of my photos".
        home = browser.context.new_page()
        home.goto(HOME, wait_until="load")
        popup = open_popup(browser)
        popup.click("#find-copies")
        popup.wait_for_selector("#sweep-result:not(:empty)", timeout=10000)
        assert popup.inner_text("#sweep-result").startswith("Started")

        # 3. One upload per catalog photo, each a downscaled JPEG the daemon served.
        wait_until(lambda: len(shop.standin.uploads) >= 3, 120, "three image uploads")
        assert shop.standin.handshakes >= 1 and shop.standin.bad_signatures == 0
        from PIL import Image
        for jpeg in shop.standin.uploads:
            assert jpeg[:2] == b"\xff\xd8" and len(jpeg) <= 400 * 1024
            with Image.open(io.BytesIO(jpeg)) as im:
                assert max(im.size) <= 1200
        tasks = wait_until(lambda: (lambda ts: len(ts) == 3 and all(
            t["state"] == "done" for t in ts) and ts)(tasks_of(daemon, "image")), 120,
            "the three image tasks done")
        assert all(t["listings_total"] == 60 for t in tasks)

        # 4. Exactly the three copies raise alerts, each found by image search.
        wait_until(lambda: settled(daemon), 180, "every result image fetched and matched")
        alerts = daemon.api("GET", "alerts?state=all")["alerts"]
        assert len(alerts) == 3, [a["other"].get("listing_url") for a in alerts]
        assert {a["channel"] for a in alerts} == {"image_search"}
        found = {re.search(r"/item/(\d+)", a["other"]["listing_url"]).group(1):
                 a["own"]["file_name"] for a in alerts}
        assert found == shop.copies
        listings = daemon.db("SELECT COUNT(*) AS n FROM listings WHERE kind = 'item'")[0]["n"]
        assert listings >= 60
        # Each store that copied is swept once, in the same tab-based way (over https),
        # starting as soon as the extension sees the new `copied` alerts.
        try:
            stores = wait_until(lambda: (lambda ts: len(ts) == 3 and all(
                t["state"] == "done" for t in ts) and ts)(tasks_of(daemon, "store")), 120,
                "the three copiers' stores swept")
        except AssertionError as exc:
            # A failed store task is retried only after FAILED_RETRY_S: say why it failed.
            states = [(t["url"], t["state"], t["error"]) for t in tasks_of(daemon, "store")]
            raise AssertionError(f"{exc}; store tasks: {states}") from None
        assert {t["url"].split("/")[4] for t in stores} == {
            str(c["store"]["storeId"]) for c in shop.copy_cards}
        coverage = daemon.api("GET", "coverage")
        assert coverage["image_search"]["sweeps_done"] == 3
        assert coverage["image_search"]["listings_total"] == 60
        assert coverage["store_sweep"]["sweeps_done"] == 3

        popup.reload()
        popup.wait_for_selector("body[data-loaded=true]", timeout=15000)
        row = popup.inner_text("#coverage tr[data-channel=image_search]")
        assert row.startswith("Search by image") and "60" in row
        assert popup.locator("#alerts li").count() == 3
        assert popup.is_hidden("#sweep-paused")
        screenshot(popup, "extension-popup-coverage-en.png")

        # 5. A captcha stands in for the results: the sweep is blocked and paused.
        shop.market.add_page("/w/wholesale-.html", shop.captcha, host="www.aliexpress.com",
                             **csp(shop.nonce))
        uploads_before = len(shop.standin.uploads)
        popup.click("#find-copies")
        # (GET sweeps, not sweeps/next: asking for the next task would take it from the
        # extension.)
        wait_until(lambda: any(p["kind"] == "image" and p["active"] for p in daemon.api(
            "GET", "sweeps")["pauses"]), 120, "image sweeps paused after the captcha")
        assert len(shop.standin.uploads) == uploads_before + 1   # no further photo sent
        wait_until(lambda: browser.sw("globalThis.picguard.sweepState()").get("last", {})
                   .get("status") == "blocked", 20, "the extension's record of the block")
        popup.reload()
        popup.wait_for_selector("body[data-loaded=true]", timeout=15000)
        assert popup.is_visible("#sweep-paused")
        assert popup.get_attribute("#sweep-paused", "data-reason") == "blocked"
        assert "Open AliExpress once" in popup.inner_text("#sweep-paused")
        assert daemon.api("GET", "coverage")["image_search"]["sweeps_blocked"] >= 1
        screenshot(popup, "extension-popup-sweep-paused-en.png")
        assert len(daemon.api("GET", "alerts?state=all")["alerts"]) == 3
    finally:
        browser.context.close()


def test_results_page_pushed_again_when_more_results_arrive_once_per_change(
        shop, playwright_session):
    """The seller browses a search results page: it is pushed (channel `results`); the
    page's own search-pc answer (scrolling) is captured and pushed with it; each change is
    pushed once."""
    daemon = shop.daemon
    browser = launch_browser(playwright_session, shop.tmp / "profile-results", shop.market)
    try:
        pair(browser, daemon)
        before = daemon.api("GET", "coverage")["results"]["listings_total"]
        page = browser.context.new_page()
        page.goto(SEARCH_URL, wait_until="load")
        wait_until(lambda: browser.queue()["delivered"] == 1, 30, "the results page pushed")
        state = isolated_world_eval(page, "PicGuard.state()")
        assert state["current"]["kind"] == "results" and state["captured"] == 0
        wait_until(lambda: daemon.api("GET", "coverage")["results"]["listings_total"]
                   >= before + 30 or None, 30, "the 30 cards stored as results listings")

        # Scrolling: the page fetches the next cards for itself and renders them.
        page.evaluate("""async () => {
            const r = await fetch('/fn/search-pc/index', {method: 'POST',
                headers: {'Content-Type': 'application/json'}, body: '{"page": 2}'});
            const data = await r.json();
            for (const c of data.data.data.root.fields.mods.itemList.content) {
                const a = document.createElement('a');
                a.href = `//www.aliexpress.com/item/${c.productId}.html`;
                document.getElementById('root').append(a);
            }
        }""")
        wait_until(lambda: browser.queue()["delivered"] == 2, 30, "the page pushed again")
        state = isolated_world_eval(page, "PicGuard.state()")
        assert state["captured"] == 1 and state["pushedSignature"].endswith("|60|1")

        # One more card: pushed once more, and only once.
        page.evaluate("""document.getElementById('root').append(Object.assign(
            document.createElement('a'), {href: '/item/1005001234567890.html'}))""")
        wait_until(lambda: browser.queue()["delivered"] == 3, 30, "the new card pushed")
        assert isolated_world_eval(page, "PicGuard.state().pushedSignature").endswith("|61|1")
        assert browser.queue()["delivered"] == 3 and browser.queue()["waiting"] == 0
        assert len(shop.market.requests_for("/w/wholesale-shorts.html")) == 1
    finally:
        browser.context.close()
