"""Image identity per marketplace CDN: every size/format variant to one key and one full-size URL.

AliExpress's alicdn `/kf/` rule lives in urls.py; this module holds the other
marketplaces' CDNs. Each rule takes the already-absolute URL's host and path
(the size suffix after a real extension, `.jpg_640x640.jpg`, is already cut)
and returns the fetchable full-size URL, or None when the rule does not apply.
`cdn_key` gives the host-independent identity key of such a URL.

Keys: ``amazon:I/<id>``, ``ebay:g/<id>`` (``ebay:i/<id>`` for the item-number
form), ``etsy:il/<image id>``, ``shopify:<host><path>``, ``walmart:<uuid.hash>``,
``mlstatic:<picture id>``, ``lazada:<file hash>``, ``alicdn:img/<file>`` (Taobao/
Tmall `imgextra` and `bao/uploaded`), ``kwcdn:<path>``, ``shopee:<hash>``.
"""

from __future__ import annotations

import re

_AMAZON_HOST_RE = re.compile(r"(?:^|\.)(?:media-amazon\.com|ssl-images-amazon\.com)$")
# /images/I/<id>[.<codes>].<ext>, also behind a /images/W/<experiment>/ prefix.
_AMAZON_PATH_RE = re.compile(
    r"/images/I/([A-Za-z0-9+%-]{6,40})(?:\.[^/]*?)?\.(jpe?g|png|gif|webp)$", re.IGNORECASE
)
_AMAZON_UI_RE = re.compile(r"^/images/(?:G|S)/", re.IGNORECASE)  # site graphics and sprites
_EBAY_HOST_RE = re.compile(r"(?:^|\.)ebayimg\.com$")
_EBAY_G_RE = re.compile(r"/images/g/([A-Za-z0-9~_-]{8,40})/s-l\d+\.(?:jpe?g|png|webp|gif)$", re.I)
_EBAY_OLD_RE = re.compile(r"/00/s/[^/]+/z/([A-Za-z0-9~_-]{8,40})/\$_\d+\.(?:jpe?g|png|webp)$", re.I)
_EBAY_I_RE = re.compile(r"/images/i/([0-9]+-\d+-\d+)/s-l\d+\.(?:jpe?g|png|webp)$", re.I)
_ETSY_HOST_RE = re.compile(r"(?:^|\.)etsystatic\.com$")
_ETSY_RE = re.compile(
    r"^(/\d+)?(?:/c/\d+/\d+/\d+/\d+|/r)?/il/([0-9a-f]+)/(\d+)/il_[^./]+\.(\d+)_([A-Za-z0-9]+)"
    r"\.(jpe?g|png|gif|webp)$",
    re.IGNORECASE,
)
_SHOPIFY_SIZE_RE = re.compile(
    r"(?:_(?:\d{1,5}x\d{0,5}|x\d{1,5}|pico|icon|thumb|small|compact|medium|large|grande|"
    r"original|master|\{width\}x|%7Bwidth%7Dx)(?:@\dx)?(?:_crop_[a-z]+)?)+(?=\.[A-Za-z]{3,4}$)",
    re.IGNORECASE,
)
_WALMART_HOST_RE = re.compile(r"(?:^|\.)walmartimages\.com$")
_WALMART_ID_RE = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:_\d+)?\.[0-9a-f]{32})",
    re.IGNORECASE,
)
_MELI_HOST_RE = re.compile(r"(?:^|\.)mlstatic\.com$")
_MELI_RE = re.compile(
    r"^/(?:D_[A-Z0-9_]*?_|D_)(\d+-[A-Z]{3}\d+_\d+)-[A-Z]{1,2}(?:-[^/]*)?\.(jpe?g|png|webp)$",
    re.IGNORECASE,
)
_LAZADA_HOST_RE = re.compile(r"(?:^|\.)(?:lazcdn\.com|slatic\.net)$")
_LAZADA_FILE_RE = re.compile(r"/([0-9a-zA-Z_-]{16,64})\.(?:jpe?g|png|webp|gif|avif)$", re.I)
_ALICDN_HOST_RE = re.compile(r"(?:^|\.)(?:alicdn\.com|tbcdn\.cn)$")
_TAOBAO_PATH_RE = re.compile(r"/(?:imgextra|bao/uploaded)/(?:[^/]+/)*([^/]+)$", re.IGNORECASE)
_KWCDN_HOST_RE = re.compile(r"(?:^|\.)kwcdn\.com$")
_SHOPEE_HOST_RE = re.compile(
    r"(?:^|\.)(?:susercontent\.com|shopee\.[a-z.]{2,6}|shopeemobile\.com)$"
)
# /file/<id>[_tn][@resize_w450_nl.webp]; the id may carry a region prefix (sg-11134201-...).
_SHOPEE_RE = re.compile(r"^/file/([0-9a-zA-Z-]{20,80})(?:_tn)?(?:@[^/]*)?$")
_EXT_RE = re.compile(r"\.(?:jpe?g|png|gif|webp|avif|heic|heif)$", re.IGNORECASE)


