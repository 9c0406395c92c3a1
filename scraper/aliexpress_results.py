"""AliExpress results pages (search, category, store product lists, search by image).

One results page becomes one Listing of kind `results` with a ResultItem per card. The
sources, tried in order (the first that yields items wins, later ones only add cards the
earlier missed): the captured XHR/mtop answers (what arrives by scrolling or paging),
the `_init_data_` object of today's pages (`data.root.fields.mods.itemList.content`),
the older `runParams` (`mods.itemList.content`), and the rendered cards (aliexpress.ru has
no data object at all). A captcha page in place of results is `blocked`.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import chompjs

from . import ae_sources as src
from .blocked import blocked_reason
from .htmlutil import clean_text, img_sources, make_soup
from .jsdata import assigned_object, find_key_object, parse_json_at
from .model import (
    KIND_RESULTS,
    MARKETPLACE_ALIEXPRESS,
    ROLE_GALLERY,
    STATUS_BLOCKED,
    STATUS_OK,
    STATUS_UNSUPPORTED,
    EmbeddedDataError,
    ImageCollector,
    ImageRef,
    Listing,
    ResultItem,
)
from .urls import (
    ALICDN_KEY_PREFIX,
    canonical_item_url,
    canonical_store_url,
    host_of,
    is_aliexpress_cdn_host,
    item_id_from_url,
    normalize_page_url,
    store_id_from_url,
)

INIT_START = "/*!-->init-data-start--*/"
INIT_END = "/*!-->init-data-end--*/"
# A hostile page could nest objects very deep or hold thousands of cards: cap both.
MAX_ITEMS = 1000
_MAX_DEPTH = 12

_RESULTS_PATH_RE = re.compile(
    r"^/(?:w/wholesale-[^/]*\.html|wholesale(?:/|$|\.html)|category/\d+/|af/|popular/|"
    r"premium/|[a-z-]*image[-_]?search|p/search-by-image|store/all-wholesale-products/\d+|"
    r"store/\d+/(?:pages/all-items|search)|store/\d+/\d+\.html$)",
    re.IGNORECASE,
)
_IMAGE_SEARCH_QUERY = ("imageAddress", "imgSearch", "imageSearch", "isFromImageSearch")
_CARD_MARKERS = ("data-product-id", "search-card-item", "RedSnippet")
# The one URL form AliExpress result cards use (`//host/kf/<id>[/<slug>].<ext>[_<size>]`):
# normalised and keyed here without two urlsplit calls per image, which is most of the time
# of a 60-card page. The result is identical to scraper.urls (a test checks every shared
# card URL); anything else goes the general way.
_CDN_CARD_URL_RE = re.compile(
    r"^(?:https?:)?//((?:[a-z0-9-]+\.)*(?:alicdn\.com|aliexpress-media\.com))"
    r"(/kf/([A-Za-z0-9]+)(?:\.(?:jpe?g|png|webp|avif|gif)|/(?!\d+x\d+\.)[A-Za-z0-9-]+"
    r"\.(?:jpe?g|png|webp|avif|gif)))(?:_[A-Za-z0-9._]*)?$")
_DATA_KEY_RE = re.compile(r"""\{\s*(?:data|"data"|'data')\s*:\s*""")
_TITLE_CLASS_RE = re.compile(r"title", re.IGNORECASE)


class _CardImages(ImageCollector):
    """An ImageCollector with a fast path for the CDN URL form of result cards."""

    __slots__ = ()

    def add(self, url: object, role: str, base: str | None = None) -> bool:
        match = _CDN_CARD_URL_RE.match(url) if isinstance(url, str) else None
        if match is None or "-tps-" in match.group(2):
            return super().add(url, role, base)
        key = f"{ALICDN_KEY_PREFIX}kf/{match.group(3)}"
        if key in self._seen:
            return False
        self._seen.add(key)
        self._refs.append(ImageRef(url=f"https://{match.group(1)}{match.group(2)}", key=key,
                                   role=role))
        return True


def is_results_url(url: str) -> bool:
    """True for an AliExpress results page address (search, category, store list, by image)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if _RESULTS_PATH_RE.search(parts.path or "/"):
        return True
    query = parse_qs(parts.query)
    return "SearchText" in query or any(key in query for key in _IMAGE_SEARCH_QUERY)


def looks_like_results(text: str) -> bool:
    """True when a page carries a result list (itemList) or rendered result cards."""
    return ("itemList" in text and "productId" in text) or any(
        marker in text for marker in _CARD_MARKERS)


# --- data objects ----------------------------------------------------------------------------


def _find_item_list(obj: Any, depth: int = 0) -> tuple[list | None, Any]:
    """The first `itemList.content` list (and the pageInfo beside it) inside `obj`."""
    if depth > _MAX_DEPTH:
        return None, None
    if isinstance(obj, dict):
        item_list = obj.get("itemList")
        if isinstance(item_list, dict) and isinstance(item_list.get("content"), list):
            return item_list["content"], obj.get("pageInfo") or item_list.get("pageInfo")
        if isinstance(obj.get("content"), list) and any(
                isinstance(x, dict) and "productId" in x for x in obj["content"][:5]):
            return obj["content"], obj.get("pageInfo")
        for value in obj.values():
            if isinstance(value, dict | list):
                found, info = _find_item_list(value, depth + 1)
                if found is not None:
                    return found, info or obj.get("pageInfo")
    elif isinstance(obj, list):
        for value in obj[:50]:
            if isinstance(value, dict | list):
                found, info = _find_item_list(value, depth + 1)
                if found is not None:
                    return found, info
    return None, None


def _init_data(text: str) -> Any:
    """The `_init_data_` object between its marker comments (or anywhere), or None."""
    start = text.find(INIT_START)
    end = text.find(INIT_END, start + 1) if start >= 0 else -1
    block = text[start + len(INIT_START):end] if start >= 0 and end > start else None
    if block is None:
        if "_init_data_" not in text:
            return None
        block = text
    at = block.find("_init_data_")
    brace = block.find("{", at if at >= 0 else 0)
    if brace < 0:
        return None
    if end > start >= 0:
        # Fastest path: the marked block is `... = { data: <JSON> }`; json.loads the inner
        # slice at once instead of walking 600 KB of brackets to find its end.
        head = _DATA_KEY_RE.match(block, brace)
        tail = block.rstrip().rstrip(";").rstrip()
        if head is not None and tail.endswith("}"):
            try:
                return {"data": json.loads(tail[head.end():-1])}
            except (ValueError, RecursionError):
                pass  # not plain JSON inside: the careful way below
    data_at = find_key_object(block, brace, "data")
    try:
        # Fast path: the `data` value is JSON inside a JS literal `{ data: {...} }`.
        return {"data": parse_json_at(block, data_at, "_init_data_")} if data_at is not None \
            else parse_json_at(block, brace, "_init_data_")
    except EmbeddedDataError:
        if end < 0:
            raise
    # A JS literal that is not JSON (single quotes, trailing commas): chompjs reads it.
    try:
        return chompjs.parse_js_object(block[brace:])
    except (ValueError, TypeError, RecursionError) as exc:
        raise EmbeddedDataError(
            "the page's _init_data_ object is not readable; save the whole page again") from exc


def _run_params(text: str) -> Any:
    if "runParams" not in text:
        return None
    return assigned_object(text, r"runParams", "runParams")


def _as_str(value: Any) -> str | None:
    return clean_text(value) if isinstance(value, str) else None


def _item_from_data(raw: Any) -> ResultItem | None:
    """One `itemList.content` entry as a ResultItem; None for ads, banners and junk."""
    if not isinstance(raw, dict):
        return None
    pid = src.as_id(raw.get("productId") or raw.get("itemId"))
    if pid is None:
        return None
    title = raw.get("title")
    if isinstance(title, dict):
        title = title.get("displayTitle") or title.get("seoTitle")
    store = raw.get("store") if isinstance(raw.get("store"), dict) else {}
    store_id = src.as_id(store.get("storeId")) or store_id_from_url(store.get("storeUrl"))
    images = _CardImages()
    image = raw.get("image")
    images.add(image.get("imgUrl") if isinstance(image, dict) else image, ROLE_GALLERY)
    images.add(raw.get("imageUrl"), ROLE_GALLERY)
    extras = raw.get("images")
    for extra in extras if isinstance(extras, list) else []:
        images.add(extra.get("imgUrl") if isinstance(extra, dict) else extra, ROLE_GALLERY)
    url = normalize_page_url(raw.get("productDetailUrl"))
    if url is None or item_id_from_url(url) != pid:
        url = canonical_item_url(pid)
    return ResultItem(
        product_id=pid, url=url, title=_as_str(title), store_id=store_id,
        store_name=_as_str(store.get("storeName")),
        images=images.refs(),
    )


def _page_info(info: Any) -> dict[str, Any] | None:
    if not isinstance(info, dict):
        return None
    out = {"page": info.get("page") or info.get("currentPage"),
           "page_size": info.get("pageSize"),
           "total": info.get("totalResults") or info.get("total") or info.get("totalCount")}
    out = {k: v for k, v in out.items() if isinstance(v, int) and not isinstance(v, bool)}
    return out or None


# --- rendered cards --------------------------------------------------------------------------


def _dom_items(text: str, url: str) -> list[ResultItem]:
    """Cards of a rendered results page: `[data-product-id]` blocks, else item links with images."""
    if "<" not in text:
        return []
    soup = make_soup(text)
    if soup is None:
        return []
    cards = [tag for tag in soup.find_all(attrs={"data-product-id": True})
             if tag.find_parent(attrs={"data-product-id": True}) is None]
    if not cards:
        cards = [a for a in soup.find_all("a", href=True)
                 if item_id_from_url(normalize_page_url(a.get("href"), url)) and a.find("img")]
    items: list[ResultItem] = []
    for card in cards[:MAX_ITEMS]:
        link = card if card.name == "a" else card.find("a", href=True)
        href = normalize_page_url(link.get("href"), url) if link is not None else None
        pid = src.as_id(card.get("data-product-id")) or item_id_from_url(href)
        if pid is None:
            continue
        images = _CardImages()
        for img in card.find_all("img"):
            # Card photos come from the marketplace CDN; badges and stars from elsewhere.
            for candidate in img_sources(img):
                absolute = normalize_page_url(candidate, url)
                if absolute and is_aliexpress_cdn_host(host_of(absolute)):
                    images.add(absolute, ROLE_GALLERY)
                    break
        titled = [tag for tag in card.find_all(class_=_TITLE_CLASS_RE)
                  if tag.find(class_=_TITLE_CLASS_RE) is None and tag.get_text(strip=True)]
        title_tag = titled[0] if titled else card.find(["h1", "h2", "h3"])
        first_img = card.find("img")
        title = clean_text(title_tag.get_text(" ")) if title_tag is not None else None
        if title is None and first_img is not None:
            title = clean_text(first_img.get("alt"))
        store_link = card.find("a", href=re.compile(r"/store/\d"))
        store_id = store_id_from_url(store_link.get("href")) if store_link is not None else None
        items.append(ResultItem(
            product_id=pid, url=canonical_item_url(pid), title=title, store_id=store_id,
            store_name=clean_text(store_link.get_text(" ")) if store_link is not None else None,
            images=images.refs(),
        ))
    return items


# --- the page --------------------------------------------------------------------------------


def _merge(into: dict[str, ResultItem], items: list[ResultItem]) -> None:
    """Add cards not seen yet; a card seen again only fills what was missing."""
    for item in items:
        if len(into) >= MAX_ITEMS and item.product_id not in into:
            return
        known = into.get(item.product_id or "")
        if known is None:
            into[item.product_id or ""] = item
            continue
        known.title = known.title or item.title
        known.store_id = known.store_id or item.store_id
        known.store_name = known.store_name or item.store_name
        have = {ref.key for ref in known.images}
        known.images.extend(ref for ref in item.images if ref.key not in have)


def _items_of(content: list) -> list[ResultItem]:
    return [item for item in (_item_from_data(raw) for raw in content[:MAX_ITEMS]) if item]


def parse_results(text: str, url: str, mtop: Any = None) -> Listing:
    """An AliExpress results page (plus captured XHR/mtop answers) as a `results` Listing."""
    listing = Listing(marketplace=MARKETPLACE_ALIEXPRESS, kind=KIND_RESULTS, status=STATUS_OK,
                      url=url)
    found: dict[str, ResultItem] = {}
    sources: list[str] = []
    page_info: dict[str, Any] | None = None
    stripped = text.lstrip()
    # Several captured answers (scrolling, next pages) come as {"responses": [...]} or a list.
    answers = mtop.get("responses") if isinstance(mtop, dict) else None
    if not isinstance(answers, list):
        answers = mtop if isinstance(mtop, list) else [mtop] if mtop is not None else []
    readers: list[tuple[str, Any]] = [
        ("mtop", lambda answer=answer: answer) for answer in answers[:50]]
    if stripped[:1] in ("{", "["):  # an itemList object or mtop answer saved on its own
        readers.append(("json", lambda: json.loads(stripped)))
    readers += [("dida", lambda: _init_data(text)), ("runParams", lambda: _run_params(text))]
    for name, read in readers:
        try:
            data = read()
        except EmbeddedDataError as exc:
            listing.notes.append(exc.reason)
            continue
        except (ValueError, RecursionError):
            listing.notes.append(f"the {name} data is not valid JSON; it was ignored")
            continue
        if data is None:
            continue
        try:
            content, info = _find_item_list(data)
        except RecursionError:
            content, info = None, None
        if content is None:
            if name == "mtop":
                listing.notes.append("the captured mtop answer has no result list; it was ignored")
            continue
        before = len(found)
        _merge(found, _items_of(content))
        page_info = page_info or _page_info(info)
        if len(found) > before and name not in sources:
            sources.append(name)
    if not found or sources == ["mtop"]:  # the DOM holds the cards the answers did not
        before = len(found)
        try:
            _merge(found, _dom_items(text, url))
        except RecursionError:
            listing.notes.append("the page's markup is nested too deep to read its cards")
        if len(found) > before:
            sources.append("dom")
    listing.items = list(found.values())
    listing.page_info = page_info
    listing.source = "+".join(sources) or None
    if not listing.items:
        reason = blocked_reason(text)
        if reason:
            listing.status = STATUS_BLOCKED
            listing.reason = ("AliExpress showed an anti-bot check (captcha) instead of the "
                              "results; open the page in your browser, pass the check, and "
                              "PicGuard will read it again")
        elif not sources and page_info is None and not _has_empty_list(text):
            listing.status = STATUS_UNSUPPORTED
            listing.reason = ("this AliExpress page holds no result list PicGuard can read; "
                              "save the page again once the results have loaded")
    store_ids = {item.store_id for item in listing.items if item.store_id}
    page_store = store_id_from_url(url) if "/store/" in url else None
    if page_store or len(store_ids) == 1 and "/store/" in url:
        listing.store_id = page_store or next(iter(store_ids))
        listing.store_url = canonical_store_url(listing.store_id)
    return listing


def _has_empty_list(text: str) -> bool:
    """A results page whose list is there but empty (a search with no results)."""
    return bool(re.search(r"""["']?itemList["']?\s*:\s*\{\s*["']?content["']?\s*:\s*\[\s*\]""",
                          text[:5_000_000]))
