"""eBay (every site: .com, .de, .co.uk, ...): item pages and search results.

Item gallery, in order: the image carousel (`data-zoom-src`, the full-size
picture of each slide), the JSON-LD Product `image`, the older page's `#icImg`,
then og:image. The item number is the product id, the seller's user name the
store id. Search results: the `s-item` cards and the 2025 `s-card` cards.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from .htmlutil import head_meta
from .marketbase import (
    IMG_TAG_RE,
    add_ld_gallery,
    card_chunks,
    first_text,
    iter_attrs,
    link_store_and_item,
    new_listing,
    number,
    refuse,
    result_item,
    results_listing,
    search_at,
    strip_tags,
    tags_with,
)
from .markets import EBAY
from .model import ROLE_GALLERY, ROLE_OG, ImageCollector, Listing
from .urls import host_of

_ITEM_URL_RE = re.compile(r"/itm/(?:[^/?#\"']+/)?(\d{9,15})(?=[/?#\"'&]|$)")
_LIST_URL_RE = re.compile(r"/(?:sch|b|str)/|[?&]_nkw=")
_ZOOM_RE = re.compile(r"""data-zoom-src=["']?([^"'\s>]+)""")
_ICIMG_RE = re.compile(r"""id=["']?icImg["']?[^>]*?\bsrc=["']?([^"'\s>]+)""")
_ITEM_ID_JS_RE = re.compile(r""""itemId"\s*:\s*"?(\d{9,15})""")
_SELLER_BOX = ("x-sellercard-atf__info__about-seller", 'id="mbgLink"', "x-sellercard-atf")
_SELLER_LINK_RE = re.compile(r"""/(?:usr|str|sch)/([A-Za-z0-9._-]{2,64})(?=[/?"'\s>])""")
_TITLE_RE = re.compile(r"""x-item-title__mainTitle[^>]*>(.{0,600}?)</h1>""", re.DOTALL)
_TITLE_TAIL_RE = re.compile(r"\s*[|/]\s*eBay\s*$", re.IGNORECASE)
_CARD_NEEDLES = ('class="s-item ', 'class="s-item"', "class=s-item ", 'class="s-card ',
                 'class="s-card"', "data-listingid=")
_CARD_TITLE_RE = re.compile(r"""s-(?:item|card)__title\b[^>]*>(.{0,800}?)</(?:div|h3)>""",
                            re.DOTALL)
_COUNT_RE = re.compile(r"""srp-controls__count-heading[^>]*>(.{0,300}?)</h1>""", re.DOTALL)
_BLOCK_SIGNS = ("splashui/challenge", "splashui/captcha", "Pardon Our Interruption")


def item_id_from_url(url: str | None) -> str | None:
    """The item number in an eBay item URL (/itm/<n> or /itm/<slug>/<n>), or None."""
    match = _ITEM_URL_RE.search(url or "")
    return match.group(1) if match else None


def parse(text: str, url: str, captured: object = None) -> Listing:
    """An eBay page as a Listing: item, results, or blocked/unsupported with the reason."""
    listing = new_listing(EBAY, url)
    if _LIST_URL_RE.search(url or ""):  # a search/browse URL: cards first, skip item scans
        cards = tags_with(text, _CARD_NEEDLES)
        if cards:
            return _results(listing, text, url, cards)
    images = ImageCollector()
    images.add_all(_ZOOM_RE.findall(text), ROLE_GALLERY)
    if images.count():
        listing.source = "carousel"
    product = add_ld_gallery(text, listing, images)
    icimg = search_at(text, ('id="icImg"', "id=icImg"), _ICIMG_RE)
    if icimg and images.add(html.unescape(icimg.group(1)), ROLE_GALLERY) and not listing.source:
        listing.source = "icImg"
    if images.count():
        return _item(listing, text, url, images, product)
    cards = tags_with(text, _CARD_NEEDLES)
    if cards:
        return _results(listing, text, url, cards)
    if any(sign in text for sign in _BLOCK_SIGNS):
        return refuse(listing, "eBay showed a security check instead of the page; pass it in "
                               "your browser and send the page again", blocked=True)
    return refuse(listing, "no eBay item gallery (carousel, JSON-LD, #icImg) and no result "
                           "cards on this page; if it was still loading, save it again")


def _item(listing: Listing, text: str, url: str, images: ImageCollector,
          product: dict | None) -> Listing:
    meta = head_meta(text)
    images.add_all(meta.all("og:image"), ROLE_OG)
    listing.images = images.refs()
    js_id = _ITEM_ID_JS_RE.search(text)
    listing.product_id = first_text(
        item_id_from_url(url), item_id_from_url(meta.canonical),
        item_id_from_url(meta.first("og:url")), js_id and js_id.group(1),
    )
    title = _TITLE_RE.search(text)
    listing.title = first_text(
        product and product.get("name"), title and strip_tags(title.group(1)),
        _TITLE_TAIL_RE.sub("", meta.first("og:title") or meta.title or ""),
    )
    for box in _SELLER_BOX:
        pos = text.find(box)
        if pos >= 0:
            seller = _SELLER_LINK_RE.search(text, pos, pos + 3000)
            if seller:
                listing.store_id = listing.store_name = seller.group(1)
                break
    link_store_and_item(listing, url, "www.ebay.com", "/usr/{store}",
                        "/itm/{product}")
    return listing


def _results(listing: Listing, text: str, url: str, cards: list[tuple[int, dict]]) -> Listing:
    host = host_of(url) or "www.ebay.com"
    base = f"https://{host}/"
    items = []
    for index, chunk in card_chunks(text, [pos for pos, _ in cards]):
        attrs = cards[index][1]
        link = _ITEM_URL_RE.search(chunk)
        item_id = first_text(attrs.get("data-listingid"), link and link.group(1))
        if not item_id:  # eBay's "Shop on eBay" placeholder card has no real item number
            continue
        imgs = [
            src for img in iter_attrs(IMG_TAG_RE, chunk, 8)
            for src in (img.get("data-src"), img.get("src"))
            if src and "ebayimg.com" in src
        ]
        title = _CARD_TITLE_RE.search(chunk)
        items.append(result_item(
            item_id, f"{base}itm/{item_id}", base, imgs[:1], title and strip_tags(title.group(1)),
        ))
    info: dict = {}
    try:
        page = parse_qs(urlsplit(url).query).get("_pgn", [""])[0]
    except ValueError:
        page = ""
    if page.isdigit():
        info["page"] = int(page)
    count = _COUNT_RE.search(text)
    if count:
        total = re.search(r"\d[\d.,]*", strip_tags(count.group(1)) or "")
        value = number(total.group()) if total else None
        if value is not None and value >= len(items):  # some pages print 0 above 60 cards
            info["total"] = value
    return results_listing(listing, items, "cards", info)
