"""Temu: goods pages and list pages (search, category, best-sellers, store lists).

Everything is in `window.rawData`. A goods page's `store` carries the goods
(`goodsId`, name, `mallId`) and its `gallery` (`url` per picture, main first);
list pages carry `goodsList` entries (`goodsId`, `thumbUrl`/`image.url`,
`linkUrl`/`seoLinkUrl`, `mallId`). A login wall (rawData of the login page) is
blocked; a store shell without rawData goods (client-rendered) is unsupported.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .blocked import blocked_reason
from .htmlutil import head_meta
from .marketbase import (
    as_list,
    dig,
    find_dicts,
    first_text,
    json_after,
    link_store_and_item,
    new_listing,
    refuse,
    result_item,
    results_listing,
)
from .markets import TEMU
from .model import ROLE_GALLERY, ROLE_OG, ImageCollector, Listing
from .urls import host_of

_RAW_RE = re.compile(r"window\.rawData\s*=\s*")
_GOODS_URL_RE = re.compile(r"-g-(\d{6,20})\.html")
_MALL_URL_RE = re.compile(r"-m-(\d{6,20})\.html")
_GALLERY_KEYS = ("gallery", "galleryList", "goodsGallery", "carouselList")


def goods_id_from_url(url: str | None) -> str | None:
    """The goods id of a Temu goods URL (...-g-<id>.html or goods.html?goods_id=<id>), or None."""
    match = _GOODS_URL_RE.search(url or "")
    if match:
        return match.group(1)
    try:
        values = parse_qs(urlsplit(url or "").query).get("goods_id", [])
    except ValueError:
        return None
    return next((v for v in values if v.isdigit()), None)


def _image_url(value: Any) -> Any:
    if isinstance(value, dict):
        return value.get("url") or value.get("imgUrl") or value.get("hdUrl")
    return value


def parse(text: str, url: str, captured: object = None) -> Listing:
    """A Temu page as a Listing: item, results, or blocked/unsupported with the reason."""
    listing = new_listing(TEMU, url)
    raw = next(json_after(text, _RAW_RE, limit=2), None) if "rawData" in text else None
    store = dig(raw, "store") if isinstance(dig(raw, "store"), dict) else dig(raw, "stores")
    goods_id = goods_id_from_url(url)
    goods = dig(store, "goods")
    if not isinstance(goods, dict):
        goods = next((d for d in find_dicts(store, "goodsId", 4000)
                      if goods_id is None or str(d.get("goodsId")) == goods_id), None)
    images = ImageCollector()
    if isinstance(goods, dict) and (goods_id or "goodsList" not in text):
        for key in _GALLERY_KEYS:
            holder = next(find_dicts(store, key, 4000), None)
            for entry in as_list(dig(holder, key)):
                images.add(_image_url(entry), ROLE_GALLERY)
            if images.count():
                break
        images.add(first_text(goods.get("hdThumbUrl"), goods.get("thumbUrl")), ROLE_GALLERY)
        if images.count():
            listing.source = "rawData"
            return _item(listing, text, url, images, store, goods)
    lists = [d for d in find_dicts(store, "goodsList", 4000) if isinstance(d["goodsList"], list)]
    if any(lists):
        return _results(listing, url, lists)
    page_id = dig(raw, "store", "metaParams", "page_id") or dig(store, "metaParams", "page_id")
    if page_id == "login" or "/login.html" in (url or ""):
        return refuse(listing, "Temu showed its login page instead of the listing; log in in "
                               "your browser and send the page again", blocked=True)
    reason = blocked_reason(text)
    if reason:
        return refuse(listing, reason, blocked=True)
    return refuse(listing, "no Temu goods data (window.rawData goods or goodsList) in this page; "
                           "Temu draws store pages in the browser: send the page once its "
                           "products are shown")


def _item(listing: Listing, text: str, url: str, images: ImageCollector, store: Any,
          goods: dict) -> Listing:
    meta = head_meta(text)
    images.add_all(meta.all("og:image"), ROLE_OG)
    listing.images = images.refs()
    listing.product_id = first_text(goods_id_from_url(url), goods.get("goodsId"))
    listing.title = first_text(goods.get("goodsName"), goods.get("title"), meta.first("og:title"),
                               meta.title)
    mall = next(find_dicts(store, "mallName", 4000), None)
    listing.store_id = first_text(goods.get("mallId"), dig(mall, "mallId"))
    listing.store_name = first_text(dig(mall, "mallName"))
    link_store_and_item(listing, url, "www.temu.com", "/-m-{store}.html",
                        "/-g-{product}.html", "temu.com")
    return listing


def _results(listing: Listing, url: str, lists: list[dict]) -> Listing:
    base = url if host_of(url) else "https://www.temu.com/"
    items = []
    for holder in lists:
        for goods in holder["goodsList"]:
            if not isinstance(goods, dict) or not goods.get("goodsId"):
                continue
            link = first_text(goods.get("seoLinkUrl"), goods.get("linkUrl"),
                              f"/goods.html?goods_id={goods['goodsId']}")
            image = first_text(goods.get("thumbUrl"), _image_url(goods.get("image")),
                               goods.get("hdThumbUrl"))
            items.append(result_item(
                goods["goodsId"], link, base, [image],
                first_text(goods.get("title"), goods.get("goodsName"), goods.get("pageAlt")),
                goods.get("mallId"),
            ))
    mall = _MALL_URL_RE.search(url or "")
    return results_listing(listing, items, "rawData", {"mall_id": mall.group(1)} if mall else {})
