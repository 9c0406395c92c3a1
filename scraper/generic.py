"""Any other shop: schema.org Product in JSON-LD or microdata, then OpenGraph images.

Shopify, WooCommerce and most shop builders emit at least one of these. A page
with none of them is `unsupported`, with the reason, rather than guessed at.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bs4 import BeautifulSoup, Tag

from .blocked import blocked_reason
from .htmlutil import (
    PageMeta,
    clean_text,
    make_soup,
    page_meta,
    script_blocks,
    walk_tags,
)
from .markets import WEB
from .model import (
    KIND_ITEM,
    KIND_OTHER,
    ROLE_GALLERY,
    ROLE_OG,
    ROLE_VARIANT,
    STATUS_BLOCKED,
    STATUS_OK,
    STATUS_UNSUPPORTED,
    ImageCollector,
    Listing,
)
from .urls import absolute_url, host_of, normalize_page_url

_PRODUCT_TYPES = frozenset({"product", "productgroup", "productmodel", "individualproduct"})
_LD_TYPE_RE = re.compile(r"ld\+json", re.IGNORECASE)
_LD_WRAPPER_RE = re.compile(r"^\s*(?:<!--|<!\[CDATA\[)|(?:-->|\]\]>)\s*$")
_MICRODATA_PRODUCT_RE = re.compile(
    r"schema\.org/(?:Product|ProductGroup|IndividualProduct)\b", re.IGNORECASE
)
_ITEMSCOPE_RE = re.compile(r"\bitemscope\b", re.IGNORECASE)
_MAX_LD_NODES = 20000  # bounds the walk over hostile JSON-LD


def _types(node: dict) -> set[str]:
    raw = node.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    # "Product", "schema:Product" and "http://schema.org/Product" all count.
    return {v.rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower() for v in values if isinstance(v, str)}


def _is_product(node: Any) -> bool:
    return isinstance(node, dict) and bool(_types(node) & _PRODUCT_TYPES)


def _ld_documents(text: str, notes: list[str]) -> list[Any]:
    docs: list[Any] = []
    for attrs, body in script_blocks(text):
        if not _LD_TYPE_RE.search(attrs):
            continue
        raw = _LD_WRAPPER_RE.sub("", body).strip().rstrip(";")
        if not raw:
            continue
        try:
            docs.append(json.loads(raw))
        except (ValueError, RecursionError):
            notes.append("a JSON-LD block is not valid JSON and was skipped")
    return docs


def jsonld_products(text: str, notes: list[str]) -> list[dict]:
    """Product nodes at the top of JSON-LD blocks, in @graph, or as a page's mainEntity.

    Products nested elsewhere (related or similar products) are not this listing.
    """
    return products_in(_ld_documents(text, notes))


def products_in(documents: list[Any]) -> list[dict]:
    """The Product nodes of parsed JSON-LD documents (top level, @graph, mainEntity)."""
    products: list[dict] = []
    budget = _MAX_LD_NODES
    stack: list[Any] = list(reversed(documents))
    while stack and budget > 0:
        budget -= 1
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if _is_product(node):
                products.append(node)
                continue
            for key in ("@graph", "mainEntity"):
                if isinstance(node.get(key), list | dict):
                    stack.append(node[key])
    return products


def _image_values(value: Any, depth: int = 0) -> list[str]:
    """schema.org `image`: a URL, a list, or ImageObject(s) with url/contentUrl."""
    if depth > 4:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [u for v in value for u in _image_values(v, depth + 1)]
    if isinstance(value, dict):
        for key in ("contentUrl", "url", "@id"):
            if isinstance(value.get(key), str):
                return [value[key]]
    return []


def _text_field(node: dict, *keys: str) -> str | None:
    for key in keys:
        value = node.get(key)
        if isinstance(value, dict):
            value = value.get("name")
        text = clean_text(value)
        if text:
            return text
    return None


# --- microdata ---------------------------------------------------------------------------------


def _prop_value(tag: Tag) -> str | None:
    for attr in ("content", "data-src", "src", "href"):
        value = tag.get(attr)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return clean_text(tag.get_text())


def microdata_products(soup: BeautifulSoup) -> list[dict[str, list[str]]]:
    """Each microdata Product as {property: [values]}, its own properties only.

    One pass over the tree: each tag's owner is the nearest enclosing
    itemscope, so a nested Review's author photo is the review's, not the
    product's. An `image` that is itself an ImageObject scope gives its
    contentUrl/url.
    """
    props: dict[int, dict[str, list[str | Tag]]] = {}
    products: list[Tag] = []
    walk = walk_tags(soup, lambda t, up: t if t.has_attr("itemscope") else up, None)
    for tag, owner in walk:
        if tag.has_attr("itemscope"):
            props[id(tag)] = {}
            if _MICRODATA_PRODUCT_RE.search(str(tag.get("itemtype") or "")):
                products.append(tag)
        names = tag.get("itemprop")
        if owner is None or not names:
            continue
        value: str | Tag | None = tag if tag.has_attr("itemscope") else _prop_value(tag)
        for name in names.split() if isinstance(names, str) else names:
            if value is not None:
                props[id(owner)].setdefault(name, []).append(value)
    result = []
    for product in products:
        own: dict[str, list[str]] = {}
        for name, values in props[id(product)].items():
            for value in values:
                if isinstance(value, Tag):  # a nested scope: its url
                    inner = props.get(id(value), {})
                    value = next(
                        (
                            v
                            for v in inner.get("contentUrl", []) + inner.get("url", [])
                            if isinstance(v, str)
                        ),
                        None,
                    )
                if value:
                    own.setdefault(name, []).append(value)
        result.append(own)
    return result


# --- the page ---------------------------------------------------------------------------------


def _site_parts(url: str) -> tuple[str, str | None]:
    host = host_of(url)
    try:
        scheme = urlsplit(url).scheme.lower() or "https"
    except ValueError:
        scheme = "https"
    shop = host[4:] if host.startswith("www.") else host
    return shop or "unknown", urlunsplit((scheme, host, "/", "", "")) if host else None


def parse_generic(text: str, url: str) -> Listing:
    """Any shop page with schema.org Product data or OpenGraph images (marketplace `web`).

    The shop's host (without www.) is the store id, so `web:<host>` names the shop.
    """
    shop, shop_url = _site_parts(url)
    listing = Listing(
        marketplace=WEB,
        kind=KIND_OTHER,
        status=STATUS_OK,
        url=url,
        store_id=shop if shop != "unknown" else None,
        store_url=shop_url,
    )
    reason = blocked_reason(text)
    if "<" not in text:
        listing.status = STATUS_BLOCKED if reason else STATUS_UNSUPPORTED
        listing.reason = reason or "this is not an HTML page (no tags found)"
        return listing
    # JSON-LD and meta tags are read without building the page's whole tree;
    # the tree (the slow part on big pages) is built only for microdata.
    meta = page_meta(text)
    base = absolute_url(meta.base, url) or url
    products = jsonld_products(text, listing.notes)
    soup = make_soup(text) if _ITEMSCOPE_RE.search(text) else None
    micro = microdata_products(soup) if soup is not None else []
    images = ImageCollector()
    for product in products:
        images.add_all(_image_values(product.get("image")), ROLE_GALLERY, base)
    from_ld = images.count()
    for props in micro:
        images.add_all(props.get("image", []), ROLE_GALLERY, base)
    from_micro = images.count() - from_ld
    for product in products:
        for variant in _as_list(product.get("hasVariant")):
            if isinstance(variant, dict):
                images.add_all(_image_values(variant.get("image")), ROLE_VARIANT, base)
    og_images = meta.all("og:image", "og:image:secure_url", "og:image:url")
    images.add_all(og_images, ROLE_OG, base)

    if not products and not micro and not og_images:
        listing.status = STATUS_BLOCKED if reason else STATUS_UNSUPPORTED
        listing.reason = reason or (
            "no schema.org Product (JSON-LD or microdata) and no og:image on this page, "
            "so PicGuard cannot tell which images belong to a product"
        )
        return listing
    listing.images = images.refs()
    listing.source = "jsonld" if from_ld else "microdata" if from_micro else "opengraph"
    if products or micro or (meta.first("og:type") or "").lower().startswith("product"):
        listing.kind = KIND_ITEM
    if not listing.images:
        listing.notes.append("the page names a product but no image of it")
    _fill_text(listing, products, micro, meta, url)
    return listing


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []


def _fill_text(
    listing: Listing, products: list[dict], micro: list[dict], meta: PageMeta, url: str
) -> None:
    micro_first = micro[0] if micro else {}

    def micro_text(name: str) -> str | None:
        return clean_text((micro_first.get(name) or [None])[0])

    ld = products[0] if products else {}
    listing.title = (
        _text_field(ld, "name")
        or micro_text("name")
        or clean_text(meta.first("og:title"))
        or meta.title
    )
    listing.product_id = (
        _text_field(ld, "sku", "productID", "productGroupID")
        or micro_text("sku")
        or micro_text("productID")
        or clean_text(meta.first("product:retailer_item_id"))
    )
    listing.store_name = (
        clean_text(meta.first("og:site_name"))
        or _text_field(ld.get("offers") if isinstance(ld.get("offers"), dict) else {}, "seller")
        or listing.store_id
    )
    listing.canonical_url = (
        normalize_page_url(meta.canonical, url)
        or normalize_page_url(meta.first("og:url"), url)
        or normalize_page_url(url)
    )
