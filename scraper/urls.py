"""URL rules: image URL normalisation and identity keys, AliExpress hosts and ids.

Image identity (`image_key`), decided here once for the whole product:

* AliExpress CDN images (any `*.alicdn.com` or `*.aliexpress-media.com` host)
  are keyed host-independently as ``alicdn:kf/<id>``: the same `/kf/<id>` is
  served from ae01, ae04 and ae-pic-a1, with or without an SEO slug, and with
  size/format suffixes. Other CDN paths are keyed ``alicdn:<path>``.
* Other marketplaces' CDNs (Amazon, eBay, Etsy, Shopify, Walmart, Mercado Libre,
  Lazada, Taobao/Tmall, Temu, Shopee) are keyed and normalised by scraper.cdn.
* Any other image is keyed ``<host><path>`` (lower-case host), plus ``?query``
  when the query was kept (see `normalize_image_url`).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

from .cdn import cdn_key, normalize_cdn

ALICDN_KEY_PREFIX = "alicdn:"
_MAX_URL_LEN = 4096

_IMAGE_EXT = r"(?:jpe?g|png|gif|webp|avif|bmp|heic|heif|tiff?)"
# A size/format suffix appended after the real extension, in the last path
# segment: .jpg_640x640.jpg, .jpg_220x220q75.jpg_.avif, .jpg_Q90.jpg_.webp, .png_50x50.png
_SUFFIX_RE = re.compile(r"(\." + _IMAGE_EXT + r")_[^/]*$", re.IGNORECASE)
_EXT_AT_END_RE = re.compile(r"\." + _IMAGE_EXT + r"$", re.IGNORECASE)
# UI assets: a size as the path segment (/kf/<id>/48x48.png) or TPS sprites (-tps-24-36.png).
_UI_SIZE_SEGMENT_RE = re.compile(r"/\d{1,4}x\d{1,4}\.(?:png|jpe?g|gif|webp|avif)$", re.IGNORECASE)
_UI_TPS_RE = re.compile(r"-tps-\d+-\d+\.(?:png|jpe?g|gif|webp|svg)$", re.IGNORECASE)
# Extensions that are never a product photo.
_NOT_IMAGE_EXT_RE = re.compile(
    r"\.(?:svgz?|ico|cur|js|mjs|css|json|html?|xml|txt|pdf|mp4|webm|m3u8|woff2?|ttf|otf|eot|zip)$",
    re.IGNORECASE,
)
_AE_HOST_RE = re.compile(r"(?:^|\.)aliexpress\.(?:com|us|ru)$")
_CDN_HOST_RE = re.compile(r"(?:^|\.)(?:alicdn\.com|aliexpress-media\.com)$")
_ITEM_ID_RE = re.compile(r"/(?:item|i)/(?:[^/?#]*/)?(\d{6,20})(?:\.html?)?(?=[/?#.]|$)")
_STORE_ID_RE = re.compile(r"/store/(?:[^/?#]+/)*?(\d{3,20})(?=[._/?#]|$)")
_DIGITS_RE = re.compile(r"^\d{1,20}$")


def host_of(url: str) -> str:
    """Lower-case host of a URL without port or trailing dot; '' when there is none."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


def is_aliexpress_host(host: str) -> bool:
    """True for aliexpress.com/.us/.ru and any subdomain (regions, shops, m.)."""
    host = (host or "").split(":")[0].rstrip(".").lower()
    return bool(_AE_HOST_RE.search(host))


def is_aliexpress_cdn_host(host: str) -> bool:
    """True for the image/asset CDNs AliExpress serves from (alicdn, aliexpress-media)."""
    host = (host or "").split(":")[0].rstrip(".").lower()
    return bool(_CDN_HOST_RE.search(host))


