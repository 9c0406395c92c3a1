"""Taobao and Tmall: item pages of each generation, and search results.

Item gallery, in order of page generation: the 2024+ app context
(`loaderData ... res.item.images`, seller in `res.seller`), Tmall's
`TShop.Setup({... propertyPics ...})`, Taobao's `g_config.auctionImages`, then
the rendered gallery (thumbnail and main-picture <img>). The item id is the
product id (the `id=` of item.htm), the shop id the store id. Search results:
`g_page_config.mods.itemlist.data.auctions`. Login walls and Alibaba's
punish/captcha page, with no item data, are blocked.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .blocked import blocked_reason
from .htmlutil import head_meta
from .marketbase import (
    IMG_TAG_RE,
    as_list,
    dig,
    find_dicts,
    first_text,
    iter_attrs,
    json_after,
    json_at,
    new_listing,
    refuse,
    result_item,
    results_listing,
    shop_host,
)
from .markets import TAOBAO
from .model import ROLE_GALLERY, ROLE_VARIANT, ImageCollector, Listing
from .urls import host_of

_AUCTION_RE = re.compile(r"auctionImages\s*:\s*(?=\[)")
_TSHOP_RE = re.compile(r"TShop\.Setup\(\s*")
_PAGE_CONFIG_RE = re.compile(r"g_page_config\s*=\s*")
_JS_FIELD = r"""\s*:\s*['"]((?:[^'"\\]|\\.){1,200})['"]"""
_FIELD_RES = {name: re.compile(name + _JS_FIELD) for name in
              ("itemId", "shopId", "sellerId", "shopName", "title")}
_RENDERED_CLASSES = ("thumbnailPic", "mainPic", "PicGallery", "J_ImgBooth")
_LOGIN_SIGNS = ("login.taobao.com/member/login", "login.tmall.com", "havanalogin")
_TITLE_TAIL_RE = re.compile(r"\s*-\s*(?:淘宝网|tmall\.com天猫|天猫.*)$")


def item_id_from_url(url: str | None) -> str | None:
    """The item id of a Taobao/Tmall item URL (item.htm?id=<n>), or None."""
    try:
        values = parse_qs(urlsplit(url or "").query).get("id", [])
    except ValueError:
        return None
    return next((v for v in values if v.isdigit() and 6 <= len(v) <= 20), None)


def _js_field(text: str, name: str, after: str = "g_config") -> str | None:
    """A quoted value of `name : '...'` in g_config, with its \\u escapes decoded."""
    start = text.find(after)
    if start < 0:
        return None
    match = _FIELD_RES[name].search(text, start)
    if not match:
        return None
    raw = match.group(1)
    try:
        return json.loads('"' + raw.replace('"', '\\"') + '"') if "\\" in raw else raw
    except ValueError:
        return raw


def _app_context(text: str) -> dict[str, Any]:
    pos = text.find('"loaderData"')
    start = text.rfind("{", max(0, pos - 200), pos) if pos >= 0 else -1
    value = json_at(text, start) if start >= 0 else None
    res = next((d for d in find_dicts(value, "item", 5000)
                if isinstance(dig(d, "item", "images"), list)), None)
    return res or {}


def parse(text: str, url: str, captured: object = None) -> Listing:
    """A Taobao/Tmall page as a Listing: item, results, or blocked/unsupported with the reason."""
    listing = new_listing(TAOBAO, url)
    images = ImageCollector()
    facts: dict[str, Any] = {}
    res = _app_context(text) if '"loaderData"' in text else {}
    if res:
        images.add_all(dig(res, "item", "images"), ROLE_GALLERY)
        seller = dig(res, "seller") or {}
        facts = {"product_id": dig(res, "item", "itemId"), "title": dig(res, "item", "title"),
                 "store_id": dig(seller, "shopId"), "store_name": dig(seller, "shopName"),
                 "store_url": dig(seller, "pcShopUrl")}
        listing.source = "app_context" if images.count() else None
    if not images.count() and "TShop.Setup" in text:
        for setup in json_after(text, _TSHOP_RE, limit=2):
            pics = dig(setup, "propertyPics")
            if isinstance(pics, dict):
                images.add_all(pics.get("default"), ROLE_GALLERY)
                for key, values in pics.items():
                    if key != "default":
                        images.add_all(values, ROLE_VARIANT)
            facts = {"product_id": dig(setup, "itemDO", "itemId"),
                     "title": dig(setup, "itemDO", "title"),
                     "store_id": first_text(dig(setup, "rstShopId"), dig(setup, "shopId"))}
            if images.count():
                listing.source = "tshop"
                break
    if not images.count() and "auctionImages" in text:
        for values in json_after(text, _AUCTION_RE, limit=1):
            images.add_all(values, ROLE_GALLERY)
        if images.count():
            listing.source = "g_config"
    if not images.count():
        for img in iter_attrs(IMG_TAG_RE, text, 400):
            if any(c in img.get("class", "") + img.get("id", "") for c in _RENDERED_CLASSES):
                images.add(img.get("data-src") or img.get("src"), ROLE_GALLERY)
        if images.count():
            listing.source = "dom"
    if images.count():
        return _item(listing, text, url, images, facts)
    if "g_page_config" in text:
        found = _results(listing, text, url)
        if found is not None:
            return found
    reason = blocked_reason(text)
    if reason or any(sign in text for sign in _LOGIN_SIGNS):
        return refuse(listing, (reason or "").replace("AliExpress", "Taobao") or
                      "Taobao asked to log in instead of showing the item; log in in your "
                      "browser and send the page again", blocked=True)
    return refuse(listing, "no Taobao/Tmall item data (app context, TShop.Setup, g_config) and "
                           "no gallery on this page; save it again once it has loaded")


def _item(listing: Listing, text: str, url: str, images: ImageCollector,
          facts: dict[str, Any]) -> Listing:
    listing.images = images.refs()
    meta = head_meta(text)
    listing.product_id = first_text(item_id_from_url(url), facts.get("product_id"),
                                    _js_field(text, "itemId"), item_id_from_url(meta.canonical))
    listing.title = first_text(facts.get("title"), _TITLE_TAIL_RE.sub("", meta.title or ""),
                               _js_field(text, "title", after="idata"))
    listing.store_id = first_text(facts.get("store_id"), _js_field(text, "shopId"))
    listing.store_name = first_text(facts.get("store_name"), _js_field(text, "shopName"))
    store_url = first_text(facts.get("store_url"))
    if store_url:
        listing.store_url = "https:" + store_url if store_url.startswith("//") else store_url
    elif listing.store_id:
        listing.store_url = f"https://shop{listing.store_id}.taobao.com/"
    if not listing.store_id:
        listing.store_id = first_text(_js_field(text, "sellerId"), shop_host(url)) or "taobao"
    if listing.product_id:
        listing.canonical_url = f"https://item.taobao.com/item.htm?id={listing.product_id}"
    return listing


def _results(listing: Listing, text: str, url: str) -> Listing | None:
    base = url if host_of(url) else "https://s.taobao.com/"
    for config in json_after(text, _PAGE_CONFIG_RE, limit=2):
        auctions = dig(config, "mods", "itemlist", "data", "auctions")
        if not isinstance(auctions, list):
            continue
        items = [
            result_item(a.get("nid"), a.get("detail_url") or f"//item.taobao.com/item.htm?id="
                        f"{a.get('nid')}", base, [a.get("pic_url")], a.get("raw_title"),
                        a.get("user_id"), a.get("nick"))
            for a in as_list(auctions) if isinstance(a, dict)
        ]
        return results_listing(listing, items, "g_page_config")
    return None
