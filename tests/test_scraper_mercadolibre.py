"""Mercado Libre parser (scraper.mercadolibre) on a real product page; search cards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scraper import mercadolibre, parse_page
from tests.marketplace_support import (
    PROPERTY_SETTINGS,
    URLS,
    check_mutated,
    mutation_strategy,
    pages_of,
    well_formed,
)

PAGES = pages_of("mercadolibre")
PRODUCT = "mercadolibre/scrapfly-ali_mercadolibre-co_product.html"


def test_product_page() -> None:
    listing = parse_page(PAGES[PRODUCT], URLS[PRODUCT])
    well_formed(listing)
    assert (listing.marketplace, listing.kind, listing.status) == ("mercadolibre", "item", "ok")
    assert listing.product_id == "MCO42090990"
    assert listing.alt_product_ids == ["MCO1505218051"]  # the seller's own item id
    assert (listing.store_id, listing.store_name) == ("334337979", "Mundi Luz")
    gallery = listing.image_keys("gallery")
    assert len(gallery) == 7 and gallery[0] == "mlstatic:788028-MLA109737747149_032026"
    assert listing.images[0].url == (
        "https://http2.mlstatic.com/D_NQ_NP_788028-MLA109737747149_032026-F.jpg")
    assert listing.title.startswith("Lámparas Tipo Spot")


def test_other_country_host_and_item_url() -> None:
    page = ('<html><script type="application/ld+json">{"@type":"Product","name":"Bolsa",'
            '"image":"https://http2.mlstatic.com/D_Q_NP_2X_600000-MLB40000000001_012024-R.webp"}'
            "</script></html>")
    listing = parse_page(page, "https://produto.mercadolivre.com.br/MLB-1234567890-bolsa-_JM")
    assert (listing.marketplace, listing.product_id) == ("mercadolibre", "MLB1234567890")
    assert listing.images[0].key == "mlstatic:600000-MLB40000000001_012024"


def test_rendered_gallery_alone() -> None:
    fig = ('<figure class="ui-pdp-gallery__figure"><img data-zoom="https://http2.mlstatic.com/'
           'D_NQ_NP_{n}-MLM50000000001_022025-F.webp" src="x.gif"></figure>')
    page = ('<html><div class="ui-pdp-gallery">' + fig.format(n=100001) + fig.format(n=100002)
            + "</div></html>")
    listing = parse_page(page, "https://articulo.mercadolibre.com.mx/MLM-555555555-bolsa-_JM")
    assert (listing.product_id, listing.source) == ("MLM555555555", "dom")
    assert listing.image_keys() == ["mlstatic:100001-MLM50000000001_022025",
                                    "mlstatic:100002-MLM50000000001_022025"]


def test_search_cards() -> None:
    card = ('<li class="ui-search-layout__item"><a href="https://articulo.mercadolibre.com.ar/'
            'MLA-{n}-taza-_JM"><img data-src="https://http2.mlstatic.com/D_Q_NP_{n}-MLA{n}_'
            '012024-V.webp" src="data:image/gif;base64,R0lGOD"></a><h2 class="ui-search-item__'
            'title">Taza {n}</h2></li>')
    page = "<html><ol>" + "".join(card.format(n=n) for n in (700001, 700002)) + "</ol></html>"
    listing = parse_page(page, "https://listado.mercadolibre.com.ar/taza")
    well_formed(listing)
    assert [i.product_id for i in listing.items] == ["MLA700001", "MLA700002"]
    assert listing.items[0].images[0].key == "mlstatic:700001-MLA700001_012024"
    assert listing.items[0].title == "Taza 700001"


def test_login_wall_is_blocked() -> None:
    page = '<html><body><a href="https://www.mercadolibre.com/gz/account-verification">x</a>'
    listing = mercadolibre.parse(page, "https://www.mercadolibre.com.mx/p/MLM1")
    assert listing.status == "blocked"


@PROPERTY_SETTINGS
@given(name=st.sampled_from(sorted(PAGES)),
       mutation=mutation_strategy(('"initialState":{', '"pictures":[{"id":"1-MLA1_1"}]',
                                   "_n.ctx.r=", "__PRELOADED_STATE__ = ", '"seller_id":')))
def test_mutated_pages_give_a_listing_or_the_documented_error(name: str, mutation: tuple) -> None:
    check_mutated(mercadolibre.parse, PAGES[name], URLS[name], mutation)
