"""Mercado Libre / Mercado Livre (every country): product pages and search results.

Product gallery, in order: the page state's `components.gallery.pictures`
(state in `__PRELOADED_STATE__`, as a script element or an assignment, or in
the 2025+ Nordic context `_n.ctx.r`), then the JSON-LD Product `image`, then the
rendered gallery's `data-zoom` pictures, then og:image. Picture ids become
`D_NQ_NP_<id>-F` URLs. The product id is the page's own (`/p/MCO...` catalog id
or `MLA-123...` item id); the seller id is the store id. Search results: the
`ui-search-layout__item` / `poly-card` cards.
"""

from __future__ import annotations

import re
from typing import Any

from .blocked import blocked_reason
from .htmlutil import head_meta
from .marketbase import (
    IMG_TAG_RE,
    add_ld_gallery,
    as_list,
    card_chunks,
    dig,
    find_dicts,
    first_text,
    iter_attrs,
    json_after,
    new_listing,
    refuse,
    result_item,
    results_listing,
    script_json,
    shop_host,
    strip_tags,
    tags_with,
)
from .markets import MERCADOLIBRE
from .model import ROLE_GALLERY, ROLE_OG, ImageCollector, Listing
from .urls import host_of

_ID_URL_RE = re.compile(r"/(?:p/)?(M[A-Z]{2})-?(\d{6,15})(?=[-/?#_]|$)")
_STATE_RES = (re.compile(r"__PRELOADED_STATE__\s*=\s*"), re.compile(r"_n\.ctx\.r\s*=\s*"))
_ZOOM_RE = re.compile(r"""data-zoom=["']([^"'\s>]*mlstatic\.com/[^"'\s>]+)""")
_CARD_NEEDLES = ('class="ui-search-layout__item', "class=ui-search-layout__item",
                 'class="poly-card ')
_CARD_LINK_RE = re.compile(r"""href=["']([^"']*mercadoli[bv]re\.[^"']*)["']""")
_CARD_TITLE_RE = re.compile(
    r"""(?:ui-search-item__title|poly-component__title)\b[^>]*>(.{0,600}?)</(?:h2|h3|a)>""",
    re.DOTALL,
)
_TITLE_TAIL_RE = re.compile(r"\s*[|]\s*(?:Cuotas sin interés|Parcelamento sem juros|"
                            r"MercadoLibre|Mercado Livre).*$", re.IGNORECASE)
_BLOCK_SIGNS = ("account-verification", "/gz/account-verification", "negative_traffic")


def id_from_url(url: str | None) -> str | None:
    """The product/item id in a Mercado Libre URL (MLA123..., MCO-123...), or None."""
    match = _ID_URL_RE.search(url or "")
    return match.group(1) + match.group(2) if match else None


def _state(text: str) -> Any:
    state = script_json(text, "__PRELOADED_STATE__") if "__PRELOADED_STATE__" in text else None
    if state:
        return state
    for pattern in _STATE_RES:
        for value in json_after(text, pattern, limit=2):
            if isinstance(value, dict):
                return value
    return None


def _initial_state(state: Any) -> Any:
    for path in (("pageState", "initialState"), ("appProps", "pageProps", "initialState"),
                 ("initialState",)):
        found = dig(state, *path)
        if isinstance(found, dict):
            return found
    return None


def parse(text: str, url: str, captured: object = None) -> Listing:
    """A Mercado Libre page as a Listing: item, results, or blocked/unsupported with the reason."""
    listing = new_listing(MERCADOLIBRE, url)
    images = ImageCollector()
    initial = _initial_state(_state(text)) if "initialState" in text else None
    gallery = dig(initial, "components", "gallery", "pictures")
    if not isinstance(gallery, list) and initial is not None:
        found = next(find_dicts(dig(initial, "components"), "pictures", 4000), None)
        gallery = dig(found, "pictures")
    for picture in as_list(gallery):
        pid = dig(picture, "id")
        if isinstance(pid, str) and re.fullmatch(r"\d+-[A-Z]{3}\d+_\d+", pid):
            images.add(f"https://http2.mlstatic.com/D_NQ_NP_{pid}-O.jpg", ROLE_GALLERY)
    if images.count():
        listing.source = "preloaded_state"
    product = add_ld_gallery(text, listing, images)
    if not images.count() and "ui-pdp-gallery" in text:  # the rendered gallery alone
        images.add_all(_ZOOM_RE.findall(text), ROLE_GALLERY)
        if images.count():
            listing.source = "dom"
    if images.count():
        return _item(listing, text, url, images, initial, product)
    cards = tags_with(text, _CARD_NEEDLES)
    if cards:
        return _results(listing, text, url, cards)
    reason = blocked_reason(text)
    if reason or any(sign in text for sign in _BLOCK_SIGNS):
        return refuse(listing, reason or "Mercado Libre asked to log in or verify the visit "
                      "instead of showing the page; do so in your browser and send it again",
                      blocked=True)
    return refuse(listing, "no Mercado Libre product data (page state, JSON-LD) and no result "
                           "cards on this page; save it again once it has loaded")


def _item(listing: Listing, text: str, url: str, images: ImageCollector,
          initial: Any, product: dict | None) -> Listing:
    meta = head_meta(text)
    images.add_all(meta.all("og:image"), ROLE_OG)
    listing.images = images.refs()
    listing.product_id = first_text(
        id_from_url(url), dig(initial, "id"), product and product.get("productID"),
        product and product.get("sku"), id_from_url(meta.first("og:url")),
    )
    item_id = first_text(dig(initial, "components", "bookmark", "item_id"))
    if item_id and item_id != listing.product_id:
        listing.alt_product_ids.append(item_id)
    listing.title = first_text(
        product and product.get("name"), dig(initial, "components", "header", "title"),
        _TITLE_TAIL_RE.sub("", meta.title or ""),
    )
    seller = next(find_dicts(dig(initial, "components", "seller_data"), "seller_id", 500), None)
    named = next(find_dicts(dig(initial, "components", "track"), "seller_name", 500), None)
    listing.store_id = first_text(dig(seller, "seller_id"), dig(named, "seller_id"))
    listing.store_name = first_text(dig(named, "seller_name"), dig(seller, "seller_name"))
    if not listing.store_id:
        listing.store_id = shop_host(url) or "mercadolibre"
    listing.canonical_url = first_text(meta.canonical, meta.first("og:url"))
    return listing


def _results(listing: Listing, text: str, url: str, cards: list[tuple[int, dict]]) -> Listing:
    base = url if host_of(url) else "https://www.mercadolibre.com/"
    items = []
    for _index, chunk in card_chunks(text, [pos for pos, _ in cards]):
        link = _CARD_LINK_RE.search(chunk)
        href = link.group(1) if link else None
        imgs = [src for img in iter_attrs(IMG_TAG_RE, chunk, 6)
                for src in (img.get("data-src"), img.get("src")) if src and "mlstatic" in src]
        title = _CARD_TITLE_RE.search(chunk)
        items.append(result_item(id_from_url(href), href, base, imgs[:1],
                                 title and strip_tags(title.group(1))))
    return results_listing(listing, items, "cards")
