"""Shopify parser (scraper.shopify): a real storefront on its own domain, product JSON, cards."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from scraper import parse_page, shopify
from tests.marketplace_support import (
    PROPERTY_SETTINGS,
    URLS,
    check_mutated,
    mutation_strategy,
    pages_of,
    well_formed,
)

PAGES = pages_of("shopify")
PRODUCT = "shopify/scrapfly-ali_shopify-anyeluz_product_kit-potencializador.html"


def test_storefront_on_its_own_domain_is_recognised_by_content() -> None:
    listing = parse_page(PAGES[PRODUCT], URLS[PRODUCT])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("shopify", "item", "ok")
    assert listing.product_id == "8405584838932"  # ShopifyAnalytics meta / ProductGroup id
    assert listing.store_id == "anyeluz.com"
    assert listing.canonical_url == "https://anyeluz.com/products/kit-potencializador-anyeluz"
    assert listing.image_keys("gallery") == [
        "shopify:anyeluz.com/cdn/shop/files/KITS_BOLSO_HIDRATANTE-2.jpg",
        "shopify:anyeluz.com/cdn/shop/files/KIT-POTENCIALIZADOR2.jpg",
        "shopify:anyeluz.com/cdn/shop/files/Kit_potencializador.jpg",
    ]
    # og:image (1200x1200 crop of the first picture) is not a second image
    assert len(listing.images) == 3


def test_without_url_the_myshopify_domain_names_the_shop() -> None:
    listing = parse_page(PAGES[PRODUCT], "")
    assert (listing.marketplace, listing.store_id) == ("shopify", "anyeluzcolombia.myshopify.com")


def test_products_js_answer() -> None:
    product = {"id": 77, "title": "Tee", "handle": "tee", "vendor": "Shirts Co",
               "variants": [{"id": 1}],
               "images": ["//cdn.shopify.com/s/files/1/0001/files/tee_800x.jpg?v=3",
                          "//cdn.shopify.com/s/files/1/0001/files/tee-back.jpg?v=3"]}
    listing = parse_page(json.dumps(product), "https://shirts.example/products/tee.js")
    well_formed(listing)
    assert (listing.marketplace, listing.product_id, listing.source) == (
        "shopify", "77", "product_json")
    assert listing.images[0].url == "https://cdn.shopify.com/s/files/1/0001/files/tee.jpg"
    assert listing.store_name == "Shirts Co"


def test_collection_cards() -> None:
    card = ('<a href="/collections/all/products/{h}"><img src="//shop.example/cdn/shop/files/'
            '{h}_400x.jpg?v=1" alt="{h}"></a><a href="/collections/all/products/{h}">{h}</a>')
    page = ("<html><script>var Shopify = {}; Shopify.shop = 'x.myshopify.com';</script>"
            + "".join(card.format(h=h) for h in ("tee", "mug")) + "</html>")
    listing = parse_page(page, "https://shop.example/collections/all")
    well_formed(listing)
    assert listing.kind == "results"
    assert [(i.product_id, i.images[0].url) for i in listing.items] == [
        ("tee", "https://shop.example/cdn/shop/files/tee.jpg"),
        ("mug", "https://shop.example/cdn/shop/files/mug.jpg")]


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(PAGES)),
       mutation=mutation_strategy(('"@type":"ProductGroup"', '"hasVariant":[', "var meta = {",
                                   'Shopify.shop = "', "/cdn/shop/files/", "/products/")))
def test_mutated_pages_give_a_listing_or_the_documented_error(name: str, mutation: tuple) -> None:
    check_mutated(shopify.parse, PAGES[name], URLS[name], mutation)
