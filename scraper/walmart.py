"""Walmart: item pages (Next.js and the older Redux page) and search/browse results.

Item data, in order: `__NEXT_DATA__` (`product.imageInfo.allImages`, `usItemId`,
seller), the older `window.__WML_REDUX_INITIAL_STATE__` (`product.images` by
rank, offers and sellers), then og:image. The store id is the seller's public
number (`catalogSellerId`, as in walmart.com/seller/<n>) when it is not 0,
else Walmart's seller id. Results: `searchResult.itemStacks[].items` of
`__NEXT_DATA__`.
"""

from __future__ import annotations

import re
from typing import Any

from .blocked import blocked_reason
from .htmlutil import head_meta
from .marketbase import (
    as_list,
    dig,
    first_text,
    json_after,
    new_listing,
    refuse,
    result_item,
    results_listing,
    script_json,
    shop_host,
)
from .markets import WALMART
from .model import ROLE_GALLERY, ROLE_OG, ImageCollector, Listing
from .urls import host_of

_ITEM_URL_RE = re.compile(r"/ip/(?:[^/?#]+/)?(\d{5,15})(?=[/?#]|$)")
_REDUX_RE = re.compile(r"__WML_REDUX_INITIAL_STATE__\s*=\s*")
_TITLE_TAIL_RE = re.compile(r"\s*-\s*Walmart\.com\s*$", re.IGNORECASE)
_BLOCK_SIGNS = ("Robot or human?", "px-captcha", "/blocked?url=")


def item_id_from_url(url: str | None) -> str | None:
    """The item number in a Walmart /ip/<slug>/<n> URL, or None."""
    match = _ITEM_URL_RE.search(url or "")
    return match.group(1) if match else None


def parse(text: str, url: str, captured: object = None) -> Listing:
    """A Walmart page as a Listing: item, results, or blocked/unsupported with the reason."""
    listing = new_listing(WALMART, url)
    images = ImageCollector()
    facts: dict[str, Any] = {}
    next_data = script_json(text, "__NEXT_DATA__") if "__NEXT_DATA__" in text else None
    product = dig(next_data, "props", "pageProps", "initialData", "data", "product")
    if isinstance(product, dict):
        for image in as_list(dig(product, "imageInfo", "allImages")):
            images.add(dig(image, "url"), ROLE_GALLERY)
        if images.count():
            listing.source = "next_data"
            facts = _next_facts(product)
    if not images.count() and "__WML_REDUX_INITIAL_STATE__" in text:
        for state in json_after(text, _REDUX_RE, limit=2):
            facts = _redux_facts(state, images)
            if images.count():
                listing.source = "redux"
                break
    if images.count():
        return _item(listing, text, url, images, facts)
    stacks = dig(next_data, "props", "pageProps", "initialData", "searchResult", "itemStacks")
    if isinstance(stacks, list) and stacks:
        return _results(listing, url, stacks)
    reason = blocked_reason(text)
    if reason or any(sign in text for sign in _BLOCK_SIGNS):
        return refuse(listing, reason or "Walmart showed a robot check instead of the page; "
                      "pass it in your browser and send the page again", blocked=True)
    return refuse(listing, "no Walmart product data (__NEXT_DATA__, __WML_REDUX_INITIAL_STATE__)"
                           " and no search results on this page; save it again once it has loaded")


def _store_id(seller: dict) -> str | None:
    catalog = first_text(seller.get("catalogSellerId"))
    return catalog if catalog and catalog != "0" else first_text(seller.get("sellerId"))


def _next_facts(product: dict) -> dict[str, Any]:
    return {
        "product_id": first_text(product.get("usItemId")),
        "title": first_text(product.get("name")),
        "store_id": _store_id(product),
        "store_name": first_text(product.get("sellerDisplayName"), product.get("sellerName")),
        "canonical": first_text(product.get("canonicalUrl")),
    }


def _redux_facts(state: Any, images: ImageCollector) -> dict[str, Any]:
    product = dig(state, "product")
    if not isinstance(product, dict):
        return {}
    assets = product.get("images")
    if isinstance(assets, dict):
        ranked = sorted(
            (a for a in assets.values() if isinstance(a, dict)),
            key=lambda a: a.get("rank") if isinstance(a.get("rank"), int) else 999,
        )
        for asset in ranked:
            sizes = asset.get("assetSizeUrls") or {}
            images.add(sizes.get("zoom") or sizes.get("main"), ROLE_GALLERY)
    primary = dig(product, "products", dig(product, "primaryProduct") or "")
    facts: dict[str, Any] = {
        "product_id": first_text(dig(primary, "usItemId"), dig(state, "productId")),
        "title": first_text(dig(primary, "productAttributes", "productName")),
    }
    offers = dig(primary, "offers")
    offer_id = offers[0] if isinstance(offers, list) and offers else None
    seller_id = dig(product, "offers", offer_id or "", "sellerId")
    seller = dig(product, "sellers", seller_id or "")
    if isinstance(seller, dict):
        facts["store_id"] = _store_id(seller)
        facts["store_name"] = first_text(seller.get("sellerDisplayName"), seller.get("sellerName"))
    return facts


def _item(listing: Listing, text: str, url: str, images: ImageCollector,
          facts: dict[str, Any]) -> Listing:
    meta = head_meta(text)
    images.add_all(meta.all("og:image"), ROLE_OG, base=url or None)
    listing.images = images.refs()
    listing.product_id = first_text(
        item_id_from_url(url), facts.get("product_id"), item_id_from_url(meta.canonical),
        item_id_from_url(meta.first("og:url")),
    )
    listing.title = first_text(facts.get("title"), _TITLE_TAIL_RE.sub("", meta.title or ""))
    listing.store_id = facts.get("store_id")
    listing.store_name = facts.get("store_name")
    host = host_of(url) or "www.walmart.com"
    if listing.store_id and listing.store_id.isdigit():
        listing.store_url = f"https://{host}/seller/{listing.store_id}"
    if not listing.store_id:
        listing.store_id = shop_host(url) or "walmart.com"
    if listing.product_id:
        listing.canonical_url = f"https://{host}/ip/{listing.product_id}"
    return listing


def _results(listing: Listing, url: str, stacks: list) -> Listing:
    base = url if host_of(url) else "https://www.walmart.com/"
    items = []
    for stack in stacks:
        for item in as_list(dig(stack, "items")):
            if not isinstance(item, dict) or not item.get("usItemId"):
                continue
            image = first_text(dig(item, "imageInfo", "thumbnailUrl"), item.get("image"))
            items.append(result_item(
                item.get("usItemId"), item.get("canonicalUrl") or f"/ip/{item['usItemId']}",
                base, [image], item.get("name"),
                _store_id(item), first_text(item.get("sellerName")),
            ))
    return results_listing(listing, items, "next_data")
