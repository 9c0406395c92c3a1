"""Shared helpers of the per-marketplace scraper tests: the real pages, their URLs, checks.

The pages live in ../shared/fixtures/marketplaces (SOURCES.md there says what each
is); each is parsed with the URL it was served from, as the extension sends it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from scraper import EmptyPageError, Listing, ParseError, parse_page
from scraper.model import KIND_RESULTS, KINDS, ROLES, STATUSES
from tests.marketplace_pages import PAGES_DIR, URLS, load  # noqa: F401 - re-exported

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)
# Fragments that steer mutated pages into the parsers' deeper paths.
COMMON_TOKENS = (
    "<script>", "</script>", '<script type="application/ld+json">', "{", "}", "[", "]", '"',
    "'", "\\", ",", ":", "null", "<img src=\"", '<img data-src="//x/y.jpg">', "</head>",
    '{"@type":"Product","image":', '<meta property="og:image" content="', "\x00", "\ud800",
    "captcha-delivery.com", "_____tmd_____/punish",
)


def pages_of(folder: str) -> dict[str, str]:
    """Every page of one marketplace folder by file name, checked against URLS."""
    names = sorted(f"{folder}/{p.name}" for p in (PAGES_DIR / folder).iterdir())
    assert names == sorted(n for n in URLS if n.startswith(folder + "/")), "URLS is out of date"
    return {name: load(name) for name in names}


def well_formed(listing: object) -> None:
    """A Listing whose every field has the documented shape (JSON-ready, no duplicate keys)."""
    assert isinstance(listing, Listing)
    assert listing.status in STATUSES and listing.kind in KINDS
    if listing.status != "ok":
        assert listing.reason and not listing.images and not listing.items
    keys = [ref.key for ref in listing.images]
    assert len(keys) == len(set(keys))
    for ref in listing.images:
        assert ref.role in ROLES and ref.key
        assert ref.url.startswith(("https://", "http://"))
    if listing.kind == KIND_RESULTS and listing.status == "ok":
        assert listing.items
        for item in listing.items:
            assert item.product_id or item.url
            assert all(ref.url.startswith(("https://", "http://")) for ref in item.images)
    json.dumps(listing.to_dict())


def mutation_strategy(tokens: tuple[str, ...]) -> st.SearchStrategy:
    """(kind, a, b, inserted text) of one mutation; positions are fractions of the page."""
    fraction = st.floats(0, 1, allow_nan=False)
    inserted = st.lists(st.sampled_from(COMMON_TOKENS + tokens) | st.text(max_size=6),
                        max_size=12).map("".join)
    return st.tuples(st.sampled_from(["truncate", "slice", "splice", "drop"]), fraction, fraction,
                     inserted)


def mutate(text: str, mutation: tuple[str, float, float, str]) -> str:
    kind, a, b, inserted = mutation
    start, end = sorted((int(a * len(text)), int(b * len(text))))
    if kind == "truncate":
        return text[:end]
    if kind == "slice":
        return text[start:end]
    if kind == "splice":
        return text[:start] + inserted + text[start + min(end - start, 300):]
    return text[:start] + text[end:]  # drop a range


def parse_or_documented_error(parse: Callable[..., Listing], text: str, url: str) -> None:
    """parse() gives a well-formed Listing, or the documented ParseError for a blank page."""
    try:
        listing = parse(text, url)
    except ParseError as exc:
        assert isinstance(exc, EmptyPageError) and not text.strip() and exc.reason
        return
    well_formed(listing)


def check_mutated(parser: Callable[..., Listing], text: str, url: str,
                  mutation: tuple[str, float, float, str]) -> None:
    """A mutated real page, through the marketplace's parser and through parse_page."""
    page = mutate(text, mutation)
    parse_or_documented_error(parse_page, page, url)
    parse_or_documented_error(parser, page, url)
    parse_or_documented_error(parser, page, "")


def page_path(name: str) -> Path:
    return PAGES_DIR / name
