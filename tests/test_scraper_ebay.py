"""eBay parser (scraper.ebay) on real pages: item pages of two generations, search results."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper import ebay, parse_page
from tests.marketplace_support import (
    PROPERTY_SETTINGS,
    URLS,
    check_mutated,
    mutation_strategy,
    pages_of,
    well_formed,
)

PAGES = pages_of("ebay")
# page: (item number, first gallery key, seller, source)
ITEMS = {
    "ebay/mkalsyd_ebay_item_rtx5090-fe_2025.html":
        ("226771798286", "ebay:g/qvsAAOSwwLFoMPT6", "salomon0651", "carousel"),
    "ebay/ogs-pages_ebay_item_wicker-sofa_2016.html":
        ("381228738769", "ebay:g/xt0AAOSwfC9XOf8d", "bestchoiceproducts", "icImg"),
}
# page: (cards at least, first item number, its image key)
RESULTS = {
    "ebay/parsy_ebay_de.html": (60, "144278067683", "ebay:g/MMcAAOSwYLBjfqw~"),
    "ebay/raiansar_ebay_search_blu-ray_2025.html": (60, "357137470627", "ebay:g/LrIAAOSwk3RoU5m1"),
}


def test_every_page_is_covered() -> None:
    assert set(PAGES) == set(ITEMS) | set(RESULTS)


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_item_pages(name: str) -> None:
    item_id, first_key, seller, source = ITEMS[name]
    listing = parse_page(PAGES[name], URLS[name])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("ebay", "item", "ok")
    assert listing.product_id == item_id and listing.store_id == seller
    assert listing.source == source
    assert listing.image_keys("gallery")[0] == first_key
    assert listing.images[0].url.endswith("/s-l1600.jpg")  # eBay's largest size
    assert listing.canonical_url == f"https://www.ebay.com/itm/{item_id}"
    assert listing.title and not listing.title.endswith("eBay")


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_search_pages(name: str) -> None:
    at_least, first_id, first_key = RESULTS[name]
    listing = parse_page(PAGES[name], URLS[name])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("ebay", "results", "ok")
    assert len(listing.items) >= at_least
    first = listing.items[0]
    assert (first.product_id, first.images[0].key) == (first_id, first_key)
    assert first.url.endswith(f"/itm/{first_id}") and first.title
    # the "Shop on eBay" placeholder card (item 123456) is not a listing
    assert all(item.product_id != "123456" and item.title != "Shop on eBay"
               for item in listing.items)


def test_jsonld_only_item() -> None:
    page = ('<html><head><script type="application/ld+json">{"@type":"Product","name":"Lamp",'
            '"image":["https://i.ebayimg.com/images/g/AbCdEfGhIjKl/s-l500.png"]}</script>'
            '</head><body></body></html>')
    listing = parse_page(page, "https://www.ebay.de/itm/lamp-shade/123456789012?hash=x")
    assert (listing.product_id, listing.source, listing.title) == ("123456789012", "jsonld", "Lamp")
    assert listing.images[0].url == "https://i.ebayimg.com/images/g/AbCdEfGhIjKl/s-l1600.jpg"
    assert listing.store_id == "ebay.de"  # no seller on the page: the site


def test_security_check_is_blocked() -> None:
    listing = ebay.parse("<html><title>Pardon Our Interruption...</title></html>",
                         "https://www.ebay.com/itm/226771798286")
    assert listing.status == "blocked" and listing.reason


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(PAGES)),
       mutation=mutation_strategy(("data-zoom-src=", 'id="icImg" src="', 'class="s-item ',
                                   "data-listingid=", "/itm/", "s-card__title")))
def test_mutated_pages_give_a_listing_or_the_documented_error(name: str, mutation: tuple) -> None:
    check_mutated(ebay.parse, PAGES[name], URLS[name], mutation)
