"""A hostile page cannot use the extension to reach the daemon.

* A web page has no channel to the extension (no `externally_connectable`) and no token.
* On an AliExpress page, page scripts cannot feed the content script: forged
  `postMessage` data (and a forged channel hello) are ignored; only the page-world hook's
  private MessageChannel is read.
* A content script is the most exposed part (it runs in the page's renderer). What it sends
  is validated by the background: sender, type, shape and size. These tests speak from the
  content script's own world (through CDP), as a compromised renderer would.
* An oversized page is cut down by the content script before it is handed over.
"""

from __future__ import annotations

import gzip
import json

import pytest

pytest.register_assert_rewrite("browser")   # helpers' asserts report like tests'

from browser import (  # noqa: E402
    ITEM_2022,
    ITEM_2023,
    Daemon,
    csp,
    free_port,
    gallery_urls,
    isolated_world_eval,
    item_page,
    launch_browser,
    new_nonce,
    pair,
    wait_until,
)

pytest_plugins = ["browser"]   # fixtures: playwright_session, fake_market
pytestmark = [pytest.mark.browser, pytest.mark.slow]

ITEM_URL = "http://hostile.aliexpress.com/item/32995535623.html"
BIG_URL = "http://www.aliexpress.us/item/3256803382674519.html"
EVIL_URL = "http://shop.evil.test/index.html"
FORGED_ID = "5550001112223334"


@pytest.fixture(scope="module")
def setup(tmp_path_factory, fixtures_dir, fake_market, playwright_session):
    market = fake_market
    nonce = new_nonce()
    forged_mtop = {"data": {"result": {
        "GLOBAL_DATA": {"globalData": {"productId": "32995535623"}},
        "PRODUCT_TITLE": {"text": "FORGED TITLE"},
        "HEADER_IMAGE_PC": {"imagePathList": [f"{market.cdn}/kf/FORGED{i}.jpg"
                                              for i in range(3)]}}}}
    # A competitor's page whose own scripts try to talk to PicGuard's content script.
    hostile = f"""<script nonce="{nonce}">
      window.__hostile = [];
      // 1. A forged hello, hoping to become the page-world side of the private channel.
      const ch = new MessageChannel();
      window.postMessage({{type: "picguard:connect:v1"}}, "*", [ch.port2]);
      ch.port1.onmessage = (e) => window.__hostile.push(e.data);
      // 2. Forged captures and forged extension messages on the window.
      const forged = {json.dumps(forged_mtop)};
      for (const msg of [
          {{kind: "mtop", url: "https://acs.aliexpress.com/h5/mtop.aliexpress.pdp.pc.query/1.0/",
            text: JSON.stringify(forged), href: location.href}},
          {{type: "page", url: location.href, html: "<html>FORGED</html>"}},
          {{type: "test-connection", daemonUrl: "http://127.0.0.1:1", token: "x"}},
          {{kind: "mtop", url: "mtop.aliexpress.pdp.pc.query", text: "x".repeat(4 << 20)}}]) {{
        window.postMessage(msg, "*");
      }}
    </script>"""
    html = item_page((fixtures_dir / ITEM_2023).read_text(encoding="utf-8"), market.cdn,
                     nonce, extra_body=hostile)
    market.add_page("/item/32995535623.html", html, host="hostile.aliexpress.com",
                    **csp(nonce))
    # An AliExpress page with a 7 MB DOM (a description stuffed with text).
    stuffing = f'<div id="stuffing" style="display:none">{"填充内容 padding " * 500_000}</div>'
    big = item_page((fixtures_dir / ITEM_2022).read_text(encoding="utf-8"), market.cdn, nonce,
                    extra_body=stuffing)
    assert len(big.encode()) > 7_000_000
    market.add_page("/item/3256803382674519.html", big, host="www.aliexpress.us",
                    **csp(nonce))
    # A site that is not a marketplace at all.
    market.add_page("/index.html", f"<html><body><h1>Shop</h1><script nonce='{nonce}'>"
                    "window.ok = true</script></body></html>", host="shop.evil.test",
                    **csp(nonce))

    tmp = tmp_path_factory.mktemp("security")
    data_dir = tmp / "data"
    data_dir.mkdir()
    daemon = Daemon(data_dir).start()
    browser = launch_browser(playwright_session, tmp / "profile", market)
    pair(browser, daemon)
    yield daemon, browser, market
    browser.context.close()
    daemon.stop()


def send_from_content_script(page, message_js: str) -> dict:
    return isolated_world_eval(page, f"chrome.runtime.sendMessage({message_js})")


