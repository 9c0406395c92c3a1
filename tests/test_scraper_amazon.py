"""Amazon parser (scraper.amazon) on real pages: products, search and best-seller lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper import amazon, parse_page
from tests.marketplace_support import (
    PROPERTY_SETTINGS,
    URLS,
    check_mutated,
    mutation_strategy,
    pages_of,
    well_formed,
)

PAGES = pages_of("amazon")
# page: (product id, first gallery key, at least this many gallery images, store id)
PRODUCTS = {
    "amazon/metascraper_amazon-co-uk_product-url.html":
        ("1849757097", "amazon:I/91EpHNSPFnL", 1, "A2NQK4TIWYJD6B"),
    "amazon/metascraper_amazon-com_product-url.html":
        ("B0011UCPM4", "amazon:I/91c7gvGFyvL", 1, "amazon.com"),
    "amazon/scrapfly-ali_amazon-com_product_skullcandy.html":
        ("B0CD1DZ6RD", "amazon:I/71z1TQY-1uL", 11, "ATVPDKIKX0DER"),
}
# page: (cards at least, first card ASIN, its image key)
RESULTS = {
    "amazon/parsy_amazon_bestseller_de.html": (30, "B09B8X9RGM", "amazon:I/71C3lbbeLsL"),
    "amazon/parsy_amazon_com.html": (30, "B08N5NQ869", "amazon:I/71vtXgJBagL"),
    "amazon/parsy_amazon_de_search.html": (55, "B013JF5F0C", "amazon:I/81j2n1ziQcL"),
}


def test_every_page_is_covered() -> None:
    assert set(PAGES) == set(PRODUCTS) | set(RESULTS)


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_product_pages(name: str) -> None:
    product_id, first_key, at_least, store_id = PRODUCTS[name]
    listing = parse_page(PAGES[name], URLS[name])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("amazon", "item", "ok")
    assert listing.product_id == product_id
    assert listing.store_id == store_id
    gallery = listing.image_keys("gallery")
    assert gallery[0] == first_key and len(gallery) >= at_least
    # the gallery is served full size: no ._AC_SL1500_-style size codes left
    assert all(ref.url.startswith("https://m.media-amazon.com/images/I/") and
               ref.url.count(".") == 3 for ref in listing.images)
    assert listing.title and "Amazon" not in listing.title
    assert listing.canonical_url.endswith(f"/dp/{product_id}")


def test_skullcandy_gallery_order_and_seller() -> None:
    name = "amazon/scrapfly-ali_amazon-com_product_skullcandy.html"
    listing = parse_page(PAGES[name], URLS[name])
    assert listing.source == "colorImages"
    assert listing.title.startswith("Skullcandy Crusher ANC 2")
    assert listing.store_url == "https://www.amazon.com/sp?seller=ATVPDKIKX0DER"


def test_seller_name_from_sold_by_link() -> None:
    name = "amazon/metascraper_amazon-co-uk_product-url.html"
    listing = parse_page(PAGES[name], URLS[name])
    assert listing.store_name == "Goldstone-Books"


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_results_pages(name: str) -> None:
    at_least, first_asin, first_key = RESULTS[name]
    listing = parse_page(PAGES[name], URLS[name])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("amazon", "results", "ok")
    assert len(listing.items) >= at_least
    first = listing.items[0]
    assert first.product_id == first_asin
    assert first.images[0].key == first_key
    assert f"/dp/{first_asin}" in first.url and first.title
    ids = [item.product_id for item in listing.items]
    assert len(ids) == len(set(ids)) and all(len(i) == 10 for i in ids)


def test_landing_image_alone_is_enough() -> None:
    """A page generation without colorImages: #landingImage's dynamic-image map, largest first."""
    page = (
        '<html><head><title>Amazon.com: Mug</title></head><body>'
        '<input type="hidden" id="ASIN" name="ASIN" value="B000000001">'
        '<img id="landingImage" data-a-dynamic-image="{&quot;https://m.media-amazon.com/images/'
        'I/11aaaaaaaaL._AC_SX300_.jpg&quot;:[300,300],&quot;https://m.media-amazon.com/images/'
        'I/11aaaaaaaaL._AC_SX679_.jpg&quot;:[679,679]}" src="x.gif"></body></html>'
    )
    listing = parse_page(page, "https://www.amazon.co.jp/gp/product/B000000001")
    assert listing.marketplace == "amazon" and listing.product_id == "B000000001"
    assert listing.source == "landingImage"
    assert [r.url for r in listing.images] == ["https://m.media-amazon.com/images/I/11aaaaaaaaL.jpg"]


def test_robot_check_is_blocked() -> None:
    page = ('<html><body><form action="/errors/validateCaptcha"><p>Type the characters you see '
            'in this image:</p></form></body></html>')
    listing = parse_page(page, "https://www.amazon.de/dp/B013JF5F0C")
    assert (listing.status, listing.marketplace) == ("blocked", "amazon")
    assert "captcha" in listing.reason


def test_page_without_gallery_or_cards_is_unsupported() -> None:
    listing = amazon.parse("<html><body>Sorry! Something went wrong</body></html>",
                           "https://www.amazon.com/")
    assert listing.status == "unsupported" and "colorImages" in listing.reason


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(PAGES)),
       mutation=mutation_strategy(("'colorImages': { 'initial': [", '{"hiRes":',
                                   'id="landingImage" data-a-dynamic-image="{', "data-asin=",
                                   'data-component-type="s-search-result"', "/dp/")))
def test_mutated_pages_give_a_listing_or_the_documented_error(name: str, mutation: tuple) -> None:
    check_mutated(amazon.parse, PAGES[name], URLS[name], mutation)
