"""Image identity per marketplace CDN (scraper.cdn through scraper.urls)."""

from __future__ import annotations

import pytest

from scraper.urls import image_key, normalize_image_url

# key: (full-size URL, [variants of the same picture as pages show them])
SAME_PICTURE = {
    "amazon:I/71z1TQY-1uL": ("https://m.media-amazon.com/images/I/71z1TQY-1uL.jpg", [
        "https://m.media-amazon.com/images/I/71z1TQY-1uL._AC_SL1500_.jpg",
        "https://m.media-amazon.com/images/I/71z1TQY-1uL._AC_SX679_.jpg",
        "https://images-na.ssl-images-amazon.com/images/I/71z1TQY-1uL._AC_UL300_SR300,200_.jpg",
        "https://m.media-amazon.com/images/W/MEDIAX_792452-T2/images/I/71z1TQY-1uL._SY425_.jpg",
    ]),
    "ebay:g/qvsAAOSwwLFoMPT6": ("https://i.ebayimg.com/images/g/qvsAAOSwwLFoMPT6/s-l1600.jpg", [
        "https://i.ebayimg.com/images/g/qvsAAOSwwLFoMPT6/s-l500.jpg",
        "https://i.ebayimg.com/thumbs/images/g/qvsAAOSwwLFoMPT6/s-l225.webp",
        "http://i.ebayimg.com/images/g/qvsAAOSwwLFoMPT6/s-l300.jpg",
        "https://i.ebayimg.com/00/s/MTYwMFgxNjAw/z/qvsAAOSwwLFoMPT6/$_57.JPG",
    ]),
    "etsy:il/2446305498": (
        "https://i.etsystatic.com/12418300/r/il/da5710/2446305498/il_fullxfull.2446305498_opq0.jpg",
        ["https://i.etsystatic.com/12418300/r/il/da5710/2446305498/il_570xN.2446305498_opq0.jpg",
         "https://i.etsystatic.com/12418300/c/2250/1786/0/0/il/da5710/2446305498/"
         "il_340x270.2446305498_opq0.jpg",
         "https://i.etsystatic.com/12418300/r/il/da5710/2446305498/il_794xN.2446305498_opq0.jpg"]),
    "shopify:anyeluz.com/cdn/shop/files/KIT.jpg": (
        "https://www.anyeluz.com/cdn/shop/files/KIT.jpg", [
        "https://www.anyeluz.com/cdn/shop/files/KIT_1000x.jpg?v=1775451623",
        "https://www.anyeluz.com/cdn/shop/files/KIT.jpg?crop=center&height=1200&width=1200",
        "https://www.anyeluz.com/cdn/shop/files/KIT_800x800@2x.jpg",
    ]),
    "walmart:9a363de8-d022-4383-bb05-6a3e576ea2db_1.85be9000c2bb3e4226bb6dedce4dfc2d": (
        "https://i5.walmartimages.com/asr/9a363de8-d022-4383-bb05-6a3e576ea2db_1."
        "85be9000c2bb3e4226bb6dedce4dfc2d.jpeg",
        ["https://i5.walmartimages.com/asr/9a363de8-d022-4383-bb05-6a3e576ea2db_1."
         "85be9000c2bb3e4226bb6dedce4dfc2d.jpeg?odnHeight=450&odnWidth=450&odnBg=FFFFFF",
         "https://i5.walmartimages.com/asr/9a363de8-d022-4383-bb05-6a3e576ea2db_1."
         "85be9000c2bb3e4226bb6dedce4dfc2d.jpeg?odnHeight=180&odnWidth=180"]),
    "mlstatic:788028-MLA109737747149_032026": (
        "https://http2.mlstatic.com/D_NQ_NP_788028-MLA109737747149_032026-F.webp", [
            "https://http2.mlstatic.com/D_NQ_NP_2X_788028-MLA109737747149_032026-F.webp",
            "https://http2.mlstatic.com/D_Q_NP_788028-MLA109737747149_032026-R.webp",
            "https://http2.mlstatic.com/D_NQ_NP_788028-MLA109737747149_032026-O-lamparas.webp",
            "https://http2.mlstatic.com/D_NQ_NP_788028-MLA109737747149_032026-OO.webp",
        ]),
    "lazada:a237a85556817eb016cbfd15366cfb30": (
        "https://img.lazcdn.com/g/p/a237a85556817eb016cbfd15366cfb30.jpg", [
            "https://img.lazcdn.com/g/p/a237a85556817eb016cbfd15366cfb30.jpg_400x400q75.jpg",
            "https://img.lazcdn.com/g/p/a237a85556817eb016cbfd15366cfb30.jpg_720x720q80.jpg_.webp",
            "https://ph-live.slatic.net/p/a237a85556817eb016cbfd15366cfb30.jpg",
        ]),
    "alicdn:img/O1CN01NUMlQh1o6f9wPt2wm_!!607305176": (
        "https://img.alicdn.com/imgextra/i3/607305176/O1CN01NUMlQh1o6f9wPt2wm_!!607305176.jpg", [
            "//img.alicdn.com/imgextra/i3/607305176/O1CN01NUMlQh1o6f9wPt2wm_!!607305176.jpg"
            "_q50.jpg_.webp",
            "https://gw.alicdn.com/bao/uploaded/i3/607305176/O1CN01NUMlQh1o6f9wPt2wm_!!607305176.jpg"
            "_400x400q90.jpg",
            "https://gd1.alicdn.com/imgextra/i3/607305176/O1CN01NUMlQh1o6f9wPt2wm_!!607305176.jpg"
            "_50x50.jpg",
        ]),
    "kwcdn:product/fancy/abc.jpg": ("https://img.kwcdn.com/product/fancy/abc.jpg", [
        "https://img.kwcdn.com/product/fancy/abc.jpg?imageView2/2/w/800/q/70/format/webp",
        "https://img.kwcdn.com/product/fancy/abc.jpg?imageView2/2/w/300",
    ]),
    "shopee:sg-11134201-22120-abcdefghijklmnopqr": (
        "https://down-sg.img.susercontent.com/file/sg-11134201-22120-abcdefghijklmnopqr", [
            "https://down-sg.img.susercontent.com/file/sg-11134201-22120-abcdefghijklmnopqr_tn",
            "https://down-sg.img.susercontent.com/file/sg-11134201-22120-abcdefghijklmnopqr"
            "@resize_w450_nl.webp",
        ]),
}


