"""scraper.urls: image URL normalisation, identity keys, AliExpress hosts and ids."""

from __future__ import annotations

import pytest

from scraper.urls import (
    canonical_item_url,
    canonical_store_url,
    image_key,
    is_aliexpress_cdn_host,
    is_aliexpress_host,
    is_description_url,
    item_id_from_url,
    normalize_image_url,
    normalize_page_url,
    store_id_from_url,
)

SLUG = "Unisex-Glasses-Windproof-Outdoor-Sport-Eyewear-Motocross-Sunglasses.jpg"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # `//` becomes https, size suffix after the real extension is stripped
        (
            "//ae01.alicdn.com/kf/H41ed3b2161e74a6db634cac28805912bg/" + SLUG + "_50x50.jpg",
            "https://ae01.alicdn.com/kf/H41ed3b2161e74a6db634cac28805912bg/" + SLUG,
        ),
        (
            "https://ae01.alicdn.com/kf/S842af8715d744a1582d33171b8308b13a.jpg_640x640.jpg",
            "https://ae01.alicdn.com/kf/S842af8715d744a1582d33171b8308b13a.jpg",
        ),
        # format conversions appended by the CDN
        (
            "https://ae-pic-a1.aliexpress-media.com/kf/Sabc123.jpg_220x220q75.jpg_.avif",
            "https://ae-pic-a1.aliexpress-media.com/kf/Sabc123.jpg",
        ),
        (
            "https://ae01.alicdn.com/kf/Sabc123.jpg_Q90.jpg_.webp",
            "https://ae01.alicdn.com/kf/Sabc123.jpg",
        ),
        (
            "https://ae01.alicdn.com/kf/Sabc123.png_50x50.png",
            "https://ae01.alicdn.com/kf/Sabc123.png",
        ),
        (
            "https://ae01.alicdn.com/kf/Sabc123/slug.jpg_640x640.jpg_220x220.jpg",
            "https://ae01.alicdn.com/kf/Sabc123/slug.jpg",
        ),
        (
            "https://ae01.alicdn.com/kf/Sabc123.jpg_350x350xz.jpg",
            "https://ae01.alicdn.com/kf/Sabc123.jpg",
        ),
        # query dropped, http upgraded, host lower-cased
        (
            "http://AE01.alicdn.com/kf/Sabc123.jpg?width=800&height=800#x",
            "https://ae01.alicdn.com/kf/Sabc123.jpg",
        ),
        # ids with dots and underscores (real is23 gallery ids) are kept whole
        (
            "https://ae01.alicdn.com/kf/HTB1G.HzNxnaK1RjSZFtq6zC2VXaX/3-1-Corer.jpg_640x640.jpg",
            "https://ae01.alicdn.com/kf/HTB1G.HzNxnaK1RjSZFtq6zC2VXaX/3-1-Corer.jpg",
        ),
        (
            "https://ae01.alicdn.com/kf/HTB10B_XNzTpK1RjSZKPq6y3UpXa8/3-1-Corer.jpg_80x80.jpg",
            "https://ae01.alicdn.com/kf/HTB10B_XNzTpK1RjSZKPq6y3UpXa8/3-1-Corer.jpg",
        ),
        (
            "//ae01.alicdn.com/kf/HTB1tEHzb.gQMeJjy0Ff762ddXXaF.png",
            "https://ae01.alicdn.com/kf/HTB1tEHzb.gQMeJjy0Ff762ddXXaF.png",
        ),
        # other shops: query dropped when the path names an image file, kept otherwise
        (
            "//cdn.shop.example/files/tee.jpg?v=17&width=1200",
            "https://cdn.shop.example/files/tee.jpg",
        ),
        (
            "https://img.shop.example/image.php?id=42&size=full",
            "https://img.shop.example/image.php?id=42&size=full",
        ),
        ("http://shop.example:80/a.jpg", "http://shop.example/a.jpg"),
        ("http://shop.example:8080/a.jpg", "http://shop.example:8080/a.jpg"),
    ],
)
def test_normalize_image_url(raw: str, expected: str) -> None:
    assert normalize_image_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        # UI assets: the size is a path segment
        "https://ae01.alicdn.com/kf/S5efe9a37755e44cfa878e2e714900709h/48x48.png",
        "//ae01.alicdn.com/kf/S9b85a05a759e4e04bb44b5fa26fbd637g/10x10.png",
        "https://ae01.alicdn.com/kf/Hfff52cf71f784d99ad93c73a334e7e37a/65x70.gif",
        # TPS sprites
        "https://img.alicdn.com/imgextra/i2/O1CN010EsWV61KSEvuRTLLd_!!6000000001162-2-tps-24-36.png",
        # not images / not fetchable
        "//ae01.alicdn.com/images/eng/wholesale/icon/aliexpress.ico",
        "https://shop.example/logo.svg",
        "https://shop.example/app.js",
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "ftp://shop.example/a.jpg",
        "",
        "   ",
        "https://",
        "http://[::1/a.jpg",
        "https://shop.example/",
        None,
        42,
    ],
)
def test_normalize_image_url_refuses(raw: object) -> None:
    assert normalize_image_url(raw) is None


