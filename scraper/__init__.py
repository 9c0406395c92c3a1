"""PicGuard scraper: pages and HTTP in, plain data out (no Flask, no database).

Public API:
    parse_page(html, url, mtop=None, captured=None) -> Listing  (every marketplace: page.py)
    scraper.markets: marketplace ids, marketplace_of_host; scraper.cdn: image keys per CDN
    parse_description(html, url) -> list[ImageRef]
    Listing, ImageRef, ParseError (+ NotTextError, EmptyPageError, EmbeddedDataError)
    scraper.urls: normalize_image_url, image_key, canonical_item_url, is_aliexpress_host, ...
    scraper.fetch: Fetcher, FetchResult, FetchError (+ subclasses),
                   is_public_address
"""

from importlib import metadata as _metadata

# The one version string is daemon.__version__ (setup.cfg reads it); scraper cannot import
# the daemon, so it asks the installed distribution. Set before the imports below:
# scraper.fetch reads it for the User-Agent.
try:
    __version__ = _metadata.version("picguard")
except _metadata.PackageNotFoundError:  # a plain checkout that was never installed
    __version__ = "0+unknown"

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


def __getattr__(name: str) -> object:
    # The parsers (bs4, lxml, chompjs, every marketplace) load on first use: commands that
    # only need the settings or the fetcher's address policy start ~0.4 s faster.
    if name in ("parse_page", "parse_description"):
        from . import page

        return getattr(page, name)
    raise AttributeError(f"module 'scraper' has no attribute {name!r}")

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
