"""Amazon (every locale): product pages, search results and best-seller lists.

Product gallery, in order of preference: the ImageBlockATF `colorImages.initial`
list (`hiRes`, else `large`), then the landing image's `data-a-dynamic-image`
(`#landingImage`, `#imgBlkFront` for books). Other colours' images in the
twister's `colorImages` map are variants. The ASIN is the product id; the
merchant id (`merchantID`, or `seller=` of the "Sold by" link) is the store id.
Results: search cards (`data-component-type="s-search-result"`) and best-seller
faceouts (`p13n-sc-uncoverable-faceout`), each with its ASIN and image.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

from .htmlutil import head_meta
from .marketbase import (
    attrs_of,
    card_chunks,
    first_text,
    json_after,
    link_store_and_item,
    new_listing,
    refuse,
    result_item,
    results_listing,
    search_at,
    strip_tags,
    tags_with,
)
from .markets import AMAZON
from .model import ROLE_GALLERY, ROLE_OG, ROLE_VARIANT, ImageCollector, Listing
from .urls import host_of

_ASIN = r"[A-Z0-9]{10}"
_ASIN_URL_RE = re.compile(rf"/(?:dp|gp/product|gp/aw/d|exec/obidos/ASIN|d)/({_ASIN})(?=[/?#]|$)")
# Patterns start with a literal so the regex engine can skip ahead on multi-MB pages.
_ASIN_INPUT_RE = re.compile(rf"""id=["']ASIN["'][^>]*?\bvalue=["']({_ASIN})["']""")
_ASIN_JS_RE = re.compile(rf"""asin['"]\s*:\s*['"]({_ASIN})['"]""")
_INITIAL_RE = re.compile(r"""colorImages['"]\s*:\s*\{\s*['"]initial['"]\s*:\s*(?=\[)""")
_TWISTER_RE = re.compile(r"""colorImages"\s*:\s*(?=\{\s*")""")
_LANDING_IDS = ('id="landingImage"', 'id="imgBlkFront"', 'id="ebooksImgBlkFront"',
                'id="main-image"')
_MERCHANT_RE = re.compile(r"""id=["']merchantID["'][^>]*?\bvalue=["']([A-Z0-9]{8,20})["']""")
_SELLER_LINK_RE = re.compile(
    r"""id=["']sellerProfileTriggerId["'][^>]*href=["'][^"']*?[?&;]seller=([A-Z0-9]{8,20})[^>]*>([^<]*)<"""
)
_TITLE_RE = re.compile(r"""id=["']productTitle["'][^>]*>([^<]*)<""")
_TITLE_TAIL_RE = re.compile(r"^(?:Amazon\.[a-z.]+\s*:\s*)|\s*:\s*Amazon\.[a-z.]+(?:\s*:.*)?$", re.I)
_LIST_URL_RE = re.compile(r"/(?:s|zgbs|gp/bestsellers|gp/new-releases|b|stores)(?:/|\?|$)")
_CARD_NEEDLES = ('data-component-type="s-search-result"', "p13n-sc-uncoverable-faceout")
_H2_RE = re.compile(r"<h2\b[^>]*>(.*?)</h2>", re.DOTALL)
_DP_HREF_RE = re.compile(r"""href=["']?([^"'\s>]*/dp/[^"'\s>]*)""")
_CARD_IMG_RE = re.compile(r"<img\b([^>]*?/images/I/[^>]*)>")
_CAPTCHA_SIGNS = ("/errors/validateCaptcha", "Type the characters you see in this image",
                  "api-services-support@amazon.com", "opfcaptcha.amazon")


