"""Read AliExpress item data objects, one function per page generation.

Each function takes an already-decoded data object and returns ItemFacts (raw,
un-normalised URLs) or None when the object is not of its generation. Field
paths are those in shared/notes/aliexpress-pages.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .htmlutil import clean_text

_ITEM_ID_IN_TEXT_RE = re.compile(r"/item/(?:[^/\"'<>]*/)?(\d{6,20})\.html")
_DIGITS_RE = re.compile(r"^\d{3,20}$")


@dataclass(slots=True)
class ItemFacts:
    """What one data object says about an item; any field may be missing."""

    source: str
    product_id: str | None = None
    alt_ids: list[str] = field(default_factory=list)
    title: str | None = None
    store_id: str | None = None
    store_name: str | None = None
    store_url: str | None = None
    description_url: str | None = None
    gallery: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)


def get(obj: Any, *path: str | int) -> Any:
    """obj[p0][p1]... or None when any step is missing or of the wrong type."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or not -len(obj) <= step < len(obj):
                return None
        elif not isinstance(obj, dict):
            return None
        obj = obj[step] if isinstance(step, int) else obj.get(step)
    return obj


def as_id(value: Any) -> str | None:
    """A numeric id as text (ids come as int or str), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and _DIGITS_RE.match(value.strip()):
        return value.strip()
    return None


def first(*values: Any) -> Any:
    """The first value that is not None/empty."""
    for value in values:
        if value not in (None, "", [], {}):
            return value
    return None


def str_list(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def ids_in_text(*texts: Any) -> list[str]:
    """Item ids named in canonical/hreflang tags or URLs."""
    found: list[str] = []
    for text in texts:
        if isinstance(text, str):
            found.extend(m.group(1) for m in _ITEM_ID_IN_TEXT_RE.finditer(text))
    return found


def _sku_images(properties: Any) -> list[str]:
    """skuPropertyImagePath of every SKU value (colour swatches are product photos)."""
    urls: list[str] = []
    if not isinstance(properties, list):
        return urls
    for prop in properties:
        for value in get(prop, "skuPropertyValues") or []:
            url = first(
                get(value, "skuPropertyImagePath"),
                get(value, "skuPropertyImagePathRetina"),
                get(value, "skuPropertyImageSummPath"),
            )
            if isinstance(url, str):
                urls.append(url)
    return urls


# --- 1. mtop.aliexpress.pdp.pc.query --------------------------------------------------

_MTOP_KEYS = ("HEADER_IMAGE_PC", "SHOP_CARD_PC", "PRODUCT_TITLE", "GLOBAL_DATA", "SKU")


def _mtop_result(obj: Any, depth: int = 0) -> dict | None:
    """The `data.result` dict, whether given the whole response, `data`, or `result`."""
    if not isinstance(obj, dict) or depth > 4:
        return None
    if any(key in obj for key in _MTOP_KEYS):
        return obj
    for key in ("data", "result"):
        found = _mtop_result(obj.get(key), depth + 1)
        if found is not None:
            return found
    return None


def from_mtop(obj: Any) -> ItemFacts | None:
    result = _mtop_result(obj)
    if result is None:
        return None
    header = get(result, "HEADER_IMAGE_PC") or {}
    gallery = (
        first(
            str_list(get(header, "imagePathList")),
            str_list(get(header, "imgList")),
            [
                u
                for u in (get(m, "imageUrl") for m in get(header, "mainImages") or [])
                if isinstance(u, str)
            ],
        )
        or []
    )
    variants = _sku_images(
        first(get(result, "SKU", "skuProperties"), get(result, "SKU", "productSKUPropertyList"))
    )
    sku_map = get(header, "skuImagesMap")
    if isinstance(sku_map, dict):
        for value in sku_map.values():
            url = value if isinstance(value, str) else get(value, "imageUrl")
            if isinstance(url, str):
                variants.append(url)
    shop = get(result, "SHOP_CARD_PC") or {}
    glob = get(result, "GLOBAL_DATA", "globalData") or {}
    return ItemFacts(
        source="mtop",
        product_id=as_id(
            first(
                get(glob, "productId"),
                get(result, "PRICE", "productId"),
                get(glob, "productInfo", "productId"),
            )
        ),
        title=clean_text(first(get(result, "PRODUCT_TITLE", "text"), get(glob, "subject"))),
        store_id=as_id(
            first(get(shop, "sellerInfo", "storeNum"), get(shop, "storeNum"), get(glob, "storeId"))
        ),
        store_name=clean_text(first(get(shop, "storeName"), get(glob, "storeName"))),
        store_url=first(get(shop, "storeHomePage"), get(shop, "sellerInfo", "storeURL")),
        description_url=first(
            get(result, "DESC", "pcDescUrl"), get(result, "DESC", "nativeDescUrl")
        ),
        gallery=gallery,
        variants=variants,
    )


# --- 2./3. window.runParams.data: "component" (is23) and "module" generations ---------------


def from_components(data: Any) -> ItemFacts | None:
    if not isinstance(data, dict) or "imageComponent" not in data:
        return None
    image = data.get("imageComponent") or {}
    seller = get(data, "sellerComponent") or {}
    info = get(data, "productInfoComponent") or {}
    meta = get(data, "metaDataComponent") or {}
    return ItemFacts(
        source="is23",
        product_id=as_id(first(get(info, "idStr"), get(info, "id"))),
        alt_ids=ids_in_text(get(meta, "canonicalTag")),
        title=clean_text(first(get(info, "subject"), get(meta, "title"))),
        store_id=as_id(get(seller, "storeNum")),
        store_name=clean_text(get(seller, "storeName")),
        store_url=get(seller, "storeURL"),
        description_url=get(data, "productDescComponent", "descriptionUrl"),
        gallery=first(
            str_list(get(image, "imagePathList")),
            str_list(get(image, "image640PathList")),
            str_list(get(image, "summImagePathList")),
        )
        or [],
        variants=_sku_images(get(data, "skuComponent", "productSKUPropertyList")),
    )


def from_modules(data: Any) -> ItemFacts | None:
    if not isinstance(data, dict) or "imageModule" not in data:
        return None
    store = get(data, "storeModule") or {}
    page = get(data, "pageModule") or {}
    return ItemFacts(
        source="module",
        product_id=as_id(
            first(
                get(page, "productId"),
                get(data, "actionModule", "productId"),
                get(store, "productId"),
            )
        ),
        alt_ids=ids_in_text(get(page, "canonicalTag")),
        title=clean_text(first(get(data, "titleModule", "subject"), get(page, "title"))),
        store_id=as_id(get(store, "storeNum")),
        store_name=clean_text(get(store, "storeName")),
        store_url=get(store, "storeURL"),
        description_url=get(data, "descriptionModule", "descriptionUrl"),
        gallery=first(
            str_list(get(data, "imageModule", "imagePathList")),
            str_list(get(data, "imageModule", "summImagePathList")),
        )
        or [],
        variants=_sku_images(get(data, "skuModule", "productSKUPropertyList")),
    )


def from_run_params(data: Any) -> ItemFacts | None:
    return from_components(data) or from_modules(data)


# --- 4. Ultron/dida: window._dida_config_._init_data_ ---------------------------------------


def _dida_components(obj: Any) -> dict | None:
    """The `{"<type>_<n>": {type, fields}}` dict, from the object or its `data` wrappers."""
    node = obj
    for _ in range(4):
        if not isinstance(node, dict):
            return None
        if isinstance(node.get("hierarchy"), dict) and isinstance(node.get("data"), dict):
            return node["data"]
        node = node.get("data")
    return None


def from_dida(obj: Any) -> ItemFacts | None:
    components = _dida_components(obj)
    if components is None:
        return None
    # Suffixes (_2247) change from page to page: index by the component type,
    # taken from its `type` field or, failing that, the key without the suffix.
    by_type: dict[str, dict] = {}
    for key, comp in components.items():
        if not isinstance(comp, dict):
            continue
        kind = comp.get("type") if isinstance(comp.get("type"), str) else str(key).rsplit("_", 1)[0]
        fields = comp.get("fields")
        if isinstance(fields, dict):
            by_type.setdefault(kind, fields)

    def f(kind: str, *path: str | int) -> Any:
        return get(by_type.get(kind), *path)

    header_store = f("headerInfo", "_for_header_info", "storeModule") or {}
    detail = f("description", "detailDesc")
    return ItemFacts(
        source="dida",
        product_id=as_id(
            first(
                f("imageView", "productId"),
                f("actionButtons", "productId"),
                f("seoTdk", "productId"),
                get(header_store, "productId"),
            )
        ),
        alt_ids=ids_in_text(f("seoTdk", "canonicalTag")),
        title=clean_text(first(f("titleBanner", "subject"), f("seoTdk", "title"))),
        store_id=as_id(
            first(
                get(header_store, "storeNum"),
                f("storeRecommend", "storeNum"),
                f("actionButtons", "storeNum"),
            )
        ),
        store_name=clean_text(
            first(get(header_store, "storeName"), f("storeRecommend", "storeName"))
        ),
        store_url=first(get(header_store, "storeURL"), f("storeRecommend", "storeURL")),
        # detailDesc is the description URL in the samples; ignore it if it is HTML.
        description_url=detail if isinstance(detail, str) and "<" not in detail else None,
        gallery=first(
            str_list(f("imageView", "imagePathList")), str_list(f("imageView", "summImageList"))
        )
        or [],
        variants=_sku_images(f("sku", "propertyList")),
    )


# --- 5. Client-rendered shell: window._d_c_.DCData ----------------------------------------


def from_dcdata(obj: Any) -> ItemFacts | None:
    if not isinstance(obj, dict):
        return None
    gallery = (
        first(str_list(obj.get("imagePathList")), str_list(obj.get("summImagePathList"))) or []
    )
    if not gallery:
        return None
    return ItemFacts(
        source="dcdata",
        product_id=as_id(first(obj.get("productId"), get(obj, "productInfo", "productId"))),
        title=clean_text(first(obj.get("subject"), obj.get("title"))),
        gallery=gallery,
    )


def from_json_document(obj: Any) -> ItemFacts | None:
    """A page-data object saved on its own as JSON (any generation), in fallback order."""
    return (
        from_mtop(obj)
        or from_run_params(obj)
        or from_run_params(get(obj, "data"))
        or from_dida(obj)
        or from_dcdata(obj)
    )
