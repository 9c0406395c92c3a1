"""AliExpress item pages of every generation and description pages (stores: aliexpress_store).

Item data is taken from the first page generation that yields a gallery, in the
order of shared/notes/aliexpress-pages.md: mtop JSON, runParams components
(is23), runParams modules, Ultron/dida `_init_data_`, CSR `_d_c_.DCData`, and
finally `og:image`. Other facts (store, title, ids) are merged from every
generation found, earlier ones first.
"""

from __future__ import annotations

import json
import re
from typing import Any

import lxml.html
from bs4 import BeautifulSoup, Tag
from lxml import etree

from . import ae_sources as src
from .blocked import blocked_reason
from .htmlutil import (
    PageMeta,
    clean_ae_title,
    head_meta,
    img_sources,
    is_tracking_pixel,
    make_soup,
    walk_tags,
)
from .jsdata import assigned_object
from .model import (
    KIND_DESCRIPTION,
    KIND_ITEM,
    MARKETPLACE_ALIEXPRESS,
    ROLE_DESCRIPTION,
    ROLE_GALLERY,
    ROLE_OG,
    ROLE_VARIANT,
    STATUS_BLOCKED,
    STATUS_OK,
    STATUS_UNSUPPORTED,
    EmbeddedDataError,
    ImageCollector,
    ImageRef,
    Listing,
)
from .urls import (
    canonical_item_url,
    canonical_store_url,
    item_id_from_url,
    normalize_image_url,
    normalize_page_url,
    store_id_from_url,
)

# Containers of the seller's description, in the description page and in a
# rendered item page (the extension serialises the live DOM).
_DESC_CLASSES = frozenset(
    {
        "detailmodule_html",
        "detail-desc-decorate-richtext",
        "detailmodule_image",
        "product-description",
    }
)
_DESC_MARKERS = ("detailmodule_", "detail-desc-decorate", "product-description")


def _box_condition() -> str:
    """XPath test for a description container: its id, or any of its classes."""
    classes = " or ".join(f"contains(concat(' ', normalize-space(@class), ' '), ' {c} ')"
                          for c in sorted(_DESC_CLASSES))
    return f"@id='product-description' or {classes}"


# Images inside any description container, each once, in page order. lxml runs this in C:
# building a bs4 tree of a 400 kB item page (even a filtered one) costs a Python call per
# tag, 40 ms on the largest real page, for the few boxes that hold the description.
_DESC_IMAGES = etree.XPath(f"//*[{_box_condition()}]//*[self::img or self::source]")
_NOT_FOUND_MARKERS = ('class="not-found--', "class='not-found--")
_PUNISH_ITEM_RE = re.compile(r"/item/(\d{6,20})\.html/_____tmd_____")
_ITEM_MARKERS = ("runParams", "_init_data_", "_d_c_", "HEADER_IMAGE_PC", "imagePathList")


def looks_like_item_data(text: str) -> bool:
    """True when the text holds AliExpress item data of some generation."""
    return any(marker in text for marker in _ITEM_MARKERS) and (
        "imagePathList" in text or "imageModule" in text or "imageComponent" in text
    )


# --- item pages -------------------------------------------------------------------------------


def _collect_facts(text: str, mtop: Any, notes: list[str]) -> list[src.ItemFacts]:
    """ItemFacts from every data object in the page, in fallback order."""
    facts: list[src.ItemFacts | None] = []
    if mtop is not None:
        found = src.from_mtop(mtop)
        if found is None:
            notes.append("the captured mtop response has no product result; it was ignored")
        facts.append(found)
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):  # a data object saved on its own (e.g. the dida sample)
        try:
            facts.append(src.from_json_document(json.loads(stripped)))
        except (ValueError, RecursionError):
            notes.append("the text starts like JSON but is not valid JSON")
    # (name in text, assignment pattern, where the data sits in the assigned object, reader).
    # `_init_data_` may be plain JSON or a JS literal `{ data: {...} }`: try both.
    readers = (
        ("runParams", r"runParams", ("data",), src.from_run_params),
        ("_init_data_", r"_init_data_", (None, "data"), src.from_dida),
        ("DCData", r"_d_c_\.DCData", (None,), src.from_dcdata),
    )
    for what, pattern, keys, reader in readers:
        if what not in text:
            continue
        error: EmbeddedDataError | None = None
        for key in keys:
            try:
                value = assigned_object(text, pattern, what, key)
            except EmbeddedDataError as exc:
                error = error or exc
                continue
            if value is not None:
                facts.append(
                    reader({"data": value} if key == "data" and what == "_init_data_" else value)
                )
                error = None
                break
        if error is not None:
            notes.append(error.reason)
    return [f for f in facts if f is not None]