@pytest.mark.parametrize("key", sorted(SAME_PICTURE))
def test_variants_collapse_to_one_key_and_the_full_size_url(key: str) -> None:
    full, variants = SAME_PICTURE[key]
    assert image_key(full) == key
    for url in variants:
        assert image_key(url) == key, url
        assert image_key(normalize_image_url(url)) == key
    # the first variant's normalised URL is the full-size one (same host family)
    assert normalize_image_url(variants[0]) == full


def test_different_pictures_keep_different_keys() -> None:
    keys = {image_key(u) for u in (
        "https://m.media-amazon.com/images/I/71z1TQY-1uL._AC_SL1500_.jpg",
        "https://m.media-amazon.com/images/I/41SLI5LY9aL._AC_.jpg",
        "https://i.ebayimg.com/images/g/aaaaAAAAaaaa/s-l500.jpg",
        "https://i.ebayimg.com/images/g/bbbbBBBBbbbb/s-l500.jpg",
        "https://cdn.shopify.com/s/files/1/0001/files/a.jpg",
        "https://cdn.shopify.com/s/files/1/0002/files/a.jpg",
    )}
    assert len(keys) == 6


def test_site_graphics_are_not_images() -> None:
    assert normalize_image_url("https://m.media-amazon.com/images/G/01/x/sprite._CB1_.png") is None
    ui = "https://img.alicdn.com/imgextra/i2/O1CN01x_!!6-2-tps-30-30.png"
    assert normalize_image_url(ui) is None


def test_ae_kf_keys_are_unchanged() -> None:
    assert image_key("https://ae01.alicdn.com/kf/Sabc123.jpg_640x640.jpg") == "alicdn:kf/Sabc123"