def test_relative_urls_resolve_against_the_page() -> None:
    page = "https://shop.example/products/tee/index.html?x=1"
    assert normalize_image_url("img/a.jpg", page) == "https://shop.example/products/tee/img/a.jpg"
    assert normalize_image_url("/media/b.png", page) == "https://shop.example/media/b.png"
    assert normalize_image_url("../c.webp", page) == "https://shop.example/products/c.webp"
    assert (
        normalize_image_url("d.jpg", "//cdn.shop.example/p/") == "https://cdn.shop.example/p/d.jpg"
    )
    # an absolute URL ignores the base
    assert normalize_image_url("https://other.example/e.jpg", page) == "https://other.example/e.jpg"
    # without a base, a relative URL is not fetchable
    assert normalize_image_url("img/a.jpg") is None


def test_image_key_is_one_per_image_across_forms_and_hosts() -> None:
    forms = [
        "https://ae01.alicdn.com/kf/S842af8715d744a1582d33171b8308b13a.jpg",
        "https://ae01.alicdn.com/kf/S842af8715d744a1582d33171b8308b13a/JAYO-5-Rollen.jpg_80x80.jpg",
        "//ae04.alicdn.com/kf/S842af8715d744a1582d33171b8308b13a.jpg_640x640.jpg",
        "https://ae-pic-a1.aliexpress-media.com/kf/S842af8715d744a1582d33171b8308b13a.jpg_Q90.jpg_.webp",
        "http://ae01.alicdn.com/kf/S842af8715d744a1582d33171b8308b13a.JPG?x=1",
    ]
    assert {image_key(f) for f in forms} == {"alicdn:kf/S842af8715d744a1582d33171b8308b13a"}
    assert image_key("https://ae01.alicdn.com/kf/HTB1G.HzNxnaK1RjSZFtq6zC2VXaX/3-1-Corer.jpg") == (
        "alicdn:kf/HTB1G.HzNxnaK1RjSZFtq6zC2VXaX"
    )
    # Taobao/Tmall pictures (imgextra, bao/uploaded) are keyed by file, whatever the shard
    # host and size suffix; other shops are keyed by host + path
    assert image_key("https://img.alicdn.com/imgextra/i1/O1CN01abc.jpg_430x430q90.jpg") == (
        "alicdn:img/O1CN01abc"
    )
    assert (
        image_key("https://CDN.shop.example/files/tee.jpg?v=3") == "cdn.shop.example/files/tee.jpg"
    )
    assert image_key("http://cdn.shop.example/files/tee.jpg") == "cdn.shop.example/files/tee.jpg"
    assert (
        image_key("https://img.shop.example/image.php?id=42") == "img.shop.example/image.php?id=42"
    )
    # different images stay different
    assert image_key("https://ae01.alicdn.com/kf/Sa.jpg") != image_key(
        "https://ae01.alicdn.com/kf/Sb.jpg"
    )


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.aliexpress.com", True),
        ("he.aliexpress.com", True),
        ("de.aliexpress.com", True),
        ("yufanmodel.aliexpress.com", True),
        ("aliexpress.us", True),
        ("www.aliexpress.us", True),
        ("aliexpress.ru", True),
        ("m.aliexpress.com", True),
        ("www.aliexpress.com:443", True),
        ("WWW.ALIEXPRESS.COM.", True),
        ("aliexpress.com.evil.example", False),
        ("notaliexpress.com", False),
        ("ae01.alicdn.com", False),
        ("", False),
    ],
)
def test_is_aliexpress_host(host: str, expected: bool) -> None:
    assert is_aliexpress_host(host) is expected


