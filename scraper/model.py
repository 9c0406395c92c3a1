"""Plain data the scraper hands out: Listing, ImageRef, and the parse errors.

Nothing here knows about HTML or HTTP; the daemon stores these values as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .urls import key_of_normalized, normalize_image_url

# Statuses of a parsed page. `blocked` means an anti-bot page stood in for the
# listing (try again later); `unsupported` means no product data (see `reason`).
STATUS_OK = "ok"
STATUS_BLOCKED = "blocked"
STATUS_UNSUPPORTED = "unsupported"
STATUSES = (STATUS_OK, STATUS_BLOCKED, STATUS_UNSUPPORTED)

# What a page is.
KIND_ITEM = "item"
KIND_STORE = "store"
KIND_DESCRIPTION = "description"
KIND_OTHER = "other"
# A results page (search, category, store product list, search by image): one
# ResultItem per card in `Listing.items`.
KIND_RESULTS = "results"
KINDS = (KIND_ITEM, KIND_STORE, KIND_DESCRIPTION, KIND_OTHER, KIND_RESULTS)

# Where an image sits on the listing. When one image appears in several places
# it is reported once, under the first role in this order.
ROLE_GALLERY = "gallery"
ROLE_VARIANT = "variant"
ROLE_DESCRIPTION = "description"
ROLE_OG = "og"
ROLE_STORE = "store"
ROLES = (ROLE_GALLERY, ROLE_VARIANT, ROLE_DESCRIPTION, ROLE_OG, ROLE_STORE)

MARKETPLACE_ALIEXPRESS = "aliexpress"


class ParseError(ValueError):
    """The input is not a page at all (not text, or empty). `reason` says what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotTextError(ParseError):
    """The page or its URL was not a str (bytes must be decoded by the caller)."""


class EmptyPageError(ParseError):
    """The page text is empty or only whitespace."""


class EmbeddedDataError(ParseError):
    """A data object inside a page (runParams, DCData, ...) is truncated or not JSON.

    The page parsers catch this and fall back to the next page generation, so
    callers of `parse_page` never see it; it is public for the low-level helpers.
    """


@dataclass(frozen=True, slots=True)
class ImageRef:
    """One image of a listing: fetchable full-size URL, identity key, and role."""

    url: str
    key: str
    role: str

    def to_dict(self) -> dict[str, str]:
        return {"url": self.url, "key": self.key, "role": self.role}


@dataclass(slots=True)
class ResultItem:
    """One card of a results page: a product of some store with its card images.

    `images` holds the card's main image first, then any extra gallery images the card
    carries, normalised to full size and keyed like a Listing's (role `gallery`).
    """

    product_id: str | None
    url: str
    title: str | None = None
    store_id: str | None = None
    store_name: str | None = None
    images: list[ImageRef] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id, "url": self.url, "title": self.title,
            "store_id": self.store_id, "store_name": self.store_name,
            "images": [ref.to_dict() for ref in self.images],
        }


@dataclass(slots=True)
class Listing:
    """What one page says about one listing (or one store, or one description)."""

    marketplace: str
    kind: str
    status: str
    url: str = ""
    store_id: str | None = None
    store_name: str | None = None
    store_url: str | None = None
    product_id: str | None = None
    title: str | None = None
    canonical_url: str | None = None
    description_url: str | None = None
    reason: str | None = None
    images: list[ImageRef] = field(default_factory=list)
    product_links: list[str] = field(default_factory=list)
    # Other ids the page gives for the same product (AliExpress shows a global
    # 1005... id and a US-site 3256... id on one page).
    alt_product_ids: list[str] = field(default_factory=list)
    # Which data the images came from: mtop, is23, module, dida, dcdata, og,
    # jsonld, microdata, opengraph, store, description, dom.
    source: str | None = None
    # Plain-words remarks about partial data (a truncated data object, a page
    # that says "not found" while still holding the gallery, ...).
    notes: list[str] = field(default_factory=list)
    # kind == "results" only: the cards, in page order, and what the page says of its
    # place in the whole result set ({"page", "page_size", "total"} where known).
    items: list[ResultItem] = field(default_factory=list)
    page_info: dict[str, Any] | None = None

    def images_with_role(self, role: str) -> list[ImageRef]:
        return [ref for ref in self.images if ref.role == role]

    def image_keys(self, role: str | None = None) -> list[str]:
        """Image identity keys in page order, optionally only one role."""
        return [ref.key for ref in self.images if role is None or ref.role == role]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the CLI's `ingest --json` prints this)."""
        return {
            "marketplace": self.marketplace,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "url": self.url,
            "store_id": self.store_id,
            "store_name": self.store_name,
            "store_url": self.store_url,
            "product_id": self.product_id,
            "alt_product_ids": list(self.alt_product_ids),
            "title": self.title,
            "canonical_url": self.canonical_url,
            "description_url": self.description_url,
            "source": self.source,
            "images": [ref.to_dict() for ref in self.images],
            "product_links": list(self.product_links),
            "notes": list(self.notes),
            **({"items": [item.to_dict() for item in self.items],
                "page_info": self.page_info} if self.kind == KIND_RESULTS else {}),
        }


class ImageCollector:
    """Builds a listing's image list: normalised, one entry per identity key."""

    __slots__ = ("_refs", "_seen")

    def __init__(self) -> None:
        self._refs: list[ImageRef] = []
        self._seen: set[str] = set()

    def add(self, url: object, role: str, base: str | None = None) -> bool:
        """Add one raw URL under `role`; False when it is no image or already there."""
        if not isinstance(url, str):
            return False
        norm = normalize_image_url(url, base)
        if norm is None:
            return False
        key = key_of_normalized(norm)
        if key in self._seen:
            return False
        self._seen.add(key)
        self._refs.append(ImageRef(url=norm, key=key, role=role))
        return True

    def add_all(self, urls: object, role: str, base: str | None = None) -> int:
        if not isinstance(urls, list | tuple):
            return 0
        return sum(self.add(u, role, base) for u in urls)

    def count(self, role: str | None = None) -> int:
        return sum(1 for r in self._refs if role is None or r.role == role)

    def refs(self) -> list[ImageRef]:
        return list(self._refs)
