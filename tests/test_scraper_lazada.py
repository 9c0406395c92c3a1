"""Lazada parser (scraper.lazada) on real search pages (rendered and "Save As"); module data."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper import lazada, parse_page
from tests.marketplace_support import (
    PROPERTY_SETTINGS,
    URLS,
    check_mutated,
    mutation_strategy,
    pages_of,
    well_formed,
)

PAGES = pages_of("lazada")
RESULTS = {
    "lazada/price-tracker-lazada_lazada-ph_search-iphone.html":
        ("4489480090", "lazada:a237a85556817eb016cbfd15366cfb30"),
    "lazada/webscraping-lazada_lazada-ph_search-diapers_2024.html":
        ("2894375047", "lazada:61d20f363c63eb39fdf4abf49d2220bf"),
}


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_search_pages(name: str) -> None:
    first_id, first_key = RESULTS[name]
    listing = parse_page(PAGES[name], URLS[name])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("lazada", "results", "ok")
    assert len(listing.items) == 40
    first = listing.items[0]
    assert (first.product_id, first.images[0].key) == (first_id, first_key)
    assert first.images[0].url.startswith("https://img.lazcdn.com/g/p/")
    assert f"-i{first_id}" in first.url and first.title


def test_saved_page_images_are_mapped_back_to_the_cdn() -> None:
    name = "lazada/webscraping-lazada_lazada-ph_search-diapers_2024.html"
    listing = parse_page(PAGES[name], URLS[name])
    assert any("local files" in note for note in listing.notes)
    # the saved copy had fetched only the cards in view; the others hold a data: placeholder
    with_images = [i for i in listing.items if i.images]
    assert len(with_images) == 8
    assert all(i.images[0].url.startswith("https://img.lazcdn.com/g/p/") for i in with_images)


def test_product_page_module_data() -> None:
    fields = {"skuGalleries": {
        "9001": [{"src": "//img.lazcdn.com/g/p/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.jpg",
                  "type": "img"}],
        "0": [{"src": "//img.lazcdn.com/g/p/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.jpg_720x720q80.jpg",
               "type": "img"}, {"src": "//v.lazcdn.com/x.mp4", "type": "video"}]},
        "primaryKey": {"itemId": "123456789"}, "product": {"title": "Diaper"},
        "seller": {"sellerId": "555", "name": "Baby Shop"}}
    page = ("<html><script>var __moduleData__ = " + json.dumps({"data": {"root": {"fields":
            fields}}}) + ";</script></html>")
    listing = parse_page(page, "https://www.lazada.co.th/products/diaper-i123456789-s9001.html")
    well_formed(listing)
    assert (listing.marketplace, listing.product_id, listing.store_id) == (
        "lazada", "123456789", "555")
    assert [(r.role, r.key) for r in listing.images] == [
        ("gallery", "lazada:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("variant", "lazada:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")]


def test_search_data_before_the_cards_are_drawn() -> None:
    data = {"mods": {"listItems": [
        {"itemId": "111", "name": "Cup", "itemUrl": "//www.lazada.vn/products/cup-i111.html",
         "image": "https://vn-live.slatic.net/p/cccccccccccccccccccccccccccccccc.jpg",
         "sellerId": "9", "sellerName": "Cups"}]}}
    page = f"<html><script>window.pageData = {json.dumps(data)};</script></html>"
    listing = parse_page(page, "https://www.lazada.vn/catalog/?q=cup")
    well_formed(listing)
    assert listing.kind == "results" and listing.source == "page_data"
    item = listing.items[0]
    assert (item.product_id, item.store_id, item.images[0].key) == (
        "111", "9", "lazada:cccccccccccccccccccccccccccccccc")


def test_punish_page_is_blocked() -> None:
    listing = lazada.parse('<html><script src="/_____tmd_____/punish?x5secdata=1"></script>',
                           "https://www.lazada.sg/products/x-i1.html")
    assert listing.status == "blocked" and "Lazada" in listing.reason


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(PAGES)),
       mutation=mutation_strategy(('data-qa-locator="product-item"', 'img type="product" src="',
                                   "data-item-id=", "__moduleData__ = ", '"skuGalleries":{')))
def test_mutated_pages_give_a_listing_or_the_documented_error(name: str, mutation: tuple) -> None:
    check_mutated(lazada.parse, PAGES[name], URLS[name], mutation)
