"""Lazada (every country): product pages and search/category results.

Product data: the page's module data (`window.__moduleData__ = {...}` in older
pages, `app.run({...})` in newer ones), `data.root.fields`: `skuGalleries`
(the product-level gallery under "0" first, other SKUs' pictures as variants),
`primaryKey.itemId`, `seller`. Then JSON-LD and og:image. Results: the
`data-qa-locator="product-item"` cards (`data-item-id`, `img[type=product]`).
A browser "Save As" copy points its card images at `./<page>_files/<hash>...`;
those are mapped back to the CDN (img.lazcdn.com/g/p/<hash>.<ext>).
"""

from __future__ import annotations

import re
from typing import Any

from .blocked import blocked_reason
from .htmlutil import head_meta
from .marketbase import (
    IMG_TAG_RE,
    as_list,
    card_chunks,
    dig,
    find_dicts,
    first_text,
    iter_attrs,
    json_after,
    ld_image_urls,
    ld_product,
    new_listing,
    refuse,
    result_item,
    results_listing,
    shop_host,
    tags_with,
)
from .markets import LAZADA
from .model import ROLE_GALLERY, ROLE_OG, ROLE_VARIANT, ImageCollector, Listing
from .urls import host_of

_ITEM_URL_RE = re.compile(r"-i(\d{5,15})(?:-s(\d{5,15}))?\.html")
_PAGE_DATA_RE = re.compile(r"window\.pageData\s*=\s*")
_MODULE_RES = (re.compile(r"__moduleData__\s*=\s*"), re.compile(r"app\.run\(\s*"))
_CARD_NEEDLES = ('data-qa-locator="product-item"', "data-qa-locator=product-item")
_LOCAL_SAVED_RE = re.compile(r"^\./[^/]+_files/([0-9a-f]{32})\.(jpe?g|png|webp)", re.IGNORECASE)
_TITLE_TAIL_RE = re.compile(r"\s*\|\s*Lazada.*$", re.IGNORECASE)


def item_id_from_url(url: str | None) -> str | None:
    """The item id in a Lazada product URL (...-i<item>-s<sku>.html), or None."""
    match = _ITEM_URL_RE.search(url or "")
    return match.group(1) if match else None


def _fields(text: str) -> dict | None:
    for pattern in _MODULE_RES:
        for value in json_after(text, pattern, limit=3):
            fields = dig(value, "data", "root", "fields")
            if not isinstance(fields, dict):
                fields = next(find_dicts(value, "skuGalleries", 3000), None)
            if isinstance(fields, dict) and fields.get("skuGalleries"):
                return fields
    return None


def _gallery_src(entry: Any) -> Any:
    if isinstance(entry, dict):
        if entry.get("type") not in (None, "img", "image"):
            return None  # videos
        return entry.get("src") or entry.get("poster")
    return entry


def parse(text: str, url: str, captured: object = None) -> Listing:
    """A Lazada page as a Listing: item, results, or blocked/unsupported with the reason."""
    listing = new_listing(LAZADA, url)
    images = ImageCollector()
    fields = _fields(text) if "skuGalleries" in text else None
    if fields is not None:
        galleries = fields["skuGalleries"]
        if isinstance(galleries, dict):
            keys = sorted(galleries, key=lambda k: k != "0")  # "0": the product's own gallery
            for key in keys:
                role = ROLE_GALLERY if key == keys[0] else ROLE_VARIANT
                for entry in as_list(galleries[key]):
                    images.add(_gallery_src(entry), role)
        if images.count():
            listing.source = "module_data"
    if images.count():
        return _item(listing, text, url, images, fields, ld_product(text, listing.notes))
    # A results page also carries JSON-LD (an ItemList and a "Product" for one card): the
    # cards come first, JSON-LD stands in only on a product page without module data.
    cards = tags_with(text, _CARD_NEEDLES)
    if cards:
        return _results(listing, text, url, cards)
    if "listItems" in text:  # the server-rendered search data, before the cards are drawn
        found = _page_data_results(listing, text, url)
        if found is not None:
            return found
    product = ld_product(text, listing.notes)
    if product is not None:
        images.add_all(ld_image_urls(product.get("image")), ROLE_GALLERY)
        if images.count():
            listing.source = "jsonld"
            return _item(listing, text, url, images, fields, product)
    reason = blocked_reason(text)
    if reason:
        return refuse(listing, reason.replace("AliExpress", "Lazada"), blocked=True)
    return refuse(listing, "no Lazada product data (module data, JSON-LD) and no product cards "
                           "on this page; save it again once it has loaded")


