"""The scraper's front door: pick the right parser for a page and check the input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from . import amazon, ebay, etsy, lazada, mercadolibre, shopee, shopify, taobao, temu, walmart
from .aliexpress import (
    description_images,
    looks_like_item_data,
    parse_description_page,
    parse_item,
)
from .aliexpress_results import is_results_url, looks_like_results, parse_results
from .aliexpress_store import looks_like_store, parse_store
from .blocked import blocked_reason
from .generic import parse_generic
from .markets import looks_like_shopify, marketplace_of_host
from .model import STATUS_UNSUPPORTED, EmptyPageError, ImageRef, Listing, NotTextError
from .urls import (
    host_of,
    is_aliexpress_host,
    is_description_url,
    item_id_from_url,
    store_id_from_url,
)

# One parser per marketplace, each `parse(text, url, captured) -> Listing`.
MARKET_PARSERS: dict[str, Callable[[str, str, Any], Listing]] = {
    "amazon": amazon.parse, "ebay": ebay.parse, "etsy": etsy.parse, "walmart": walmart.parse,
    "shopify": shopify.parse, "mercadolibre": mercadolibre.parse, "lazada": lazada.parse,
    "taobao": taobao.parse, "temu": temu.parse, "shopee": shopee.parse,
}
_AE_CONTENT_MARKERS = ("aliexpress.com", "aliexpress.us", "aliexpress.ru", "alicdn.com")


def _checked(html: object, url: object) -> tuple[str, str]:
    """The page text and URL, or a ParseError saying what is wrong with them."""
    if not isinstance(html, str):
        raise NotTextError(
            f"the page must be text, not {type(html).__name__}; decode the saved bytes "
            "(usually UTF-8) before parsing"
        )
    if not isinstance(url, str):
        raise NotTextError(f"the page URL must be text, not {type(url).__name__}")
    if not html or html.isspace():  # (no .strip(): that copies a multi-MB page)
        raise EmptyPageError("the page is empty; save it again once it has finished loading")
    # Lone surrogates (from a broken decoder) cannot be encoded for lxml.
    if not html.isascii():
        try:
            html.encode("utf-8")
        except UnicodeEncodeError:
            html = html.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return html, url.strip()


def _is_store_url(url: str) -> bool:
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return "/store/" in path and "/item/" not in path and store_id_from_url(url) is not None


def parse_page(
    html: str, url: str, mtop: dict[str, Any] | None = None, captured: Any = None
) -> Listing:
    """Parse one saved or pushed page into a Listing (status ok, blocked or unsupported).

    Dispatch: AliExpress description URL, AliExpress store URL, AliExpress item
    URL (any region, .us, .ru), another marketplace by its host (every locale:
    scraper.markets), AliExpress data recognised by content when the URL says
    otherwise, a Shopify storefront by content (any domain), else the generic
    shop parser (marketplace `web`). `captured` is the marketplace API answer the
    extension captured with the page (AliExpress's `mtop.aliexpress.pdp.pc.query`,
    Shopee's `/api/v4/pdp/get_pc`...); `mtop` is its older name and still works.

    Raises ParseError (a ValueError) only when the input is not a page at all.
    """
    text, url = _checked(html, url)
    host = host_of(url)
    if captured is None:
        captured = mtop
    mtop = captured
    market = marketplace_of_host(host)
    if market is not None:
        return MARKET_PARSERS[market](text, url, captured)
    if is_description_url(url):
        return parse_description_page(text, url)
    if is_aliexpress_host(host):
        # Results pages (search, category, store product lists, search by image) first:
        # store product lists live under /store/ too.
        if is_results_url(url) and item_id_from_url(url) is None:
            return parse_results(text, url, mtop)
        if _is_store_url(url):
            return parse_store(text, url)
        if item_id_from_url(url) is None and looks_like_results(text) and not (
                looks_like_item_data(text) or looks_like_store(text)):
            return parse_results(text, url, mtop)
        listing = parse_item(text, url, mtop)
        if listing.status == STATUS_UNSUPPORTED and looks_like_store(text):
            return parse_store(text, url)
        return listing
    # Not an AliExpress URL (or none given): recognise AliExpress data by content.
    ae_content = any(marker in text for marker in _AE_CONTENT_MARKERS)
    if mtop is not None or looks_like_item_data(text):
        return parse_item(text, url, mtop)
    if text.lstrip()[:1] in ("{", "["):  # a page-data object saved on its own
        listing = parse_item(text, url, mtop)
        if listing.status != STATUS_UNSUPPORTED:
            return listing
    if ae_content and looks_like_store(text):
        return parse_store(text, url)
    if ae_content and blocked_reason(text) and not host:
        return parse_item(text, url)
    if looks_like_shopify(text):
        return shopify.parse(text, url, captured)
    return parse_generic(text, url)


def parse_description(html: str, url: str) -> list[ImageRef]:
    """Images (role `description`) of AliExpress's separately served description HTML.

    Relative and lazy (`data-src`) image URLs are resolved against `url`. An
    empty description is a valid one and gives an empty list.
    """
    if isinstance(html, str) and not html.strip():
        if not isinstance(url, str):
            raise NotTextError(f"the page URL must be text, not {type(url).__name__}")
        return []
    text, url = _checked(html, url)
    return description_images(text, url)
