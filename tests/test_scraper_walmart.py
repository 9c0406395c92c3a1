"""Walmart parser (scraper.walmart) on real pages: the Next.js page and the older Redux page."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper import parse_page, walmart
from tests.marketplace_support import (
    PROPERTY_SETTINGS,
    URLS,
    check_mutated,
    mutation_strategy,
    pages_of,
    well_formed,
)

PAGES = pages_of("walmart")
# page: (item id, first gallery key, gallery size, store id, store name, source)
ITEMS = {
    "walmart/bot-y_walmart_product_goplusplus_2026.html": (
        "1203950273",
        "walmart:fb7a4275-e4fb-403d-abf0-831a174a2307.8f00d67a54c612ac47229f6506037620",
        6, "101427625", "Black Bear Gaming", "next_data"),
    "walmart/fathom-products_walmart_product_booster-seat_2017.html": (
        "42338107",
        "walmart:9a363de8-d022-4383-bb05-6a3e576ea2db_1.85be9000c2bb3e4226bb6dedce4dfc2d",
        1, "F55CDC31AB754BB68FE0B39041159D63", "Walmart.com", "redux"),
}


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_item_pages(name: str) -> None:
    item_id, first_key, size, store_id, store_name, source = ITEMS[name]
    listing = parse_page(PAGES[name], URLS[name])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("walmart", "item", "ok")
    assert (listing.product_id, listing.store_id, listing.store_name) == (
        item_id, store_id, store_name)
    assert listing.source == source
    gallery = listing.image_keys("gallery")
    assert gallery[0] == first_key and len(gallery) == size
    assert all("?" not in ref.url for ref in listing.images)  # odnHeight/odnWidth dropped
    assert listing.canonical_url == f"https://www.walmart.com/ip/{item_id}"


def test_og_image_of_the_redux_page_is_the_same_picture() -> None:
    name = "walmart/fathom-products_walmart_product_booster-seat_2017.html"
    listing = parse_page(PAGES[name], URLS[name])
    assert [ref.role for ref in listing.images] == ["gallery"]


def test_search_results_from_next_data() -> None:
    data = {"props": {"pageProps": {"initialData": {"searchResult": {"itemStacks": [{"items": [
        {"usItemId": "5001", "name": "Red mug", "canonicalUrl": "/ip/red-mug/5001",
         "imageInfo": {"thumbnailUrl": "https://i5.walmartimages.com/asr/11111111-2222-3333-4444-"
                       "555555555555.0123456789abcdef0123456789abcdef.jpeg?odnHeight=180"},
         "sellerId": "ABC", "sellerName": "Mugs Inc"},
        {"__typename": "AdPlaceholder"},
    ]}]}}}}}
    page = ('<html><script id="__NEXT_DATA__" type="application/json">' + json.dumps(data)
            + "</script></html>")
    listing = parse_page(page, "https://www.walmart.com/search?q=mug")
    well_formed(listing)
    assert listing.kind == "results" and len(listing.items) == 1
    item = listing.items[0]
    assert (item.product_id, item.store_id, item.url) == (
        "5001", "ABC", "https://www.walmart.com/ip/red-mug/5001")
    assert item.images[0].key.startswith("walmart:11111111-2222")


def test_robot_check_is_blocked() -> None:
    listing = walmart.parse("<html><h1>Robot or human?</h1></html>", "https://www.walmart.com/ip/1")
    assert listing.status == "blocked"


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(PAGES)),
       mutation=mutation_strategy(('<script id="__NEXT_DATA__" type="application/json">',
                                   '"allImages":[', "window.__WML_REDUX_INITIAL_STATE__ = ",
                                   '"assetSizeUrls":{', '"usItemId":"')))
def test_mutated_pages_give_a_listing_or_the_documented_error(name: str, mutation: tuple) -> None:
    check_mutated(walmart.parse, PAGES[name], URLS[name], mutation)