def _same_product(facts: list[src.ItemFacts]) -> tuple[list[src.ItemFacts], bool]:
    """Keep only facts about the captured mtop response's product; True when some were not.

    After a single-page navigation the page's embedded data (and its og:image and rendered
    description) still describe the first item while the mtop response describes the new
    one; mixing them would give one listing another product's images.
    """
    lead = facts[0] if facts and facts[0].source == "mtop" else None
    if lead is None or not lead.product_id:
        return facts, False
    same = {lead.product_id, *lead.alt_ids}
    kept = [lead] + [f for f in facts[1:]
                     if not f.product_id or f.product_id in same or same & set(f.alt_ids)]
    return kept, len(kept) < len(facts)


def _merged(facts: list[src.ItemFacts], name: str) -> Any:
    return src.first(*(getattr(f, name) for f in facts))


def parse_item(text: str, url: str, mtop: Any = None) -> Listing:
    """An AliExpress item page (or saved item data object) as a Listing."""
    notes: list[str] = []
    facts, stale_page = _same_product(_collect_facts(text, mtop, notes))
    if stale_page:
        notes.append("the page's own data describes another item (a single-page navigation); "
                     "only the captured mtop response was used")
    meta = head_meta(text) if not stale_page else PageMeta()
    gallery_facts = next((f for f in facts if f.gallery), None)
    ordered = ([gallery_facts] if gallery_facts else []) + [
        f for f in facts if f is not gallery_facts
    ]
    og_url = meta.first("og:url")
    product_id = src.first(
        _merged(ordered, "product_id"),
        item_id_from_url(url),
        item_id_from_url(normalize_page_url(og_url)),
        item_id_from_url(meta.canonical),
    )
    listing = Listing(
        marketplace=MARKETPLACE_ALIEXPRESS,
        kind=KIND_ITEM,
        status=STATUS_OK,
        url=url,
        product_id=product_id,
        notes=notes,
    )
    if product_id:
        listing.canonical_url = canonical_item_url(product_id)
    reason = blocked_reason(text)
    if gallery_facts is None and reason:
        listing.status, listing.reason = STATUS_BLOCKED, reason
        if not product_id:  # the punish page names the item it stands in for
            match = _PUNISH_ITEM_RE.search(text)
            listing.product_id = match.group(1) if match else None
            if listing.product_id:
                listing.canonical_url = canonical_item_url(listing.product_id)
        return listing

    images = ImageCollector()
    if gallery_facts is not None:
        images.add_all(gallery_facts.gallery, ROLE_GALLERY)
        listing.source = gallery_facts.source
    variants = (
        gallery_facts.variants
        if gallery_facts and gallery_facts.variants
        else _merged(ordered, "variants")
    )
    images.add_all(variants or [], ROLE_VARIANT)
    if not stale_page and any(marker in text for marker in _DESC_MARKERS):
        _item_description_into(text, url, images)
    og_added = images.add_all(meta.all("og:image", "og:image:secure_url"), ROLE_OG, base=url)
    if gallery_facts is None:
        if not og_added:
            listing.status = STATUS_UNSUPPORTED
            listing.reason = (
                "no product data in this AliExpress page (no mtop, runParams, _init_data_, DCData "
                "or og:image); if the page was still loading, save it again once it has finished"
            )
            return listing
        listing.source = "og"
        notes.append("no page data object was found; only og:image was used")
    if gallery_facts is not None and any(m in text for m in _NOT_FOUND_MARKERS):
        notes.append(
            "the page body says the item was not found, but its data still names the gallery"
        )
    if reason:
        notes.append("the page also carries anti-bot markers; its data was used anyway")

    listing.images = images.refs()
    listing.title = src.first(
        _merged(ordered, "title"),
        clean_ae_title(meta.first("og:title")),
        clean_ae_title(meta.title),
    )
    _fill_store(listing, ordered)
    desc = _merged(ordered, "description_url")
    listing.description_url = normalize_page_url(desc) if isinstance(desc, str) else None
    listing.alt_product_ids = _alt_ids(listing, ordered, og_url, meta.canonical)
    return listing


