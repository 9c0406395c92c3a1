"""Etsy parser (scraper.etsy) on real pages: a listing, DataDome's bot check; results cards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scraper import etsy, parse_page
from tests.marketplace_support import (
    PROPERTY_SETTINGS,
    URLS,
    check_mutated,
    mutation_strategy,
    pages_of,
    well_formed,
)

PAGES = pages_of("etsy")
LISTING = "etsy/metascraper-shopping_etsy_product_calabaza-mat.html"
DATADOME = "etsy/NEGATIVE_octolist_etsy_datadome-block.html"


def test_listing_page() -> None:
    listing = parse_page(PAGES[LISTING], URLS[LISTING])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("etsy", "item", "ok")
    assert listing.product_id == "550571276"
    assert (listing.store_id, listing.store_url) == (
        "OliveCreativeCompany", "https://www.etsy.com/shop/OliveCreativeCompany")
    assert listing.image_keys("gallery") == ["etsy:il/2446305498"]
    assert listing.images[0].url == ("https://i.etsystatic.com/12418300/r/il/da5710/2446305498/"
                                     "il_fullxfull.2446305498_opq0.jpg")
    # og:image is the same picture at 570xN: one key, reported once
    assert len(listing.images) == 1 and listing.source == "carousel"
    assert listing.title.startswith("EL original he y hay calabaza")


def test_datadome_is_blocked() -> None:
    listing = parse_page(PAGES[DATADOME], URLS[DATADOME])
    well_formed(listing)
    assert (listing.marketplace, listing.status) == ("etsy", "blocked")


def test_results_cards() -> None:
    card = ('<div class="v2-listing-card" data-listing-id="{id}"><a href="/listing/{id}/x">'
            '<img src="https://i.etsystatic.com/1/r/il/ab12cd/{img}/il_340x270.{img}_abcd.jpg" '
            'alt="Mug {id}"></a><h3> Mug {id} </h3></div>')
    page = "<html><body>" + "".join(card.format(id=i, img=i * 7) for i in (111111, 222222))
    listing = parse_page(page + "</body></html>", "https://www.etsy.com/search?q=mug")
    well_formed(listing)
    assert [i.product_id for i in listing.items] == ["111111", "222222"]
    assert listing.items[0].images[0].key == "etsy:il/777777"
    assert listing.items[0].title == "Mug 111111"


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(PAGES)),
       mutation=mutation_strategy(("data-src-zoom-image=", "data-listing-id=", '"shop_name":"',
                                   "/listing/", "il_fullxfull.")))
def test_mutated_pages_give_a_listing_or_the_documented_error(name: str, mutation: tuple) -> None:
    check_mutated(etsy.parse, PAGES[name], URLS[name], mutation)
