"""Other shops: schema.org Product in JSON-LD or microdata, then OpenGraph (SYNTHETIC pages)."""

from __future__ import annotations

from pathlib import Path

from scraper import parse_page

SYNTHETIC = Path(__file__).parent / "data" / "synthetic"


def synthetic(name: str) -> str:
    text = (SYNTHETIC / name).read_text(encoding="utf-8")
    assert "SYNTHETIC" in text[:400]
    return text


def test_jsonld_graph_with_image_objects() -> None:
    url = "https://www.linen-garden.example/product/linen-summer-dress/?utm_source=x#reviews"
    listing = parse_page(synthetic("shop_jsonld_graph.html"), url)
    assert (listing.status, listing.kind, listing.source) == ("ok", "item", "jsonld")
    assert listing.marketplace == "web"
    assert listing.store_id == "linen-garden.example"
    assert listing.store_name == "Linen Garden"
    assert listing.store_url == "https://www.linen-garden.example/"
    assert listing.title == "Linen Summer Dress"
    assert listing.product_id == "LG-DRESS-042"
    assert listing.canonical_url == "https://www.linen-garden.example/product/linen-summer-dress/"
    base = "www.linen-garden.example/wp-content/uploads/2024/05/"
    # ImageObject.url, ImageObject.contentUrl (query dropped), a relative string resolved;
    # the Organization logo and the body banner are not product images
    assert listing.image_keys("gallery") == [
        base + "dress-front.jpg",
        base + "dress-back.jpg",
        base + "dress-detail.jpg",
    ]
    assert [r.url for r in listing.images_with_role("gallery")] == [
        "https://" + base + "dress-front.jpg",
        "https://" + base + "dress-back.jpg",
        "https://" + base + "dress-detail.jpg",
    ]
    # og:image repeats the first photo (not listed twice); og:image:secure_url adds one
    assert listing.image_keys("og") == [base + "dress-social-card.jpg"]
    assert len(listing.images) == 4


def test_jsonld_product_group_variants_and_string_images() -> None:
    listing = parse_page(
        synthetic("shop_jsonld_productgroup.html"), "https://organic-tees.example/products/tee"
    )
    assert (listing.status, listing.kind, listing.source) == ("ok", "item", "jsonld")
    assert listing.title == "Organic Cotton Tee"
    assert listing.product_id == "8001234567"
    cdn = "cdn.shopify.example/s/files/1/0001/products/"
    # a single protocol-relative string, then the second Product block (type list, wrapped
    # in an HTML comment); its data: URI is not an image ref
    assert listing.image_keys("gallery") == [cdn + "tee-white.jpg", cdn + "tee-size-chart.webp"]
    # hasVariant images; the white variant repeats the group image, the related product is out
    assert listing.image_keys("variant") == [cdn + "tee-black.jpg", cdn + "tee-green.png"]
    assert listing.image_keys("og") == []  # the http og:image with ?v=&width= is the same photo
    assert listing.images[0].url == "https://" + cdn + "tee-white.jpg"
    assert any("JSON-LD" in note for note in listing.notes)  # the broken block is reported


def test_microdata_product_with_base_href() -> None:
    listing = parse_page(
        synthetic("shop_microdata.html"), "https://handmade.example/products/mug-7"
    )
    assert (listing.status, listing.kind, listing.source) == ("ok", "item", "microdata")
    assert listing.title == "Hand-thrown Ceramic Mug"
    assert listing.product_id == "MUG-7"
    assert listing.marketplace == "web"
    assert listing.store_id == "handmade.example"
    shop = "static.handmade.example/shop/img/"
    # relative src resolved against <base href>; lazy data-src preferred; link href; the
    # reviewer's avatar belongs to the nested Review, not to the product
    assert listing.image_keys("gallery") == [
        shop + "mug-front.jpg",
        shop + "mug-side.jpg",
        shop + "mug-top.jpg",
    ]
    assert len(listing.images) == 3


def test_opengraph_only_page() -> None:
    listing = parse_page(synthetic("shop_og_only.html"), "https://tiny-shop.example/p/basket?ref=1")
    assert (listing.status, listing.kind, listing.source) == ("ok", "other", "opengraph")
    assert listing.store_name == "Tiny Shop"
    assert listing.title == "Woven basket"
    # relative og:image resolved against the page URL; the SVG logo is not an image ref
    assert [(r.url, r.role) for r in listing.images] == [
        ("https://tiny-shop.example/media/basket-1.jpg", "og"),
        ("https://tiny-shop.example/media/basket-2.jpeg", "og"),
    ]
    assert listing.canonical_url == "https://tiny-shop.example/p/basket?ref=1"


def test_page_without_product_data_is_unsupported_with_reason() -> None:
    listing = parse_page(synthetic("shop_no_product.html"), "https://blog.example/tips")
    assert listing.status == "unsupported"
    assert listing.reason is not None
    assert "no schema.org Product" in listing.reason and "og:image" in listing.reason
    assert listing.images == []


def test_inline_jsonld_shapes() -> None:
    """SYNTHETIC inline pages: image as a bare string, as an ImageObject, via mainEntity."""
    image_object = '{"@type":"ImageObject","contentUrl":"https://i.example/b.png"}'
    main_entity = '{"@type":"http://schema.org/Product","image":["c.jpg"]}'
    cases = {
        '{"@type":"Product","name":"A","image":"/a.jpg"}': ["shop.example/a.jpg"],
        '{"@type":"Product","image":' + image_object + "}": ["i.example/b.png"],
        '{"@type":"ItemPage","mainEntity":' + main_entity + "}": ["shop.example/p/c.jpg"],
        '[{"@type":"Thing"},{"@type":"Product","image":[["//i.example/d.jpg"]]}]': [
            "i.example/d.jpg"
        ],
    }
    for block, keys in cases.items():
        page = f'<html><head><script type="application/ld+json">{block}</script></head></html>'
        listing = parse_page(page, "https://shop.example/p/item")
        assert listing.status == "ok", block
        assert listing.image_keys("gallery") == keys, block


def test_product_without_images_is_ok_with_a_note() -> None:
    page = '<script type="application/ld+json">{"@type":"Product","name":"No pictures"}</script>'
    listing = parse_page(page, "https://shop.example/p/1")
    assert (listing.status, listing.kind, listing.images) == ("ok", "item", [])
    assert listing.notes == ["the page names a product but no image of it"]


def test_challenge_page_of_another_shop_is_blocked() -> None:
    page = (
        "<html><head><title>Just a moment...</title></head><body>"
        "<script>window._cf_chl_opt={cvId:'3'};</script></body></html>"
    )
    listing = parse_page(page, "https://shop.example/p/1")
    assert listing.status == "blocked"
    assert listing.reason is not None and "anti-bot" in listing.reason


def test_non_html_text_is_unsupported() -> None:
    listing = parse_page("just some words, no markup", "https://shop.example/p/1")
    assert listing.status == "unsupported"
    assert listing.reason == "this is not an HTML page (no tags found)"
