"""End-to-end: the extension on marketplaces beyond AliExpress, each with the seller's consent
(issue 14 item 4). Debian's chromium runs headed on a private X server so that the browser's
own permission prompt appears and is answered with the keyboard, as a seller would.

Local stand-ins for an Etsy listing and an eBay item (schema.org Product data and a gallery,
the structure both sites publish) show edited copies of the seller's catalog photos. With the
site's permission withheld (never asked, or the prompt denied) the extension sends nothing;
once the seller switches the site on in the options page and allows it, the page is pushed,
the daemon raises the alerts and the copies are marked on the page. Switching it off again
unregisters the site's scripts, and a tab still open there can push nothing.
"""

from __future__ import annotations

import html as htmllib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.register_assert_rewrite("browser")

from browser import (  # noqa: E402
    ITEM_2023,
    Daemon,
    csp,
    dated_photo,
    isolated_world_eval,
    item_page,
    jpeg,
    launch_browser,
    new_nonce,
    pair,
    screenshot,
    wait_until,
)

pytest_plugins = ["browser"]   # fixtures: playwright_session, fake_market, xvfb
pytestmark = [pytest.mark.browser, pytest.mark.slow]

ETSY_URL = "https://www.etsy.com/listing/1467250981/linen-summer-dress"
EBAY_URL = "https://www.ebay.com/itm/315012345678"
ALI_URL = "http://he.aliexpress.com/item/32995535623.html"
EXTRA_DOMAINS = ("etsy.com", "ebay.com")


def photos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg"})


def product_page(title: str, store: str, images: list[str], nonce: str) -> str:
    """A marketplace item page as both sites publish it: schema.org Product JSON-LD naming
    the gallery, og:image, and the gallery as <img> elements."""
    data = {"@context": "https://schema.org", "@type": "Product", "name": title,
            "image": images, "brand": {"@type": "Brand", "name": store},
            "offers": {"@type": "Offer", "price": "19.90", "priceCurrency": "USD",
                       "seller": {"@type": "Organization", "name": store}}}
    gallery = "\n".join(f'<img class="gallery" src="{htmllib.escape(u)}" width="300" height="300"'
                        f' alt="">' for u in images)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
            f'<meta property="og:image" content="{htmllib.escape(images[0])}">'
            f'<script type="application/ld+json">{json.dumps(data)}</script></head>'
            f'<body><h1>{title}</h1><div id="gallery">{gallery}</div>'
            f'<script nonce="{nonce}">window.__loaded = true;</script></body></html>')


@pytest.fixture(scope="module")
def shop(tmp_path_factory, photos_dir, fixtures_dir, fake_market):
    """Two catalog photos; an Etsy listing showing an edited copy of the first and an eBay
    item showing an edited copy of the second, each among unrelated photos."""
    market = fake_market
    # Chromium reaches etsy.com and ebay.com over HTTPS only (HSTS preload): serve it too.
    market.start_tls(tmp_path_factory.mktemp("tls"))
    clothing = photos_dir / "clothing"
    catalog = tmp_path_factory.mktemp("catalog")
    mine = [dated_photo(photos(clothing / kind)[0], catalog / f"{kind}.jpg")
            for kind in ("dress", "shirt")]
    others = [photos(clothing / c)[0] for c in ("pants", "shoes", "hat")]
    cdn = market.cdn
    market.images["etsycopy1"] = jpeg(mine[0], quality=60, scale=0.8)
    market.images["etsyother1"] = jpeg(others[0])
    market.images["ebaycopy2"] = jpeg(mine[1], quality=60, scale=0.8)
    market.images["ebayother2"] = jpeg(others[1])
    market.images["ebayother3"] = jpeg(others[2])
    nonce = new_nonce()
    market.add_page("/listing/1467250981/linen-summer-dress", product_page(
        "Linen summer dress", "LinenCopyShop", [f"{cdn}/kf/etsycopy1.jpg",
                                                f"{cdn}/kf/etsyother1.jpg"], nonce),
        host="www.etsy.com", **csp(nonce))
    market.add_page("/itm/315012345678", product_page(
        "Cotton shirt men", "shirt_copier_2025", [f"{cdn}/kf/ebaycopy2.jpg",
                                                  f"{cdn}/kf/ebayother2.jpg",
                                                  f"{cdn}/kf/ebayother3.jpg"], nonce),
        host="www.ebay.com", **csp(nonce))
    # The AliExpress page the control push comes from (the built-in site, always on).
    ali_nonce = new_nonce()
    market.add_page("/item/32995535623.html", item_page(
        (fixtures_dir / ITEM_2023).read_text(encoding="utf-8"), cdn, ali_nonce),
        **csp(ali_nonce))

    data_dir = tmp_path_factory.mktemp("sites") / "data"
    data_dir.mkdir()
    daemon = Daemon(data_dir)
    daemon.configure_fast()
    daemon.cli("catalog", "add", *map(str, mine))
    daemon.start()
    yield SimpleNamespace(daemon=daemon, market=market, mine=mine, tmp=data_dir.parent)
    daemon.stop()


def stored(daemon: Daemon, url: str) -> dict | None:
    rows = daemon.db("SELECT * FROM listings WHERE url = ?", (url,))
    return rows[0] if rows else None


def registered(browser) -> set[str]:
    return set(browser.sw(
        "chrome.scripting.getRegisteredContentScripts().then(s => s.map(x => x.id))"))


def site_enabled(options, site: str) -> bool:
    return options.eval_on_selector(f"#sites li[data-site={site}]",
                                    "li => li.dataset.enabled === 'true'")