def normalize_cdn(host: str, path: str, netloc: str) -> str | None:
    """The full-size URL of a marketplace CDN image; '' for a CDN UI asset; None: no rule."""
    if _AMAZON_HOST_RE.search(host):
        match = _AMAZON_PATH_RE.search(path)
        if match:
            return f"https://m.media-amazon.com/images/I/{match.group(1)}.{match.group(2).lower()}"
        return "" if _AMAZON_UI_RE.match(path) else None
    if _EBAY_HOST_RE.search(host):
        match = _EBAY_G_RE.search(path) or _EBAY_OLD_RE.search(path)
        if match:
            return f"https://i.ebayimg.com/images/g/{match.group(1)}/s-l1600.jpg"
        match = _EBAY_I_RE.search(path)
        if match:
            return f"https://i.ebayimg.com/images/i/{match.group(1)}/s-l1600.jpg"
        return None
    if _ETSY_HOST_RE.search(host):
        match = _ETSY_RE.match(path)
        if match:
            shop, hexdir, num, _num2, tail, ext = match.groups()
            prefix = f"{shop}/r" if shop else ""
            return (f"https://i.etsystatic.com{prefix}/il/{hexdir}/{num}/"
                    f"il_fullxfull.{num}_{tail}.{ext}")
        return None
    if host == "cdn.shopify.com" or path.startswith("/cdn/shop/"):
        if _EXT_RE.search(path):
            return f"https://{netloc}{_SHOPIFY_SIZE_RE.sub('', path)}"
        return None
    if _WALMART_HOST_RE.search(host):
        return f"https://{netloc}{path}" if _EXT_RE.search(path) else None
    if _MELI_HOST_RE.search(host):
        match = _MELI_RE.match(path)
        if match:
            return f"https://http2.mlstatic.com/D_NQ_NP_{match.group(1)}-F.{match.group(2).lower()}"
        return None
    if _KWCDN_HOST_RE.search(host):
        return f"https://{netloc}{path}"  # the query is only a resize/format instruction
    if _SHOPEE_HOST_RE.search(host):
        match = _SHOPEE_RE.match(path)
        return f"https://{netloc}/file/{match.group(1)}" if match else None
    return None


def cdn_key(host: str, path: str) -> str | None:
    """The identity key of a normalised marketplace CDN image URL, or None (no CDN rule)."""
    if _AMAZON_HOST_RE.search(host):
        match = _AMAZON_PATH_RE.search(path)
        return f"amazon:I/{match.group(1)}" if match else None
    if _EBAY_HOST_RE.search(host):
        match = _EBAY_G_RE.search(path) or _EBAY_OLD_RE.search(path)
        if match:
            return f"ebay:g/{match.group(1)}"
        match = _EBAY_I_RE.search(path)
        return f"ebay:i/{match.group(1)}" if match else None
    if _ETSY_HOST_RE.search(host):
        match = _ETSY_RE.match(path)
        return f"etsy:il/{match.group(3)}" if match else None
    if host == "cdn.shopify.com" or path.startswith("/cdn/shop/"):
        shop = host[4:] if host.startswith("www.") else host  # shops serve both forms
        return f"shopify:{shop}{_SHOPIFY_SIZE_RE.sub('', path)}"
    if _WALMART_HOST_RE.search(host):
        match = _WALMART_ID_RE.search(path)
        return f"walmart:{match.group(1).lower()}" if match else f"walmart:{path.lstrip('/')}"
    if _MELI_HOST_RE.search(host):
        match = _MELI_RE.match(path)
        return f"mlstatic:{match.group(1)}" if match else None
    if _LAZADA_HOST_RE.search(host):
        match = _LAZADA_FILE_RE.search(path)
        return f"lazada:{match.group(1)}" if match else None
    if _ALICDN_HOST_RE.search(host):
        match = _TAOBAO_PATH_RE.search(path)
        return f"alicdn:img/{_EXT_RE.sub('', match.group(1))}" if match else None
    if _KWCDN_HOST_RE.search(host):
        return f"kwcdn:{path.lstrip('/')}"
    if _SHOPEE_HOST_RE.search(host):
        match = _SHOPEE_RE.match(path)
        return f"shopee:{match.group(1)}" if match else None
    return None


def is_cdn_host(host: str) -> bool:
    """True for the marketplace image CDNs this module knows (not AliExpress's)."""
    return any(
        regex.search(host)
        for regex in (_AMAZON_HOST_RE, _EBAY_HOST_RE, _ETSY_HOST_RE, _WALMART_HOST_RE,
                      _MELI_HOST_RE, _LAZADA_HOST_RE, _KWCDN_HOST_RE, _SHOPEE_HOST_RE)
    ) or host == "cdn.shopify.com"
