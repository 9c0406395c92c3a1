"""Shopee (every country): product and search data captured by the extension.

Shopee's HTML is an empty app shell: the product comes from its JSON API,
which the extension captures in the page's session and pushes with the page
(as AliExpress's mtop answer is): `/api/v4/pdp/get_pc` (`data.item`,
`data.product_images`, `data.shop_detailed`), `/api/v4/item/get` (`data` or
`item` with `images`, `tier_variations`), and for results
`/api/v4/search/search_items` (`items[].item_basic`). `captured` may be one
answer or a list of them; a pushed JSON answer on its own also works. Image
hashes become `down-<cc>.img.susercontent.com/file/<hash>` URLs. A shell
without captured data is unsupported, with the reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .blocked import blocked_reason
from .marketbase import (
    as_list,
    dig,
    first_text,
    new_listing,
    refuse,
    result_item,
    results_listing,
)
from .markets import SHOPEE
from .model import ROLE_GALLERY, ROLE_VARIANT, ImageCollector, Listing
from .urls import host_of

_ITEM_URL_RE = re.compile(r"(?:-i\.|/product/)(\d{3,15})[./](\d{3,20})(?=[/?#.]|$)")
_HASH_RE = re.compile(r"^[0-9a-zA-Z-]{20,80}$")
_COUNTRY_RE = re.compile(r"shopee\.(?:com\.|co\.)?([a-z]{2})$")


def ids_from_url(url: str | None) -> tuple[str, str] | None:
    """(shop id, item id) of a Shopee product URL (...-i.<shop>.<item>, /product/<s>/<i>)."""
    match = _ITEM_URL_RE.search(url or "")
    return (match.group(1), match.group(2)) if match else None


def _answers(text: str, captured: object) -> list[dict]:
    found = [c for c in as_list(captured) if isinstance(c, dict)]
    # several answers in one push: {"responses": [...]} (as the extension sends AliExpress's)
    found += [r for c in found for r in as_list(c.get("responses")) if isinstance(r, dict)]
    stripped = text.lstrip()
    if stripped[:1] == "{":
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict):
            found.append(value)
    return found


def _image(value: Any, country: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if _HASH_RE.match(value):
        return f"https://down-{country}.img.susercontent.com/file/{value}"
    return value


def _item_of(answer: dict) -> dict | None:
    """The product object of a get_pc or item/get answer."""
    for path in (("data", "item"), ("item",), ("data",)):
        item = dig(answer, *path)
        if isinstance(item, dict) and (item.get("item_id") or item.get("itemid")):
            return item
    return None


def parse(text: str, url: str, captured: object = None) -> Listing:
    """A Shopee page (with its captured API answers) as a Listing, or unsupported/blocked."""
    listing = new_listing(SHOPEE, url)
    host = host_of(url)
    match = _COUNTRY_RE.search(host)
    country = match.group(1) if match else "sg"
    answers = _answers(text, captured)
    for answer in answers:
        item = _item_of(answer)
        if item is not None:
            return _item(listing, url, answer, item, country)
    for answer in answers:
        cards = as_list(dig(answer, "items")) or as_list(dig(answer, "data", "items"))
        if cards:
            items = []
            for card in cards:
                basic = dig(card, "item_basic") or card
                if not isinstance(basic, dict):
                    continue
                shop, itemid = basic.get("shopid"), basic.get("itemid")
                link = f"/product/{shop}/{itemid}" if shop and itemid else None
                items.append(result_item(
                    itemid, link, url if host else "https://shopee.sg/",
                    [_image(basic.get("image"), country)], basic.get("name"), shop,
                    basic.get("shop_name"),
                ))
            return results_listing(listing, items, "captured")
    reason = blocked_reason(text)
    if reason:
        return refuse(listing, reason, blocked=True)
    return refuse(listing, "Shopee pages are an app shell with no product data in the HTML; "
                           "the extension must capture Shopee's product answer "
                           "(/api/v4/pdp/get_pc or /api/v4/item/get) and send it with the page")


def _item(listing: Listing, url: str, answer: dict, item: dict, country: str) -> Listing:
    images = ImageCollector()
    gallery = (as_list(dig(answer, "data", "product_images", "images"))
               or as_list(item.get("images")) or [item.get("image")])
    for value in gallery:
        images.add(_image(value, country), ROLE_GALLERY)
    tiers = (as_list(dig(answer, "data", "product_images", "first_tier_variations"))
             or as_list(item.get("tier_variations")))
    for tier in tiers:
        images.add(_image(dig(tier, "image"), country), ROLE_VARIANT)
        for value in as_list(dig(tier, "images")):
            images.add(_image(value, country), ROLE_VARIANT)
    listing.source = "captured"
    listing.images = images.refs()
    if not images.count(ROLE_GALLERY):
        return refuse(listing, "the captured Shopee answer names the product but no image of it")
    url_ids = ids_from_url(url)
    listing.product_id = first_text(item.get("item_id"), item.get("itemid"),
                                    url_ids and url_ids[1])
    listing.store_id = first_text(item.get("shop_id"), item.get("shopid"),
                                  url_ids and url_ids[0])
    listing.title = first_text(item.get("title"), item.get("name"))
    shop = dig(answer, "data", "shop_detailed") or {}
    listing.store_name = first_text(dig(shop, "name"), dig(shop, "account", "username"),
                                    item.get("shop_name"))
    host = host_of(url) or "shopee.sg"
    if listing.store_id:
        listing.store_url = f"https://{host}/shop/{listing.store_id}"
        if listing.product_id:
            listing.canonical_url = f"https://{host}/product/{listing.store_id}/{listing.product_id}"
    return listing
