"""Shopee parser (scraper.shopee): the real app shell, and captured API answers."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from scraper import parse_page, shopee
from tests.marketplace_support import (
    PROPERTY_SETTINGS,
    URLS,
    check_mutated,
    mutation_strategy,
    pages_of,
    well_formed,
)

PAGES = pages_of("shopee")
SHELL = "shopee/NEGATIVE_shopee-price-tracker-claude_shopee-ph_spa-shell.html"
HASHES = ["ph-11134207-7r98o-lx1aaaaaaaaaaa", "ph-11134207-7r98o-lx1bbbbbbbbbbb"]
GET_PC = {"data": {
    "item": {"item_id": 9876543210, "shop_id": 123456789, "title": "Phone case"},
    "product_images": {"images": HASHES,
                       "first_tier_variations": [{"name": "Red",
                                                  "image": "ph-11134207-7r98o-lx1ccccccccccc"}]},
    "shop_detailed": {"shopid": 123456789, "name": "Case Shop"}}}


def test_shell_without_captured_data_is_unsupported() -> None:
    listing = parse_page(PAGES[SHELL], URLS[SHELL])
    well_formed(listing)
    assert (listing.marketplace, listing.status) == ("shopee", "unsupported")
    assert "/api/v4/pdp/get_pc" in listing.reason


def test_shell_with_captured_get_pc() -> None:
    for kwargs in ({"captured": GET_PC}, {"mtop": GET_PC}, {"captured": [{"x": 1}, GET_PC]},
                   {"mtop": {"responses": [{"error": 90309999}, GET_PC]}}):
        listing = parse_page(PAGES[SHELL], URLS[SHELL], **kwargs)
        well_formed(listing)
        assert (listing.marketplace, listing.kind, listing.status) == ("shopee", "item", "ok")
        assert (listing.product_id, listing.store_id, listing.store_name) == (
            "9876543210", "123456789", "Case Shop")
        assert [r.key for r in listing.images] == [f"shopee:{h}" for h in HASHES] + [
            "shopee:ph-11134207-7r98o-lx1ccccccccccc"]
        assert listing.images[0].url == f"https://down-ph.img.susercontent.com/file/{HASHES[0]}"
        assert listing.canonical_url == "https://shopee.ph/product/123456789/9876543210"


def test_item_get_answer_pushed_on_its_own() -> None:
    answer = json.dumps({"data": {"itemid": 5, "shopid": 6, "name": "Mug", "images": HASHES[:1]}})
    listing = parse_page(answer, "https://shopee.co.th/product/6/5")
    assert (listing.product_id, listing.store_id, listing.title) == ("5", "6", "Mug")
    assert listing.images[0].url.startswith("https://down-th.img.susercontent.com/file/")


def test_captured_search_answer() -> None:
    answer = {"items": [
        {"item_basic": {"itemid": 1, "shopid": 2, "name": "A", "image": HASHES[0]}},
        {"item_basic": {"itemid": 3, "shopid": 4, "name": "B", "image": HASHES[1]}}]}
    listing = parse_page(PAGES[SHELL], "https://shopee.ph/search?keyword=case", captured=answer)
    well_formed(listing)
    assert listing.kind == "results"
    assert [(i.product_id, i.store_id) for i in listing.items] == [("1", "2"), ("3", "4")]
    assert listing.items[0].url == "https://shopee.ph/product/2/1"


@PROPERTY_SETTINGS
@given(mutation=mutation_strategy(('{"data":{"item":{"item_id":1,"images":["', '"shop_id":',
                                   '"product_images":{"images":[')),
       captured=st.none() | st.just(GET_PC) | st.dictionaries(
           st.sampled_from(["data", "item", "items", "images"]),
           st.none() | st.integers() | st.text(max_size=8) | st.lists(st.text(max_size=30)),
           max_size=3))
def test_mutated_pages_give_a_listing_or_the_documented_error(mutation: tuple,
                                                               captured: object) -> None:
    check_mutated(shopee.parse, PAGES[SHELL], URLS[SHELL], mutation)
    listing = shopee.parse(PAGES[SHELL], URLS[SHELL], captured)
    well_formed(listing)
