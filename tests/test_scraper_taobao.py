"""Taobao/Tmall parser (scraper.taobao) on real item pages of two generations; TShop, search."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper import parse_page, taobao
from tests.marketplace_support import (
    PROPERTY_SETTINGS,
    URLS,
    check_mutated,
    mutation_strategy,
    pages_of,
    well_formed,
)

PAGES = pages_of("taobao")
# page: (item id, first gallery key, gallery size, shop id, source)
ITEMS = {
    "taobao/ideakeeper_taobao_item_desktop_2026.html": (
        "1021732889355", "alicdn:img/O1CN01NUMlQh1o6f9wPt2wm_!!607305176", 5, "115087308",
        "app_context"),
    "taobao/ogs-pages_taobao_item_keyboard-case_2020.html": (
        "562283240178", "alicdn:img/TB2bje8gS_I8KJjy0FoXXaFnVXa_!!134583372", 5, "64592671",
        "g_config"),
}


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_item_pages(name: str) -> None:
    item_id, first_key, size, shop_id, source = ITEMS[name]
    listing = parse_page(PAGES[name], URLS[name])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("taobao", "item", "ok")
    assert (listing.product_id, listing.store_id, listing.source) == (item_id, shop_id, source)
    gallery = listing.image_keys("gallery")
    assert gallery[0] == first_key and len(gallery) == size
    assert all("_50x50" not in r.url and not r.url.endswith(".webp") for r in listing.images)
    assert listing.title and "淘宝网" not in listing.title


def test_2026_page_carries_a_captcha_fragment_but_its_data_wins() -> None:
    name = "taobao/ideakeeper_taobao_item_desktop_2026.html"
    listing = parse_page(PAGES[name], URLS[name])
    assert listing.status == "ok" and listing.store_name == "MUSEMOON小众时装"


def test_tmall_tshop_setup() -> None:
    setup = {"itemDO": {"itemId": "600000000001", "title": "Tmall dress"}, "rstShopId": "777",
             "propertyPics": {
                 "default": ["//img.alicdn.com/imgextra/i1/1/O1CN01aaa_!!1.jpg"],
                 ";1627207:28320;": ["//img.alicdn.com/imgextra/i2/1/O1CN01bbb_!!1.jpg"]}}
    page = f"<html><script>TShop.Setup({json.dumps(setup)});</script></html>"
    listing = parse_page(page, "https://detail.tmall.com/item.htm?id=600000000001")
    well_formed(listing)
    assert (listing.marketplace, listing.product_id, listing.store_id, listing.source) == (
        "taobao", "600000000001", "777", "tshop")
    assert [r.role for r in listing.images] == ["gallery", "variant"]


def test_search_results() -> None:
    config = {"mods": {"itemlist": {"data": {"auctions": [
        {"nid": "610000000001", "raw_title": "Cup", "pic_url": "//g-search1.alicdn.com/img/bao/"
         "uploaded/i4/1/O1CN01ccc_!!1.jpg_180x180.jpg", "nick": "shop1", "user_id": "42",
         "detail_url": "//item.taobao.com/item.htm?id=610000000001"}]}}}}
    page = f"<html><script>g_page_config = {json.dumps(config)};</script></html>"
    listing = parse_page(page, "https://s.taobao.com/search?q=cup")
    well_formed(listing)
    assert listing.kind == "results"
    item = listing.items[0]
    assert (item.product_id, item.store_id, item.images[0].key) == (
        "610000000001", "42", "alicdn:img/O1CN01ccc_!!1")


def test_login_wall_is_blocked() -> None:
    page = '<html><script>location.href="https://login.taobao.com/member/login.jhtml"</script>'
    listing = taobao.parse(page, "https://item.taobao.com/item.htm?id=1")
    assert listing.status == "blocked" and "log in" in listing.reason


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(PAGES)),
       mutation=mutation_strategy(("auctionImages    : [", '"loaderData":{', '"images":[',
                                   "TShop.Setup(", "g_config = {", "itemId : '")))
def test_mutated_pages_give_a_listing_or_the_documented_error(name: str, mutation: tuple) -> None:
    check_mutated(taobao.parse, PAGES[name], URLS[name], mutation)
