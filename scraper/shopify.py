"""Shopify storefronts (any domain): product pages, `/products/<handle>.js`, collections.

Product images, in order: the product JSON (`/products/<handle>.js` or `.json`
when that is what was fetched or captured, or a theme's embedded
`application/json` product object), then JSON-LD Product/ProductGroup `image`
(their `hasVariant` images are variants), then og:image. The product id is
Shopify's numeric product id (`ShopifyAnalytics.meta` / `var meta`, the
product JSON), else the handle; the store id is the shop's domain.
Collections: one card per `/products/<handle>` link with its image.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from .blocked import blocked_reason
from .htmlutil import head_meta, script_blocks
from .marketbase import (
    IMG_TAG_RE,
    as_list,
    dig,
    first_text,
    iter_attrs,
    json_after,
    ld_image_urls,
    ld_products,
    new_listing,
    refuse,
    result_item,
    results_listing,
    shop_host,
)
from .markets import SHOPIFY
from .model import ROLE_GALLERY, ROLE_OG, ROLE_VARIANT, ImageCollector, Listing

_HANDLE_RE = re.compile(r"/products/([^/?#.\"']+)")
_META_RE = re.compile(r"var meta\s*=\s*")
_SHOP_RE = re.compile(r"""Shopify\.shop\s*=\s*["']([a-z0-9.-]+)["']""")
_CARD_LINK_RE = re.compile(r"""<a\b[^>]*?href=["']([^"']*/products/[^"'?#]+)[^>]*>""")


def handle_from_url(url: str | None) -> str | None:
    """The product handle in a Shopify /products/<handle> URL, or None."""
    match = _HANDLE_RE.search(url or "")
    return match.group(1) if match else None


def _product_json(text: str, captured: object) -> dict | None:
    """The Shopify product object: captured, the page itself (a .js/.json answer), or embedded."""
    candidates: list[Any] = [captured]
    stripped = text.lstrip()
    if stripped[:1] == "{":
        with contextlib.suppress(ValueError, RecursionError):
            candidates.append(json.loads(stripped))
    for value in candidates:
        value = value.get("product", value) if isinstance(value, dict) else None
        if isinstance(value, dict) and ("images" in value or "media" in value):
            return value
    for attrs, body in script_blocks(text):
        if "application/json" in attrs and '"handle"' in body and '"images"' in body:
            try:
                value = json.loads(body)
            except (ValueError, RecursionError):
                continue
            value = value.get("product", value) if isinstance(value, dict) else None
            if isinstance(value, dict) and isinstance(value.get("images"), list):
                return value
    return None


def _json_image(value: Any) -> Any:
    return value.get("src") or value.get("url") if isinstance(value, dict) else value


def parse(text: str, url: str, captured: object = None) -> Listing:
    """A Shopify page as a Listing: item, results, or blocked/unsupported with the reason."""
    listing = new_listing(SHOPIFY, url)
    base = url or None
    images = ImageCollector()
    product = _product_json(text, captured)
    if product is not None:
        for image in as_list(product.get("images")) + as_list(product.get("media")):
            images.add(_json_image(image), ROLE_GALLERY, base)
        if images.count():
            listing.source = "product_json"
    ld = ld_products(text, listing.notes)
    before = images.count()
    for node in ld:
        images.add_all(ld_image_urls(node.get("image")), ROLE_GALLERY, base)
    if images.count() > before and not listing.source:
        listing.source = "jsonld"
    for node in ld:
        for variant in as_list(node.get("hasVariant")):
            if isinstance(variant, dict):
                images.add_all(ld_image_urls(variant.get("image")), ROLE_VARIANT, base)
    if images.count():
        return _item(listing, text, url, images, product, ld)
    if "<" in text:
        cards = _cards(text, url)
        if cards:
            return results_listing(listing, cards, "cards")
    reason = blocked_reason(text)
    if reason:
        return refuse(listing, reason, blocked=True)
    return refuse(listing, "no Shopify product data (product JSON, JSON-LD) and no product "
                           "cards on this page; save it again once it has loaded")


def _item(listing: Listing, text: str, url: str, images: ImageCollector,
          product: dict | None, ld: list[dict]) -> Listing:
    meta = head_meta(text) if "<" in text else None
    if meta is not None:
        images.add_all(meta.all("og:image", "og:image:secure_url"), ROLE_OG, url or None)
    listing.images = images.refs()
    page_meta = next(json_after(text, _META_RE, limit=1), None) if "var meta" in text else None
    group = next((n for n in ld if "ProductGroup" in str(n.get("@type"))), None)
    listing.product_id = first_text(
        dig(page_meta, "product", "id"), product and product.get("id"),
        group and group.get("productGroupID"), product and product.get("handle"),
        handle_from_url(url),
    )
    listing.title = first_text(
        product and product.get("title"), ld[0].get("name") if ld else None,
        meta and meta.first("og:title"), meta and meta.title,
    )
    shop = _SHOP_RE.search(text)
    listing.store_id = first_text(shop_host(url), shop and shop.group(1))
    brand = dig(ld[0], "brand", "name") if ld else None
    listing.store_name = first_text(
        meta and meta.first("og:site_name"), product and product.get("vendor"), brand,
        listing.store_id,
    )
    if listing.store_id:
        listing.store_url = f"https://{listing.store_id}/"
    handle = first_text(product and product.get("handle"), handle_from_url(url))
    if handle and listing.store_id:
        listing.canonical_url = f"https://{listing.store_id}/products/{handle}"
    return listing


def _cards(text: str, url: str) -> list:
    """One card per product link of a collection/search page, with the first image after it."""
    base = url if url else "https://shop.invalid/"
    items = []
    links = list(_CARD_LINK_RE.finditer(text))[:400]
    for i, link in enumerate(links):
        end = links[i + 1].start() if i + 1 < len(links) else min(len(text), link.end() + 4000)
        chunk = text[link.start(): min(end, link.end() + 4000)]
        imgs = [img for img in iter_attrs(IMG_TAG_RE, chunk, 3)
                if "/cdn/shop/" in str(img) or "cdn.shopify.com" in str(img)]
        if not imgs:
            continue
        first = imgs[0]
        src = first.get("data-src") or first.get("src") or first.get("srcset", "").split(" ")[0]
        handle = handle_from_url(link.group(1))
        items.append(result_item(handle, link.group(1), base, [src.replace("{width}", "1000")],
                                 imgs[0].get("alt"), shop_host(url)))
    return items
