"""Etsy: listing pages and search/shop results.

Listing gallery, in order: the listing carousel (`data-src-zoom-image`, the
full-size picture of each pane, in pane order), the JSON-LD Product `image`,
then og:image. The listing id is the product id; the shop name (the id in the
shop's URL, `/shop/<name>`) is the store id. Results: cards carrying
`data-listing-id` with an i.etsystatic.com image. DataDome's bot check is
reported as blocked.
"""

from __future__ import annotations

import re

from .blocked import blocked_reason
from .htmlutil import head_meta
from .marketbase import (
    IMG_TAG_RE,
    add_ld_gallery,
    card_chunks,
    first_text,
    iter_attrs,
    new_listing,
    refuse,
    result_item,
    results_listing,
    strip_tags,
    tags_with,
)
from .markets import ETSY
from .model import ROLE_GALLERY, ROLE_OG, ImageCollector, Listing
from .urls import host_of

_LISTING_URL_RE = re.compile(r"/listing/(\d{5,15})(?=[/?#\"'&]|$)")
_ZOOM_RE = re.compile(r"""data-src-zoom-image=["']?([^"'\s>]+)""")
_SHOP_NAME_RE = re.compile(r""""shop_name"\s*:\s*"([A-Za-z0-9_-]{2,64})\"""")
_SHOP_URL_RE = re.compile(r"""etsy\.com/(?:[a-z]{2}(?:-[a-z]{2})?/)?shop/([A-Za-z0-9_-]{2,64})""")
_TITLE_TAIL_RE = re.compile(r"\s*[-|/]\s*Etsy(?:\s+\w{2})?\s*$", re.IGNORECASE)
_CARD_NEEDLES = ("data-listing-id=",)
_CARD_TITLE_RE = re.compile(r"<h3\b[^>]*>(.{0,600}?)</h3>", re.DOTALL)


def parse(text: str, url: str, captured: object = None) -> Listing:
    """An Etsy page as a Listing: item, results, or blocked/unsupported with the reason."""
    listing = new_listing(ETSY, url)
    listing_id = _listing_id(url)
    images = ImageCollector()
    images.add_all(_ZOOM_RE.findall(text), ROLE_GALLERY)
    if images.count():
        listing.source = "carousel"
    product = add_ld_gallery(text, listing, images)
    if images.count():
        return _item(listing, text, url, images, product)
    reason = blocked_reason(text)
    if reason:
        return refuse(listing, reason, blocked=True)
    if listing_id is None:
        cards = tags_with(text, _CARD_NEEDLES)
        if cards:
            return _results(listing, text, url, cards)
    return refuse(listing, "no Etsy listing gallery (carousel, JSON-LD) and no result cards "
                           "on this page; if it was still loading, save it again")


def _listing_id(url: str | None) -> str | None:
    match = _LISTING_URL_RE.search(url or "")
    return match.group(1) if match else None


def _item(listing: Listing, text: str, url: str, images: ImageCollector,
          product: dict | None) -> Listing:
    meta = head_meta(text)
    images.add_all(meta.all("og:image"), ROLE_OG)
    listing.images = images.refs()
    listing.product_id = first_text(
        _listing_id(url), _listing_id(meta.canonical), _listing_id(meta.first("og:url")),
        _listing_id(product.get("url") if product and isinstance(product.get("url"), str)
                    else None),
    )
    listing.title = first_text(
        product and product.get("name"), meta.first("og:title"),
        _TITLE_TAIL_RE.sub("", meta.title or ""),
    )
    shop = _SHOP_NAME_RE.search(text) or _SHOP_URL_RE.search(text)
    brand = product.get("brand") if product else None
    listing.store_id = first_text(shop and shop.group(1),
                                  brand.get("name") if isinstance(brand, dict) else brand)
    listing.store_name = listing.store_id
    if listing.store_id:
        listing.store_url = f"https://www.etsy.com/shop/{listing.store_id}"
    else:
        listing.store_id = "etsy.com"
    if listing.product_id:
        listing.canonical_url = f"https://www.etsy.com/listing/{listing.product_id}"
    return listing


def _results(listing: Listing, text: str, url: str, cards: list[tuple[int, dict]]) -> Listing:
    base = url if host_of(url) else "https://www.etsy.com/"
    items = []
    for index, chunk in card_chunks(text, [pos for pos, _ in cards]):
        listing_id = cards[index][1].get("data-listing-id")
        if not listing_id or not listing_id.isdigit():
            continue
        imgs = [img for img in iter_attrs(IMG_TAG_RE, chunk, 6)
                if "etsystatic.com" in (img.get("src") or img.get("data-src") or "")]
        title = _CARD_TITLE_RE.search(chunk)
        items.append(result_item(
            listing_id, f"/listing/{listing_id}", base,
            [imgs[0].get("data-src") or imgs[0].get("src")] if imgs else [],
            first_text(title and strip_tags(title.group(1)), imgs[0].get("alt") if imgs else None),
            cards[index][1].get("data-shop-id"),
        ))
    return results_listing(listing, items, "cards")