def test_cdn_hosts() -> None:
    assert is_aliexpress_cdn_host("ae01.alicdn.com")
    assert is_aliexpress_cdn_host("ae-pic-a1.aliexpress-media.com")
    assert not is_aliexpress_cdn_host("alicdn.com.evil.example")
    assert not is_aliexpress_cdn_host("www.aliexpress.com")


def test_canonical_urls() -> None:
    assert (
        canonical_item_url("1005008204179129")
        == "https://www.aliexpress.com/item/1005008204179129.html"
    )
    assert canonical_item_url(32995535623) == "https://www.aliexpress.com/item/32995535623.html"
    assert canonical_item_url("3256803382674519", host="www.aliexpress.us") == (
        "https://www.aliexpress.us/item/3256803382674519.html"
    )
    assert canonical_store_url("4682001") == "https://www.aliexpress.com/store/4682001"
    with pytest.raises(ValueError, match="all digits"):
        canonical_item_url("12ab")
    with pytest.raises(ValueError, match="all digits"):
        canonical_store_url("")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://de.aliexpress.com/item/1005008204179129.html", "1005008204179129"),
        ("https://www.aliexpress.us/item/3256803382674519.html?spm=x", "3256803382674519"),
        ("//www.aliexpress.com/item/-/3256803246120444.html", "3256803246120444"),
        (
            "https://www.aliexpress.com/item/Unisex-Glasses/3256803382674519.html",
            "3256803382674519",
        ),
        ("https://www.aliexpress.us/i/1005003697370812.html", "1005003697370812"),
        (
            "//www.aliexpress.com:443/item/1005008204179129.html/_____tmd_____/punish?x5secdata=1",
            "1005008204179129",
        ),
        (
            "https://aeproductsourcesite.alicdn.com/product/description/pc/v2/en_US/desc.htm"
            "?productId=1005003568989271&key=x",
            "1005003568989271",
        ),
        ("https://www.aliexpress.com/store/4682001", None),
        ("not a url", None),
        ("", None),
    ],
)
def test_item_id_from_url(url: str, expected: str | None) -> None:
    assert item_id_from_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://yufanmodel.aliexpress.com/store/4682001", "4682001"),
        ("//www.aliexpress.com/store/1101366561", "1101366561"),
        ("//www.aliexpress.com/store/all-wholesale-products/1101222680.html", "1101222680"),
        ("//he.aliexpress.com/store/feedback-score/3828002.html", "3828002"),
        ("//www.aliexpress.com/store/group/Watch-Display/1101222680_513396797.html", "1101222680"),
        (
            "//www.aliexpress.com/store/lego/pc/api/renderPageData.htm?storeId=4682001&pageId=0",
            "4682001",
        ),
        ("https://www.aliexpress.com/item/1005008204179129.html", None),
    ],
)
def test_store_id_from_url(url: str, expected: str | None) -> None:
    assert store_id_from_url(url) == expected


def test_description_and_page_urls() -> None:
    desc = (
        "https://aeproductsourcesite.alicdn.com/product/description/pc/v2/en_US/desc.htm"
        "?productId=1005003568989271&key=Sc47.zip&token=89a0"
    )
    assert is_description_url(desc)
    assert not is_description_url("https://ae01.alicdn.com/kf/S1.jpg")
    assert not is_description_url("https://www.aliexpress.com/item/1.html")
    # page URLs keep their query (the description token is needed) but lose the fragment
    assert normalize_page_url(desc + "#top") == desc
    assert normalize_page_url("//www.aliexpress.com/store/1101366561") == (
        "https://www.aliexpress.com/store/1101366561"
    )
