"""PicGuard scraper: pages and HTTP in, plain data out (no Flask, no database).

Public API:
    parse_page(html, url, mtop=None) -> Listing
    parse_description(html, url) -> list[ImageRef]
    Listing, ImageRef, ParseError (+ NotTextError, EmptyPageError, EmbeddedDataError)
    scraper.urls: normalize_image_url, image_key, canonical_item_url, is_aliexpress_host, ...
    scraper.fetch: Fetcher, FetchResult, FetchError (+ subclasses), check_url_allowed,
                   is_public_address
"""

__version__ = "0.1.0"  # before the imports: scraper.fetch reads it for the User-Agent

from .model import (
    KIND_DESCRIPTION,
    KIND_ITEM,
    KIND_OTHER,
    KIND_RESULTS,
    KIND_STORE,
    ROLE_DESCRIPTION,
    ROLE_GALLERY,
    ROLE_OG,
    ROLE_STORE,
    ROLE_VARIANT,
    STATUS_BLOCKED,
    STATUS_OK,
    STATUS_UNSUPPORTED,
    EmbeddedDataError,
    EmptyPageError,
    ImageRef,
    Listing,
    NotTextError,
    ParseError,
    ResultItem,
)
from .page import parse_description, parse_page

__all__ = [
    "KIND_DESCRIPTION",
    "KIND_ITEM",
    "KIND_OTHER",
    "KIND_RESULTS",
    "KIND_STORE",
    "ROLE_DESCRIPTION",
    "ROLE_GALLERY",
    "ROLE_OG",
    "ROLE_STORE",
    "ROLE_VARIANT",
    "STATUS_BLOCKED",
    "STATUS_OK",
    "STATUS_UNSUPPORTED",
    "EmbeddedDataError",
    "EmptyPageError",
    "ImageRef",
    "Listing",
    "NotTextError",
    "ParseError",
    "ResultItem",
    "__version__",
    "parse_description",
    "parse_page",
]