def absolute_url(url: object, base: str | None = None) -> str | None:
    """An absolute http(s) URL, or None. `//x` becomes https, relative URLs join `base`."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > _MAX_URL_LEN:
        return None
    url = url.replace(" ", "%20")
    try:
        if url.startswith("//"):
            url = "https:" + url
        elif base and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url):
            base = base.strip()
            if base.startswith("//"):
                base = "https:" + base
            url = urljoin(base, url)
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
    except ValueError:  # e.g. a broken IPv6 literal
        return None
    return url


def normalize_page_url(url: object, base: str | None = None) -> str | None:
    """A page URL made absolute (https for `//`), fragment dropped, query kept."""
    absolute = absolute_url(url, base)
    if absolute is None:
        return None
    parts = urlsplit(absolute)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def normalize_image_url(url: object, base: str | None = None) -> str | None:
    """The fetchable full-size image URL, or None for UI assets and non-images.

    AliExpress CDN: https, query dropped, size/format suffix stripped. Other
    hosts: the query is dropped when the path already names an image file
    (``photo.jpg?v=3``) and kept otherwise, because some shops serve images
    from ``/image?id=...`` where the query *is* the image.
    """
    absolute = absolute_url(url, base)
    if absolute is None:
        return None
    parts = urlsplit(absolute)
    host = (parts.hostname or "").rstrip(".").lower()
    path = parts.path
    if not path or path == "/":
        return None
    path = _SUFFIX_RE.sub(r"\1", path)
    if _NOT_IMAGE_EXT_RE.search(path) or _UI_TPS_RE.search(path):
        return None
    try:
        port = parts.port
    except ValueError:  # a port that is not a number
        return None
    shown = f"[{host}]" if ":" in host else host
    if is_aliexpress_cdn_host(host):
        if _UI_SIZE_SEGMENT_RE.search(path) and path.lower().startswith("/kf/"):
            return None
        netloc = shown if port in (None, 80, 443) else f"{shown}:{port}"
        return urlunsplit(("https", netloc, path, "", ""))
    scheme = parts.scheme.lower()
    default_port = 443 if scheme == "https" else 80
    netloc = shown if port in (None, default_port) else f"{shown}:{port}"
    if scheme == "https" or port in (None, 80):  # marketplace CDNs: one full-size form
        full = normalize_cdn(host, path, shown if port in (None, 80, 443) else netloc)
        if full is not None:
            return full or None
    query = "" if _EXT_AT_END_RE.search(path) else parts.query
    return urlunsplit((scheme, netloc, path, query, ""))


def image_key(url: str) -> str:
    """Identity of an image: one key for every size, slug and host form of it."""
    norm = normalize_image_url(url) or (url.strip() if isinstance(url, str) else "")
    return key_of_normalized(norm)


def key_of_normalized(norm: str) -> str:
    """image_key for a URL that normalize_image_url already returned (saves a second pass)."""
    try:
        parts = urlsplit(norm)
    except ValueError:
        return norm
    host = (parts.hostname or "").rstrip(".").lower()
    path = parts.path
    if is_aliexpress_cdn_host(host):
        if path.lower().startswith("/kf/"):
            first = path[4:].split("/", 1)[0]
            return f"{ALICDN_KEY_PREFIX}kf/{_EXT_AT_END_RE.sub('', first)}"
        return cdn_key(host, path) or ALICDN_KEY_PREFIX + path.lstrip("/")
    if not host:
        return norm
    marketplace_key = cdn_key(host, path)
    if marketplace_key:
        return marketplace_key
    return host + path + (f"?{parts.query}" if parts.query else "")


def canonical_item_url(product_id: str | int, host: str = "www.aliexpress.com") -> str:
    """https://www.aliexpress.com/item/<id>.html; every region shows the same item."""
    pid = str(product_id).strip()
    if not _DIGITS_RE.match(pid):
        raise ValueError(f"an AliExpress product id is all digits; got {product_id!r}")
    return f"https://{host}/item/{pid}.html"


def canonical_store_url(store_id: str | int, host: str = "www.aliexpress.com") -> str:
    """https://www.aliexpress.com/store/<id> (shop subdomains redirect there)."""
    sid = str(store_id).strip()
    if not _DIGITS_RE.match(sid):
        raise ValueError(f"an AliExpress store id is all digits; got {store_id!r}")
    return f"https://{host}/store/{sid}"


def item_id_from_url(url: object) -> str | None:
    """The product id in an AliExpress item or description URL, or None."""
    if not isinstance(url, str) or not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    match = _ITEM_ID_RE.search(parts.path)
    if match:
        return match.group(1)
    for name in ("productId", "product_id", "itemId"):
        for value in parse_qs(parts.query).get(name, []):
            if _DIGITS_RE.match(value) and len(value) >= 6:
                return value
    return None


def store_id_from_url(url: object) -> str | None:
    """The store id in an AliExpress store URL, or None."""
    if not isinstance(url, str) or not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    match = _STORE_ID_RE.search(parts.path)
    if match:
        return match.group(1)
    for value in parse_qs(parts.query).get("storeId", []):
        if _DIGITS_RE.match(value):
            return value
    return None


def is_description_url(url: str) -> bool:
    """True for AliExpress's separately served description page."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    path = parts.path.lower()
    if is_aliexpress_cdn_host(host):
        return "/description/" in path or path.endswith("desc.htm")
    return is_aliexpress_host(host) and "getdescmoduleajax" in path