def parse(text: str, url: str, captured: object = None) -> Listing:
    """An Amazon page as a Listing: item, results, or blocked/unsupported with the reason."""
    listing = new_listing(AMAZON, url)
    if _LIST_URL_RE.search(url or ""):  # search / best-seller URL: cards first
        cards = tags_with(text, _CARD_NEEDLES)
        if cards:
            return _results(listing, text, url, cards)
    images = ImageCollector()
    has_colours = "colorImages" in text
    if has_colours:
        for initial in json_after(text, _INITIAL_RE, limit=2):
            for entry in initial if isinstance(initial, list) else []:
                if isinstance(entry, dict):
                    images.add(entry.get("hiRes") or entry.get("large"), ROLE_GALLERY)
            if images.count():
                listing.source = "colorImages"
                break
    landing = tags_with(text, _LANDING_IDS, limit=1)
    if landing:
        attrs = landing[0][1]
        before = images.count()
        images.add(attrs.get("data-old-hires"), ROLE_GALLERY)
        images.add_all(_dynamic_urls(attrs.get("data-a-dynamic-image")), ROLE_GALLERY)
        images.add(attrs.get("src"), ROLE_GALLERY)
        if images.count() > before and not listing.source:
            listing.source = "landingImage"
    if images.count() and has_colours:
        for colours in json_after(text, _TWISTER_RE, limit=2):
            for entries in colours.values() if isinstance(colours, dict) else []:
                for entry in entries if isinstance(entries, list) else []:
                    if isinstance(entry, dict):
                        images.add(entry.get("hiRes") or entry.get("large"), ROLE_VARIANT)
    if images.count():
        return _item(listing, text, url, images)
    cards = tags_with(text, _CARD_NEEDLES)
    if cards:
        return _results(listing, text, url, cards)
    if any(sign in text for sign in _CAPTCHA_SIGNS):
        return refuse(listing, "Amazon showed a robot check (captcha) instead of the page; pass "
                               "it in your browser and send the page again", blocked=True)
    return refuse(listing, "no Amazon product gallery (colorImages, landing image) and no "
                           "result cards on this page; if it was still loading, save it again")


def _dynamic_urls(raw: str | None) -> list[str]:
    """The URLs of a `data-a-dynamic-image` map ({url: [w, h]}), largest first."""
    if not raw:
        return []
    try:
        sizes = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    if not isinstance(sizes, dict):
        return []

    def area(item: tuple[str, object]) -> int:
        wh = item[1]
        ok = isinstance(wh, list) and len(wh) == 2 and all(isinstance(v, int) for v in wh)
        return wh[0] * wh[1] if ok else 0

    return [u for u, _ in sorted(sizes.items(), key=area, reverse=True)]


def asin_from_url(url: str | None) -> str | None:
    """The ASIN in an Amazon product URL (/dp/, /gp/product/, ...), or None."""
    if not url:
        return None
    try:
        match = _ASIN_URL_RE.search(urlsplit(url).path)
    except ValueError:
        return None
    return match.group(1) if match else None


def _item(listing: Listing, text: str, url: str, images: ImageCollector) -> Listing:
    meta = head_meta(text)
    asin_input = search_at(text, ('id="ASIN"',), _ASIN_INPUT_RE)
    asin_js = None if asin_input else _ASIN_JS_RE.search(text)
    listing.product_id = first_text(
        asin_from_url(url), asin_input and asin_input.group(1), asin_js and asin_js.group(1),
        asin_from_url(meta.canonical),
    )
    images.add_all(meta.all("og:image"), ROLE_OG)
    listing.images = images.refs()
    title = search_at(text, ('id="productTitle"',), _TITLE_RE)
    listing.title = first_text(
        title and strip_tags(title.group(1)), _TITLE_TAIL_RE.sub("", meta.title or "")
    )
    seller = search_at(text, ('id="sellerProfileTriggerId"',), _SELLER_LINK_RE)
    merchant = search_at(text, ('id="merchantID"',), _MERCHANT_RE)
    listing.store_id = first_text(merchant and merchant.group(1), seller and seller.group(1))
    listing.store_name = first_text(seller and strip_tags(seller.group(2)))
    link_store_and_item(listing, url, "www.amazon.com", "/sp?seller={store}",
                        "/dp/{product}")
    return listing


def _results(listing: Listing, text: str, url: str, cards: list[tuple[int, dict]]) -> Listing:
    items = []
    base = url if host_of(url) else "https://www.amazon.com/"
    for index, chunk in card_chunks(text, [pos for pos, _ in cards]):
        attrs = cards[index][1]
        asin = attrs.get("data-asin") or attrs.get("id")
        link = _DP_HREF_RE.search(chunk)
        href = html.unescape(link.group(1)) if link else None
        asin = asin if asin and re.fullmatch(_ASIN, asin) else asin_from_url(href)
        img = _CARD_IMG_RE.search(chunk)
        img_attrs = attrs_of(img.group(1)) if img else {}
        h2 = _H2_RE.search(chunk)
        title = first_text(h2 and strip_tags(h2.group(1)), img_attrs.get("alt"))
        href = href or (f"/dp/{asin}" if asin else None)
        items.append(result_item(asin, href, base, [img_attrs.get("src")], title))
    page = parse_qs(urlsplit(url).query).get("page", [None])[0] if url else None
    info = {"page": int(page)} if page and page.isdigit() else {}
    return results_listing(listing, items, "cards", info)
