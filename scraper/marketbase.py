"""Shared pieces of the marketplace parsers: tag scanning, embedded JSON, listings and cards.

Marketplace pages are 0.3-3 MB, mostly inline script. Building a whole tree
(bs4 or lxml) costs 40-90 ms on such a page, so the parsers read the data
objects by brace matching (scraper.jsdata, chompjs for JS literals) and the
few tags they need by one linear regex scan, never the whole tree.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from collections import deque
from collections.abc import Iterator
from typing import Any

import chompjs

from .generic import products_in
from .htmlutil import clean_text
from .jsdata import find_object_end
from .model import (
    KIND_ITEM,
    KIND_RESULTS,
    ROLE_GALLERY,
    STATUS_BLOCKED,
    STATUS_OK,
    STATUS_UNSUPPORTED,
    ImageCollector,
    Listing,
    ResultItem,
)
from .urls import host_of, normalize_page_url

_ATTR_RE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_TAG_TEXT_RE = re.compile(r"<[^>]*>")
_DECODER = json.JSONDecoder()
_MAX_CARDS = 400  # a results page shows 20-120; more is a hostile page
_MAX_CARD_CHARS = 60_000


def attrs_of(raw: str) -> dict[str, str]:
    """The attributes of one tag's text (after the name), entities decoded, names lower-case."""
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw):
        name = match.group(1).lower()
        if name in attrs:
            continue
        value = next((g for g in match.group(2, 3, 4) if g is not None), "")
        attrs[name] = htmllib.unescape(value) if "&" in value else value
    return attrs


def tag_re(names: str) -> re.Pattern[str]:
    """A pattern for opening tags `names` (a regex alternation); group 1 is the attributes."""
    return re.compile(
        r"<(?:" + names + r""")\b((?:[^>"']++|"[^"]*+"|'[^']*+')*+)>""", re.IGNORECASE
    )


IMG_TAG_RE = tag_re("img")
_OPEN_TAG_RE = re.compile(r"""<[A-Za-z][\w-]*((?:[^>"']++|"[^"]*+"|'[^']*+')*+)>""")
A_TAG_RE = tag_re("a")


def iter_attrs(pattern: re.Pattern[str], text: str, limit: int = 2000) -> Iterator[dict[str, str]]:
    """Attributes of the tags `pattern` (from tag_re) finds in `text`, the first `limit`."""
    for count, match in enumerate(pattern.finditer(text)):
        if count >= limit:
            return
        yield attrs_of(match.group(1))


def search_at(text: str, anchors: tuple[str, ...], pattern: re.Pattern[str],
              span: int = 600) -> re.Match[str] | None:
    """`pattern` searched just around the first of `anchors` found (str.find, then a short regex).

    A regex starting with a common literal (`id=`, `<span`) would try every such spot
    of a multi-MB page; the anchor jumps straight to the one that matters.
    """
    for anchor in anchors:
        pos = text.find(anchor)
        while pos >= 0:
            match = pattern.search(text, max(0, pos - span), pos + span)
            if match:
                return match
            pos = text.find(anchor, pos + len(anchor))
    return None


def strip_tags(fragment: str | None) -> str | None:
    """The visible text of an HTML fragment, whitespace collapsed."""
    if not fragment:
        return None
    return clean_text(htmllib.unescape(_TAG_TEXT_RE.sub(" ", fragment)))


def json_at(text: str, start: int) -> Any:
    """The JSON (or JS literal) object/array starting at `start`, or None when unreadable."""
    if start < 0 or start >= len(text) or text[start] not in "{[":
        return None
    try:  # JSON: the C decoder reads just the value and ignores what follows it
        return _DECODER.raw_decode(text, start)[0]
    except (ValueError, RecursionError):
        pass
    end = find_object_end(text, start)
    if end is None:
        return None
    chunk = text[start:end]
    try:  # a JS literal: unquoted keys, single quotes, trailing commas
        return chompjs.parse_js_object(chunk)
    except (ValueError, RecursionError, TypeError):
        return None