def _fill_store(listing: Listing, facts: list[src.ItemFacts]) -> None:
    listing.store_id = _merged(facts, "store_id")
    listing.store_name = _merged(facts, "store_name")
    if listing.store_id:
        listing.store_url = canonical_store_url(listing.store_id)
    else:
        raw = _merged(facts, "store_url")
        listing.store_url = normalize_page_url(raw) if isinstance(raw, str) else None
        listing.store_id = store_id_from_url(listing.store_url)
        if listing.store_id:
            listing.store_url = canonical_store_url(listing.store_id)


def _alt_ids(
    listing: Listing, facts: list[src.ItemFacts], og_url: str | None, canonical: str | None
) -> list[str]:
    """Other ids of this product seen on the page (US-site vs global ids)."""
    candidates: list[str | None] = []
    for f in facts:
        candidates.append(f.product_id)
        candidates.extend(f.alt_ids)
    candidates += [
        item_id_from_url(listing.url),
        item_id_from_url(normalize_page_url(og_url)),
        item_id_from_url(canonical),
        item_id_from_url(listing.description_url),
    ]
    seen = {listing.product_id}
    out: list[str] = []
    for cid in candidates:
        if cid and cid not in seen:
            seen.add(cid)
            out.append(cid)
    return out


# --- description ------------------------------------------------------------------------------


def _is_description_box(tag: Tag) -> bool:
    classes = tag.get("class") or []
    classes = [classes] if isinstance(classes, str) else classes
    return tag.get("id") == "product-description" or not _DESC_CLASSES.isdisjoint(classes)


def _description_into(
    soup: BeautifulSoup | None, base: str, images: ImageCollector, anywhere: bool
) -> None:
    """Add description images; `anywhere` takes every <img> when no container is found."""
    if soup is None:
        return
    inside: list[Tag] = []
    everywhere: list[Tag] = []
    for tag, in_box in walk_tags(soup, lambda t, up: up or _is_description_box(t), False):
        if tag.name in ("img", "source"):
            (inside if in_box else everywhere).append(tag)
    has_box = bool(inside) or soup.find(_is_description_box) is not None
    tags = inside if has_box else everywhere if anywhere else []
    for tag in tags:
        _add_first_source(tag, base, images)


def _add_first_source(tag: Any, base: str, images: ImageCollector) -> None:
    """One image per <img>/<source> (bs4 Tag or lxml element): its first real source (lazy
    attributes come first, so a placeholder `src` is never taken); no tracking pixels."""
    if is_tracking_pixel(tag):
        return
    for candidate in img_sources(tag):
        if normalize_image_url(candidate, base) is not None:
            images.add(candidate, ROLE_DESCRIPTION, base=base)
            return


def _item_description_into(text: str, base: str, images: ImageCollector) -> None:
    """Add the images inside the description containers of a rendered item page."""
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", "replace"))
    except (etree.ParserError, ValueError):  # nothing lxml can read: bs4's slower way
        _description_into(make_soup(text), base, images, anywhere=False)
        return
    for tag in _DESC_IMAGES(root):
        _add_first_source(tag, base, images)


def description_images(text: str, url: str) -> list[ImageRef]:
    """Images of a separately served description page."""
    images = ImageCollector()
    _description_into(make_soup(text), url, images, anywhere=True)
    return images.refs()


def parse_description_page(text: str, url: str) -> Listing:
    """The separately served description page as a Listing of kind `description`."""
    listing = Listing(
        marketplace=MARKETPLACE_ALIEXPRESS,
        kind=KIND_DESCRIPTION,
        status=STATUS_OK,
        url=url,
        product_id=item_id_from_url(url),
        source="description",
        description_url=normalize_page_url(url),
    )
    reason = blocked_reason(text)
    if reason:
        listing.status, listing.reason = STATUS_BLOCKED, reason
        return listing
    listing.images = description_images(text, url)
    if not listing.images:
        listing.notes.append("the description has no images")
    return listing