def _item(listing: Listing, text: str, url: str, images: ImageCollector,
          fields: dict | None, product: dict | None) -> Listing:
    meta = head_meta(text)
    images.add_all(meta.all("og:image"), ROLE_OG)
    listing.images = images.refs()
    listing.product_id = first_text(
        item_id_from_url(url), dig(fields, "primaryKey", "itemId"),
        item_id_from_url(meta.canonical), product and product.get("sku"),
    )
    listing.title = first_text(
        dig(fields, "product", "title"), product and product.get("name"),
        _TITLE_TAIL_RE.sub("", meta.first("og:title") or meta.title or ""),
    )
    seller = dig(fields, "seller")
    listing.store_id = first_text(dig(seller, "sellerId"), dig(seller, "shopId"),
                                  dig(fields, "primaryKey", "sellerId"))
    listing.store_name = first_text(dig(seller, "name"), dig(seller, "shopName"))
    store_url = first_text(dig(seller, "url"))
    listing.store_url = ("https:" + store_url if store_url and store_url.startswith("//")
                         else store_url)
    if not listing.store_id:
        listing.store_id = shop_host(url) or "lazada"
    listing.canonical_url = first_text(meta.canonical)
    return listing


def _card_image(img: dict[str, str]) -> str | None:
    src = img.get("data-src") or img.get("src") or ""
    local = _LOCAL_SAVED_RE.match(src)
    if local:  # a "Save As" copy: the file name keeps the CDN hash
        return f"https://img.lazcdn.com/g/p/{local.group(1)}.{local.group(2)}"
    return src or None


def _results(listing: Listing, text: str, url: str, cards: list[tuple[int, dict]]) -> Listing:
    base = url if host_of(url) else "https://www.lazada.com/"
    items = []
    local_files = False
    for index, chunk in card_chunks(text, [pos for pos, _ in cards]):
        attrs = cards[index][1]
        imgs = [img for img in iter_attrs(IMG_TAG_RE, chunk, 8) if img.get("type") == "product"]
        link = re.search(r"""href=["']([^"']*-i\d{5,15}[^"']*)["']""", chunk)
        href = link.group(1) if link else None
        item_id = first_text(attrs.get("data-item-id"), item_id_from_url(href))
        src = _card_image(imgs[0]) if imgs else None
        local_files = local_files or bool(imgs and _LOCAL_SAVED_RE.match(imgs[0].get("src", "")))
        items.append(result_item(item_id, href, base, [src],
                                 imgs[0].get("alt") if imgs else None))
    if local_files:
        listing.notes.append("card images pointed at a saved page's local files; their CDN "
                             "addresses were rebuilt from the file names")
    return results_listing(listing, items, "cards")


def _page_data_results(listing: Listing, text: str, url: str) -> Listing | None:
    """Results from `window.pageData.mods.listItems` (itemId, name, image, productUrl, seller)."""
    base = url if host_of(url) else "https://www.lazada.com/"
    for data in json_after(text, _PAGE_DATA_RE, limit=2):
        entries = dig(data, "mods", "listItems")
        if not isinstance(entries, list):
            continue
        items = [
            result_item(e.get("itemId"), e.get("itemUrl") or e.get("productUrl"), base,
                        [e.get("image")], e.get("name"), e.get("sellerId"), e.get("sellerName"))
            for e in entries if isinstance(e, dict)
        ]
        return results_listing(listing, items, "page_data")
    return None
