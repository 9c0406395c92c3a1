"""AliExpress store pages: store id and name, the store's images, and its product links."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from . import ae_sources as src
from .blocked import blocked_reason
from .htmlutil import img_sources, is_tracking_pixel, make_soup, read_meta, store_tags
from .model import (
    KIND_STORE,
    MARKETPLACE_ALIEXPRESS,
    ROLE_STORE,
    STATUS_BLOCKED,
    STATUS_OK,
    STATUS_UNSUPPORTED,
    ImageCollector,
    ImageRef,
    Listing,
)
from .urls import (
    canonical_item_url,
    canonical_store_url,
    host_of,
    is_aliexpress_cdn_host,
    item_id_from_url,
    normalize_image_url,
    normalize_page_url,
    store_id_from_url,
)

_PAGE_CONFIG_STORE_RE = re.compile(
    r"pageConfig\s*=\s*\{[^}]{0,2000}?storeId\s*:\s*['\"]?(\d{3,20})"
)
_ANY_STORE_ID_RE = re.compile(r"""["']?storeId["']?\s*[:=]\s*['"]?(\d{3,20})""")
_STORE_TITLE_SPLIT_RE = re.compile(r"\s+[-|–]\s+")


def looks_like_store(text: str) -> bool:
    """True when the text carries a store page's `pageConfig` with a store id."""
    return bool(_PAGE_CONFIG_STORE_RE.search(text))


def parse_store(text: str, url: str) -> Listing:
    """A store page: store id and name, its (lazy) images, and product links when rendered."""
    # Only the tags a store page needs (no scripts): much cheaper than a full tree.
    soup = make_soup(store_tags(text))
    meta = read_meta(soup)
    match = _PAGE_CONFIG_STORE_RE.search(text) or _ANY_STORE_ID_RE.search(text)
    store_id = src.first(
        match.group(1) if match else None,
        store_id_from_url(url),
        store_id_from_url(meta.canonical),
        store_id_from_url(meta.first("og:url")),
    )
    listing = Listing(
        marketplace=MARKETPLACE_ALIEXPRESS,
        kind=KIND_STORE,
        status=STATUS_OK,
        url=url,
        store_id=store_id,
        source="store",
    )
    reason = blocked_reason(text)
    if reason:
        listing.status, listing.reason = STATUS_BLOCKED, reason
        return listing
    if store_id:
        listing.store_url = canonical_store_url(store_id)
    name = meta.first("og:title") or meta.title
    if name:
        listing.store_name = _STORE_TITLE_SPLIT_RE.split(name, maxsplit=1)[0].strip() or None
    if soup is not None:
        listing.images = _store_images(soup, url)
        listing.product_links = _product_links(soup, url)
    if not store_id and not listing.images and not listing.product_links:
        listing.status = STATUS_UNSUPPORTED
        listing.reason = "this AliExpress page names no store id, images or products"
    return listing


def _store_images(soup: BeautifulSoup, base: str) -> list[ImageRef]:
    """AliExpress CDN images of a store page, lazy `data-src` first, no pixels or UI icons."""
    images = ImageCollector()
    for tag in soup.find_all("img"):
        if is_tracking_pixel(tag):
            continue
        for candidate in img_sources(tag):
            norm = normalize_image_url(candidate, base)
            if norm is not None and is_aliexpress_cdn_host(host_of(norm)):
                images.add(norm, ROLE_STORE)
                break
    return images.refs()


def _product_links(soup: BeautifulSoup, base: str) -> list[str]:
    """Canonical item URLs of the rendered product grid, once each, in page order."""
    links: list[str] = []
    seen: set[str] = set()
    for tag in soup.find_all("a", href=True):
        href = tag.get("href")
        if not isinstance(href, str) or ("/item/" not in href and "/i/" not in href):
            continue
        item_id = item_id_from_url(normalize_page_url(href, base))
        if item_id and item_id not in seen:
            seen.add(item_id)
            links.append(canonical_item_url(item_id))
    return links