def test_web_page_has_no_way_to_the_extension_or_the_daemon(setup):
    daemon, browser, _ = setup
    listings_before = daemon.api("GET", "status")["listings"]
    page = browser.context.new_page()
    page.goto(EVIL_URL, wait_until="domcontentloaded")
    assert page.evaluate("window.ok") is True
    # No externally_connectable: the page has no runtime to message the extension with.
    assert page.evaluate("typeof chrome === 'undefined' || chrome.runtime === undefined"
                         " || typeof chrome.runtime.sendMessage !== 'function'")
    # No content script runs on a site outside the match patterns.
    with pytest.raises(AssertionError, match="content script's world"):
        isolated_world_eval(page, "1", timeout=1.5)
    # Calling the daemon directly: refused (its Origin is not an extension's), no token.
    answer = page.evaluate(f"""async () => {{
        const out = [];
        for (const init of [
            {{}}, {{headers: {{Authorization: 'Bearer guess'}}}},
            {{method: 'POST', mode: 'no-cors', body: '{{"url":"x","html":"y"}}'}}]) {{
          try {{
            const r = await fetch('{daemon.url}/api/v1/status', init);
            out.push(r.type === 'opaque' ? 'opaque' : r.status);
          }} catch (e) {{ out.push('blocked'); }}
        }}
        return out;
    }}""")
    assert "200" not in map(str, answer) and 200 not in answer
    assert daemon.api("GET", "status")["listings"] == listings_before


def test_forged_post_messages_are_ignored(setup):
    daemon, browser, market = setup
    page = browser.context.new_page()
    page.goto(ITEM_URL, wait_until="domcontentloaded")
    stored = wait_until(lambda: daemon.db(
        "SELECT * FROM listings WHERE product_id = '32995535623'"), 30, "the real push")
    listing = stored[0]
    assert listing["title"] != "FORGED TITLE"
    keys = [r["image_key"] for r in daemon.db("SELECT image_key FROM images")]
    assert keys and not [k for k in keys if "FORGED" in k]
    state = isolated_world_eval(page, "PicGuard.state()")
    assert state["hasMtop"] is False
    # The forged hello got nothing: the page-world hook had taken the real channel first.
    assert page.evaluate("window.__hostile") == []
    pages = daemon.db("SELECT html_gz FROM pages WHERE listing_id = ?", (listing["id"],))
    assert all(gzip.decompress(p["html_gz"]) != b"<html>FORGED</html>" for p in pages)
    assert not market.requests_for("/kf/FORGED")


def test_background_rejects_bad_messages_from_a_content_script(setup):
    daemon, browser, _ = setup
    page = browser.context.new_page()
    page.goto(ITEM_URL, wait_until="domcontentloaded")
    listings_before = daemon.api("GET", "status")["listings"]
    url = "location.href"
    cases = {
        # oversized: 6 MB of ASCII, and 2.1 M CJK characters (6.3 MB of UTF-8)
        f"{{type: 'page', url: {url}, html: 'x'.repeat(6 << 20)}}": "too_large",
        f"{{type: 'page', url: {url}, html: '图'.repeat(2100000)}}": "too_large",
        f"{{type: 'page', url: {url}, html: '<html></html>',"
        " mtop: {data: {blob: 'x'.repeat(3 << 20)}}}": "too_large",
        f"{{type: 'verdicts', pageUrl: {url}, urls: Array(501).fill(location.href)}}":
            "too_many_urls",
        # another site, another AliExpress origin than the tab's, a non-listing address
        f"{{type: 'page', url: '{EVIL_URL}', html: '<html></html>'}}": "bad_url",
        "{type: 'page', url: 'http://www.aliexpress.com/item/1005000000000001.html',"
        " html: '<html></html>'}": "url_not_tab",
        "{type: 'page', url: location.origin + '/shoppingcart/index.html', html: '<html></html>'}":
            "bad_url",
        # captured page data: only the tab's own marketplace answers, as [{url, json}]
        f"{{type: 'page', url: {url}, html: '<html></html>', captured: {{}}}}": "bad_captured",
        f"{{type: 'page', url: {url}, html: '<html></html>', captured: [{{url: '{EVIL_URL}',"
        " json: {}}]}": "bad_captured",
        f"{{type: 'page', url: {url}, html: '<html></html>', captured: [{{url: location.origin"
        " + '/fn/search-pc/index', json: [1]}]}": "bad_captured",
        f"{{type: 'page', url: {url}, html: '<html></html>', captured: Array(13).fill("
        "{url: location.origin + '/fn/search-pc/index', json: {}})}": "bad_captured",
        f"{{type: 'verdicts', pageUrl: {url}, urls: ['javascript:alert(1)']}}": "bad_url",
        # wrong shapes
        f"{{type: 'page', url: {url}, html: '<html></html>', extra: 1}}": "unknown_field",
        f"{{type: 'page', url: {url}, html: 42}}": "bad_html",
        f"{{type: 'page', url: {url}, html: '<html></html>', mtop: [1, 2]}}": "bad_mtop",
        f"{{type: 'page', url: {url}, html: '<html></html>', trigger: 'x'}}": "bad_trigger",
        "['page']": "bad_message",
        "'page'": "bad_message",
        # what only the extension's own pages may ask: status, token tests, alerts, actions
        "{type: 'status'}": "not_allowed",
        "{type: 'alerts'}": "not_allowed",
        "{type: 'test-connection', daemonUrl: 'http://127.0.0.1:1', token: 'x'}": "not_allowed",
        "{type: 'open-dashboard'}": "not_allowed",
        "{type: 'alert-action', id: 1, action: 'dismiss'}": "not_allowed",
        "{type: 'watch', url: location.href}": "not_allowed",
        "{type: 'poll-now'}": "not_allowed",
        # discovery and the marketplaces' switches are the seller's, on the extension's pages
        "{type: 'start-sweep', sweep: 'image'}": "not_allowed",
        "{type: 'discovery-set', values: {image_search_consent: true}}": "not_allowed",
        "{type: 'sites-sync'}": "not_allowed",
        "{type: 'coverage'}": "not_allowed",
        "{type: 'open-alert', id: 1}": "not_allowed",
    }
    for message, code in cases.items():
        answer = send_from_content_script(page, message)
        assert answer == {"ok": False, "error": code}, message[:80]
    # The token is out of the content script's reach (storage.local is for trusted
    # contexts only), and nothing above reached the daemon.
    denied = isolated_world_eval(page, """chrome.storage.local.get(null).then(
        v => JSON.stringify(v), e => 'denied: ' + e.message)""")
    assert denied.startswith("denied"), denied
    assert daemon.token not in denied
    assert daemon.api("GET", "status")["listings"] == listings_before
    # A well-formed message is accepted: the checks are not simply refusing everything.
    ok = send_from_content_script(
        page, f"{{type: 'verdicts', pageUrl: {url}, urls: [location.origin + '/kf/x.jpg']}}")
    assert ok["ok"] is True and ok["verdicts"][0]["verdict"] == "unknown"