def switch(browser, options, xvfb, site: str, allow: bool | None) -> None:
    """Click the site's switch in the options page and answer the browser's prompt (None:
    switching off asks nothing). Answered once the options page has shown the outcome."""
    options.bring_to_front()
    options.click(f"#site-{site}")
    if allow is None:
        return
    xvfb.answer_prompt(allow, lambda: options.eval_on_selector(
        f"#sites li[data-site={site}]", "(li, allow) => li.dataset.enabled === String(allow)"
        " && li.querySelector('input').checked === allow", allow))


def alerts_for(daemon: Daemon, url: str) -> list[dict]:
    """Alerts about the listing stored for `url` (the API names its canonical address)."""
    listing = stored(daemon, url)
    names = {listing["url"], listing["canonical_url"]} if listing else set()
    return [a for a in daemon.api("GET", "alerts?state=all")["alerts"]
            if a["other"].get("listing_url") in names]


def test_each_marketplace_only_with_the_sellers_consent(shop, playwright_session, xvfb):
    daemon = shop.daemon
    browser = launch_browser(playwright_session, shop.tmp / "profile", shop.market,
                             display=xvfb.name, extra_domains=EXTRA_DOMAINS)
    try:
        browser.sw("chrome.storage.local.set({pollSeconds: 1})")
        options = pair(browser, daemon)
        options.wait_for_selector("#sites[data-ready=true]", timeout=10000)
        assert not site_enabled(options, "etsy") and not site_enabled(options, "ebay")
        assert site_enabled(options, "aliexpress")

        # 1. Withheld. Etsy was never switched on; for eBay the seller denies the prompt.
        etsy = browser.context.new_page()
        etsy.goto(ETSY_URL, wait_until="load")
        switch(browser, options, xvfb, "ebay", allow=False)
        assert not browser.sw("chrome.permissions.contains({origins: ['*://*.ebay.com/*']})")
        ebay = browser.context.new_page()
        ebay.goto(EBAY_URL, wait_until="load")
        assert shop.market.requests_for("/itm/315012345678")   # the page itself was shown
        # Control: an AliExpress page opened after both is pushed and stored; by then
        # neither withheld page has sent anything, nor has the extension queued them.
        ali = browser.context.new_page()
        ali.goto(ALI_URL, wait_until="domcontentloaded")
        wait_until(lambda: stored(daemon, ALI_URL), 40, "the AliExpress control page stored")
        assert stored(daemon, ETSY_URL) is None and stored(daemon, EBAY_URL) is None
        queue = wait_until(lambda: browser.queue()["delivered"] >= 1 and browser.queue(), 10,
                           "the control page counted as delivered")
        assert queue["waiting"] == 0 and queue["delivered"] == 1
        assert registered(browser) == set()
        for page in (etsy, ebay):
            assert page.evaluate("document.querySelectorAll('picguard-overlay').length") == 0

        # 2. Granted from the options page: each switch asks, the seller allows.
        for site in ("etsy", "ebay"):
            switch(browser, options, xvfb, site, allow=True)
            assert site_enabled(options, site)
        assert registered(browser) == {"picguard-site-etsy", "picguard-site-etsy-main",
                                       "picguard-site-ebay", "picguard-site-ebay-main"}
        screenshot(options, "extension-options-marketplaces.png")
        etsy.reload(wait_until="load")
        ebay.reload(wait_until="load")
        for url in (ETSY_URL, EBAY_URL):
            listing = wait_until(lambda url=url: stored(daemon, url), 40, f"{url} stored")
            assert listing["status"] == "ok"
        for url in (ETSY_URL, EBAY_URL):
            alerts = wait_until(lambda url=url: alerts_for(daemon, url), 90, f"an alert for {url}")
            assert len(alerts) == 1 and alerts[0]["kind"] == "copied"
            assert alerts[0].get("channel", "browsing") == "browsing"
            assert stored(daemon, url)["marketplace"] in {"etsy", "ebay", "web"}
        assert {alerts_for(daemon, u)[0]["own"]["file_name"] for u in (ETSY_URL, EBAY_URL)} \
            == {p.name for p in shop.mine}
        # The copies are marked on both pages, and only they.
        for page, copy in ((etsy, "etsycopy1"), (ebay, "ebaycopy2")):
            try:
                marks = wait_until(lambda page=page: isolated_world_eval(
                    page, "PicGuard.state().marked"), 40, "a mark")
            except AssertionError:
                print("STATE", isolated_world_eval(page, "JSON.stringify(PicGuard.state())"))
                raise
            assert [m["verdict"] for m in marks] == ["copy_of_yours"]
            assert f"/kf/{copy}.jpg" in marks[0]["src"]
        screenshot(etsy, "extension-marked-etsy.png")

        # 3. Revoked: switching Etsy off unregisters its scripts; the tab still open there
        # keeps its old script, but the background refuses what it sends.
        switch(browser, options, xvfb, "etsy", allow=None)
        wait_until(lambda: not site_enabled(options, "etsy"), 15, "etsy switched off")
        wait_until(lambda: registered(browser) == {"picguard-site-ebay",
                                                   "picguard-site-ebay-main"}, 15,
                   "etsy's scripts unregistered")
        answer = isolated_world_eval(etsy, "PicGuard.send({type: 'page', url: location.href, "
                                           "html: document.documentElement.outerHTML})")
        assert answer == {"ok": False, "error": "site_off"}
        etsy.reload(wait_until="load")
        assert etsy.evaluate("document.querySelectorAll('picguard-overlay').length") == 0
    finally:
        browser.context.close()