def json_after(text: str, pattern: re.Pattern[str], limit: int = 8) -> Iterator[Any]:
    """Each readable object whose opening bracket ends a match of `pattern` (first `limit`)."""
    for count, match in enumerate(pattern.finditer(text)):
        if count >= limit:
            return
        pos = match.end()
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        value = json_at(text, pos)
        if value is not None:
            yield value


def script_json(text: str, script_id: str) -> Any:
    """The JSON body of `<script id="script_id">` (Next.js __NEXT_DATA__ and the like)."""
    match = re.search(
        r"<script\b[^>]*\bid=[\"']?" + re.escape(script_id) + r"[\"']?[^>]*>", text
    )
    if not match:
        return None
    pos = text.find("{", match.end(), match.end() + 200)
    return json_at(text, pos) if pos >= 0 else None


def dig(value: Any, *path: str | int) -> Any:
    """value[path[0]][path[1]]..., None as soon as a step is missing or of the wrong type."""
    for step in path:
        if isinstance(step, int) and isinstance(value, list) and -len(value) <= step < len(value):
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


def first_text(*values: object) -> str | None:
    """The first value that is non-empty text (numbers count as their digits)."""
    for value in values:
        text = clean_text(value)
        if text:
            return text
    return None


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []


def find_dicts(value: Any, wanted: str, budget: int = 20000) -> Iterator[dict]:
    """Every dict under `value` that has key `wanted`, breadth first, within `budget` nodes."""
    queue = deque([value])
    while queue and budget > 0:
        budget -= 1
        node = queue.popleft()
        if isinstance(node, dict):
            if wanted in node:
                yield node
            queue.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            queue.extend(v for v in node if isinstance(v, dict | list))


def ld_image_urls(value: Any, depth: int = 0) -> list[str]:
    """schema.org `image`: a URL, a list, or ImageObject(s) with url/contentUrl."""
    if depth > 4:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [u for v in value for u in ld_image_urls(v, depth + 1)]
    if isinstance(value, dict):
        for key in ("contentUrl", "url"):
            if isinstance(value.get(key), str):
                return [value[key]]
    return []


def ld_documents(text: str, notes: list[str], limit: int = 40) -> list[Any]:
    """The parsed JSON-LD blocks of a page, found by their type attribute (no full scan).

    Cheaper than walking every script of a multi-MB page; a block inside an HTML
    comment would be read too, which costs nothing worse than an extra candidate.
    """
    docs: list[Any] = []
    pos = text.find("ld+json")
    while pos >= 0 and len(docs) < limit:
        open_end = text.find(">", pos)
        close = text.find("</script", open_end) if open_end >= 0 else -1
        if close < 0:
            break
        body = text[open_end + 1: close].strip()
        if body.startswith("<!--") or body.startswith("<![CDATA["):
            body = body[4:] if body.startswith("<!--") else body[9:]
            body = body.rsplit("-->", 1)[0].rsplit("]]>", 1)[0]
        if body:
            try:
                docs.append(json.loads(body.rstrip().rstrip(";")))
            except (ValueError, RecursionError):
                notes.append("a JSON-LD block is not valid JSON and was skipped")
        pos = text.find("ld+json", close)
    return docs


def ld_products(text: str, notes: list[str]) -> list[dict]:
    """The page's JSON-LD Product/ProductGroup nodes, in page order."""
    return products_in(ld_documents(text, notes)) if "ld+json" in text else []


def ld_product(text: str, notes: list[str]) -> dict | None:
    """The page's first JSON-LD Product (or ProductGroup), or None."""
    products = ld_products(text, notes)
    return products[0] if products else None


def add_ld_gallery(text: str, listing: Listing, images: ImageCollector) -> dict | None:
    """The page's JSON-LD Product, its images added to the gallery (source `jsonld` when
    they are the first found): the fallback every marketplace's item page shares."""
    product = ld_product(text, listing.notes)
    if product is not None:
        before = images.count()
        images.add_all(ld_image_urls(product.get("image")), ROLE_GALLERY)
        if images.count() > before and not listing.source:
            listing.source = "jsonld"
    return product