def test_oversized_page_is_cut_down_before_it_is_pushed(setup):
    daemon, browser, market = setup
    page = browser.context.new_page()
    page.goto(BIG_URL, wait_until="domcontentloaded")
    stored = wait_until(lambda: daemon.db(
        "SELECT * FROM listings WHERE product_id = '3256803382674519'"), 30,
        "the reduced page stored")
    assert stored[0]["status"] == "ok"
    html = gzip.decompress(daemon.db("SELECT html_gz FROM pages WHERE listing_id = ?",
                                     (stored[0]["id"],))[0]["html_gz"])
    assert len(html) <= 5 * 1024 * 1024
    assert b"runParams" in html and "填充内容".encode() not in html
    gallery = {r["url"] for r in daemon.db(
        "SELECT i.url FROM images i JOIN listing_images li ON li.image_id = i.id "
        "WHERE li.listing_id = ? AND li.role = 'gallery'", (stored[0]["id"],))}
    expected = gallery_urls(market.pages["www.aliexpress.us/item/3256803382674519.html"]
                            .body.decode())
    assert gallery == set(expected)


def test_push_queue_is_bounded(tmp_path, fake_market, playwright_session):
    """A content script flooding the queue (daemon down) cannot grow it without bound:
    at most 50 pages and 8 MB wait; the oldest are dropped and counted."""
    browser = launch_browser(playwright_session, tmp_path / "profile", fake_market)
    try:
        options = browser.context.new_page()
        options.goto(browser.ext_url("options/options.html"))
        options.wait_for_selector("body[data-ready=true]", timeout=10000)
        options.fill("#daemon-url", f"http://127.0.0.1:{free_port()}")   # nobody listens
        options.fill("#token", "t" * 43)
        options.click("#save")
        options.wait_for_selector("#result[data-state=not_running]", timeout=15000)
        assert "is not running" in options.inner_text("#result")

        page = browser.context.new_page()
        page.goto(ITEM_URL, wait_until="domcontentloaded")
        answers = isolated_world_eval(page, """(async () => {
            const out = [];
            for (let i = 0; i < 55; i++) {
              out.push(await chrome.runtime.sendMessage({type: 'page',
                url: location.origin + '/item/' + (1005000000000000 + i) + '.html',
                html: '<html><body>page ' + i + '</body></html>'}));
            }
            return out;
        })()""")
        assert all(a == {"ok": True, "queued": True} for a in answers)
        queue = wait_until(lambda: (q := browser.queue())["waiting"] == 50 and q, 10,
                           "a queue of 50")
        assert queue["dropped"] >= 5
        waiting = browser.sw("chrome.storage.local.get('queueIndex')")["queueIndex"]
        assert "1005000000000054" in waiting[-1]["url"]   # the newest are kept
        assert all("1005000000000000." not in e["url"] for e in waiting)

        # Bytes too: three 4 MB pages do not fit in 8 MB together.
        isolated_world_eval(page, """(async () => {
            for (let i = 0; i < 3; i++) {
              await chrome.runtime.sendMessage({type: 'page',
                url: location.origin + '/item/' + (1006000000000000 + i) + '.html',
                html: '<html>' + 'x'.repeat(4 << 20) + '</html>'});
            }
        })()""")
        queue = wait_until(lambda: (q := browser.queue())["bytes"] <= 8 * 1024 * 1024
                           and "1006000000000002" in browser.sw(
                               "chrome.storage.local.get('queueIndex')")["queueIndex"][-1]["url"]
                           and q, 10, "the byte cap")
        assert queue["bytes"] > 4 * 1024 * 1024
    finally:
        browser.context.close()
