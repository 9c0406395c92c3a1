"""Temu parser (scraper.temu) on real pages: a best-sellers list, a login wall, a store shell."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper import parse_page, temu
from tests.marketplace_support import (
    PROPERTY_SETTINGS,
    URLS,
    check_mutated,
    mutation_strategy,
    pages_of,
    well_formed,
)

PAGES = pages_of("temu")
LIST = "temu/temu-crawler_temu-kr_bestsellers_2024_PYREPR.html"
NEGATIVE = sorted(name for name in PAGES if "/NEGATIVE_" in name)


def test_best_sellers_list() -> None:
    listing = parse_page(PAGES[LIST], URLS[LIST])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("temu", "results", "ok")
    assert len(listing.items) == 20
    first = listing.items[0]
    assert (first.product_id, first.store_id) == ("601099519166354", "12903258543")
    assert first.images[0].key == (
        "kwcdn:product/algorithm21266d99b194673ce76852718e38dc211704442644942.jpg")
    assert first.url.startswith("https://www.temu.com/kr/") and first.title


@pytest.mark.parametrize("name", NEGATIVE)
def test_login_wall_and_store_shell_are_not_listings(name: str) -> None:
    listing = parse_page(PAGES[name], URLS[name])
    well_formed(listing)
    assert listing.marketplace == "temu" and listing.status in ("blocked", "unsupported")
    assert not listing.images and not listing.items


def test_goods_page_raw_data() -> None:
    raw = {"store": {"goods": {"goodsId": 601099500000001, "goodsName": "Lamp", "mallId": 9},
                     "mall": {"mallId": 9, "mallName": "Lamp Mall"},
                     "gallery": [{"url": "https://img.kwcdn.com/product/a.jpg?imageView2/2/w/800"},
                                 {"url": "https://img.kwcdn.com/product/b.jpg"}]}}
    page = f"<html><script>window.rawData={json.dumps(raw)};</script></html>"
    listing = parse_page(page, "https://www.temu.com/lamp-g-601099500000001.html")
    well_formed(listing)
    assert (listing.kind, listing.product_id, listing.store_id, listing.store_name) == (
        "item", "601099500000001", "9", "Lamp Mall")
    assert [r.url for r in listing.images] == ["https://img.kwcdn.com/product/a.jpg",
                                               "https://img.kwcdn.com/product/b.jpg"]


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(PAGES)),
       mutation=mutation_strategy(("window.rawData=", '"goodsList":[', '"goodsId":',
                                   '"thumbUrl":"', '"page_id":"login"')))
def test_mutated_pages_give_a_listing_or_the_documented_error(name: str, mutation: tuple) -> None:
    check_mutated(temu.parse, PAGES[name], URLS[name], mutation)