def link_store_and_item(listing: Listing, url: str, default_host: str, store_path: str,
                        item_path: str, fallback_store: str | None = None) -> None:
    """Fill store_url and canonical_url on the page's own host (its locale) from the ids;
    with no seller on the page, the shop's host is the store id of last resort."""
    host = host_of(url) or default_host
    if listing.store_id:
        listing.store_url = f"https://{host}{store_path.format(store=listing.store_id)}"
    else:
        listing.store_id = shop_host(url) or fallback_store
    if listing.product_id:
        listing.canonical_url = f"https://{host}{item_path.format(product=listing.product_id)}"


def new_listing(marketplace: str, url: str, kind: str = KIND_ITEM) -> Listing:
    return Listing(marketplace=marketplace, kind=kind, status=STATUS_OK, url=url)


def refuse(listing: Listing, reason: str, blocked: bool = False) -> Listing:
    """Turn `listing` into a blocked/unsupported one with `reason` and no images."""
    listing.status = STATUS_BLOCKED if blocked else STATUS_UNSUPPORTED
    listing.reason = reason
    listing.images = []
    listing.items = []
    return listing


def shop_host(url: str) -> str | None:
    """The shop's host without `www.`, the store id of last resort."""
    host = host_of(url)
    return (host[4:] if host.startswith("www.") else host) or None


def tags_with(
    text: str, needles: tuple[str, ...], limit: int = _MAX_CARDS
) -> list[tuple[int, dict[str, str]]]:
    """(position, attributes) of each opening tag whose text holds one of `needles`, in order.

    Finds the needle with str.find and backs up to its `<`: much cheaper than a regex
    trying every `<div` of a 2 MB page.
    """
    found: dict[int, dict[str, str]] = {}
    for needle in needles:
        if len(found) >= limit:  # needles come in priority order: enough found already
            break
        pos = text.find(needle)
        while pos >= 0 and len(found) < limit * 2:
            start = text.rfind("<", 0, pos)
            if start >= 0 and text.find(">", start, pos) < 0 and start not in found:
                match = _OPEN_TAG_RE.match(text, start)
                if match:
                    found[start] = attrs_of(match.group(1))
            pos = text.find(needle, pos + len(needle))
    return sorted(found.items())[:limit]


def card_chunks(text: str, starts: list[int]) -> Iterator[tuple[int, str]]:
    """(index, text up to the next card start) for each card start of a results page."""
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        yield i, text[start: min(end, start + _MAX_CARD_CHARS)]


def result_item(
    product_id: object,
    url: object,
    base: str,
    images: list[object],
    title: object = None,
    store_id: object = None,
    store_name: object = None,
) -> ResultItem | None:
    """A results card, or None when it has neither a product id nor a link."""
    pid = first_text(product_id)
    link = normalize_page_url(url, base) if isinstance(url, str) else None
    if not pid and not link:
        return None
    collector = ImageCollector()
    for image in images:
        collector.add(image, ROLE_GALLERY, base)
    return ResultItem(
        product_id=pid, url=link or base, title=first_text(title),
        store_id=first_text(store_id), store_name=first_text(store_name),
        images=collector.refs(),
    )


def results_listing(
    listing: Listing, items: list[ResultItem | None], source: str,
    page_info: dict[str, Any] | None = None,
) -> Listing:
    """Fill `listing` as a results page: cards once per product id/url, in page order."""
    seen: set[str] = set()
    kept: list[ResultItem] = []
    for item in items:
        if item is None:
            continue
        ident = item.product_id or item.url
        if ident in seen:
            continue
        seen.add(ident)
        kept.append(item)
    listing.kind = KIND_RESULTS
    listing.items = kept
    listing.source = source
    listing.page_info = page_info or {}
    if not kept:
        return refuse(listing, "this results page lists no products (it may still be loading, "
                               "or the search found nothing); save it again once it has loaded")
    return listing


def number(value: object) -> int | None:
    """An int from an int or a digit string such as "1,234"; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        digits = re.sub(r"[,.\s]", "", value)
        return int(digits) if digits.isdigit() and len(digits) < 12 else None
    return None
