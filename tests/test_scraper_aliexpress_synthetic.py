"""AliExpress cases the real fixtures lack: SYNTHETIC pages (tests/data/synthetic, each marked
so in its header) and real pages edited in ways the site could ship them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_scraper_aliexpress import (
    CSR_GALLERY,
    IS23_GALLERY,
    IS23_PAGE,
    IS23_VARIANTS,
    MODULE_GALLERY,
    MODULE_PAGE,
    MODULE_VARIANTS,
    kf,
    read,
)

from scraper import ParseError, parse_description, parse_page
from scraper.jsdata import assigned_object, find_key_object, find_object_end, parse_json_at
from scraper.model import EmbeddedDataError

SYNTHETIC = Path(__file__).parent / "data" / "synthetic"
DESC_URL = (
    "https://aeproductsourcesite.alicdn.com/product/description/pc/v2/en_US/desc.htm"
    "?productId=1005001234567890&key=S0.zip&token=abc"
)


def synthetic(name: str) -> str:
    text = (SYNTHETIC / name).read_text(encoding="utf-8")
    assert "SYNTHETIC" in text[:400]  # every synthetic file says so up front
    return text


# --- runParams found by brace matching, whatever the whitespace -------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("window.runParams = {\n                            data: {", "window.runParams={data:{"),
        (
            "window.runParams = {\n                            data: {",
            'window.runParams =\n\n{\n "data" :  {',
        ),
        (
            "window.runParams = {\n                            data: {",
            "window.runParams = { foo: 'a {brace}', data: {",
        ),
    ],
)
def test_run_params_whitespace_and_quoting_do_not_matter(
    fixtures_dir: Path, old: str, new: str
) -> None:
    text = read(fixtures_dir, MODULE_PAGE)
    assert old in text
    listing = parse_page(
        text.replace(old, new, 1), "https://www.aliexpress.us/item/3256803382674519.html"
    )
    assert listing.source == "module"
    assert listing.image_keys("gallery") == MODULE_GALLERY
    assert listing.image_keys("variant") == MODULE_VARIANTS


def test_cut_off_run_params_fall_back_to_og_image_with_a_note(fixtures_dir: Path) -> None:
    text = read(fixtures_dir, MODULE_PAGE)
    start = text.index("window.runParams")
    cut = text[: start + 20_000]  # mid-object: the closing brace never comes
    listing = parse_page(cut, "https://www.aliexpress.us/item/3256803382674519.html")
    assert (listing.status, listing.source) == ("ok", "og")
    assert listing.image_keys() == MODULE_GALLERY[:1]  # og:image is the first gallery photo
    assert listing.image_keys("og") == MODULE_GALLERY[:1]
    assert any("cut off" in note for note in listing.notes)
    # the id still comes from the URL
    assert listing.product_id == "3256803382674519"


def test_page_with_no_data_and_no_og_image_is_unsupported() -> None:
    page = (
        "<html><head><title>AliExpress</title></head>"
        "<body><script>window.runParams = {};</script></body></html>"
    )
    listing = parse_page(page, "https://www.aliexpress.com/item/1005001.html")
    assert listing.status == "unsupported"
    assert listing.reason is not None and "no product data" in listing.reason


def test_rendered_description_inside_an_item_page_counts(fixtures_dir: Path) -> None:
    """The extension serialises the live DOM; when the description has rendered into the item
    page, its images count as description images (SYNTHETIC block added to a real page)."""
    block = (
        '<div id="product-description"><div class="detailmodule_html">'
        '<img src="https://ae01.alicdn.com/kf/Sdd00000000000000000000000000000aA.jpg_640x640.jpg">'
        '<img data-src="//ae01.alicdn.com/kf/Sdd00000000000000000000000000000bB.png" '
        'src="//ae01.alicdn.com/kf/S9b85a05a759e4e04bb44b5fa26fbd637g/10x10.png">'
        # the first gallery photo again: reported once, as gallery
        '<img src="https://ae01.alicdn.com/kf/Ha8c0247ebb684b259b3a7d3120b5bd3cC/3-1-Corer.jpg_Q90.jpg_.webp">'
        "</div></div>"
    )
    text = read(fixtures_dir, IS23_PAGE).replace("</body>", block + "</body>", 1)
    listing = parse_page(text, "https://he.aliexpress.com/item/32995535623.html")
    assert listing.image_keys("gallery") == IS23_GALLERY
    assert listing.image_keys("variant") == IS23_VARIANTS
    assert listing.image_keys("description") == kf(
        "Sdd00000000000000000000000000000aA", "Sdd00000000000000000000000000000bB"
    )


def test_mtop_alone_in_a_client_rendered_shell() -> None:
    mtop = json.loads(synthetic("mtop_pdp_pc_query_1005008204179129.json"))
    shell = "<html><head></head><body><script>window.runParams = {};</script></body></html>"
    for captured in (mtop, mtop["data"], mtop["data"]["result"]):  # any wrapping level
        listing = parse_page(
            shell, "https://www.aliexpress.com/item/1005008204179129.html", captured
        )
        assert (listing.status, listing.source) == ("ok", "mtop")
        assert listing.image_keys("gallery") == CSR_GALLERY
        assert listing.product_id == "1005008204179129"
        assert listing.store_url == "https://www.aliexpress.com/store/1100000001"
    # the mtop response saved on its own as a file
    saved = parse_page(json.dumps(mtop), "")
    assert (saved.status, saved.source, saved.image_keys("gallery")) == ("ok", "mtop", CSR_GALLERY)


def test_mtop_of_another_item_after_single_page_navigation_is_not_mixed(
    fixtures_dir: Path,
) -> None:
    """The page's runParams still describe the first item (is23, with variant images); the
    captured mtop response describes the item navigated to: nothing of the first may leak."""
    mtop = json.loads(synthetic("mtop_pdp_pc_query_1005008204179129.json"))
    listing = parse_page(read(fixtures_dir, IS23_PAGE),
                         "https://www.aliexpress.com/item/1005008204179129.html", mtop)
    assert (listing.source, listing.product_id) == ("mtop", "1005008204179129")
    keys = set(listing.image_keys())
    assert keys.isdisjoint(IS23_GALLERY) and keys.isdisjoint(IS23_VARIANTS)
    assert listing.image_keys("gallery") == CSR_GALLERY


def test_unusable_mtop_is_ignored_with_a_note(fixtures_dir: Path) -> None:
    for bad in ({"ret": ["FAIL_SYS_TOKEN_EXOIRED"]}, {"data": []}, {"data": {"result": "x"}}):
        listing = parse_page(
            read(fixtures_dir, IS23_PAGE), "https://he.aliexpress.com/item/32995535623.html", bad
        )
        assert (listing.source, listing.image_keys("gallery")) == ("is23", IS23_GALLERY)
        assert any("mtop" in note for note in listing.notes)


# --- the description page ---------------------------------------------------------------------

DESC_KEYS = [
    "alicdn:kf/Sd100000000000000000000000000000aA",
    "alicdn:kf/Sd200000000000000000000000000000bB",
    "alicdn:product/description/pc/v2/en_US/img/size-chart.jpg",
    "alicdn:kf/HTB1sYnthEHzb8gQMeJjy0Ff762ddXXaF",
]


def test_description_page_lazy_and_relative_images() -> None:
    refs = parse_description(synthetic("ae_description_lazy.html"), DESC_URL)
    assert [r.key for r in refs] == DESC_KEYS
    assert {r.role for r in refs} == {"description"}
    assert [r.url for r in refs] == [
        # data-src, not the 10x10 placeholder in src
        "https://ae01.alicdn.com/kf/Sd100000000000000000000000000000aA.jpg",
        "https://ae-pic-a1.aliexpress-media.com/kf/Sd200000000000000000000000000000bB/Linen-Dress.jpg",
        "https://aeproductsourcesite.alicdn.com/product/description/pc/v2/en_US/img/size-chart.jpg",
        "https://ae01.alicdn.com/kf/HTB1sYnthEHzb8gQMeJjy0Ff762ddXXaF.jpg",
    ]


def test_description_page_through_parse_page() -> None:
    listing = parse_page(synthetic("ae_description_lazy.html"), DESC_URL)
    assert (listing.kind, listing.status, listing.marketplace) == (
        "description",
        "ok",
        "aliexpress",
    )
    assert listing.product_id == "1005001234567890"
    assert listing.image_keys("description") == DESC_KEYS


def test_description_without_containers_takes_every_image() -> None:
    html = '<p><img src="//ae01.alicdn.com/kf/Sx1.jpg_640x640.jpg"><img src="pic/2.png"></p>'
    refs = parse_description(html, DESC_URL)
    assert [r.key for r in refs] == [
        "alicdn:kf/Sx1",
        "alicdn:product/description/pc/v2/en_US/pic/2.png",
    ]
    assert parse_description("", DESC_URL) == []  # an empty description is a valid one
    assert parse_description("<p>text only</p>", DESC_URL) == []
    with pytest.raises(ParseError):
        parse_description(b"<img src=x>", DESC_URL)  # type: ignore[arg-type]


# --- a store page whose product grid has rendered ---------------------------------------------


def test_store_page_with_rendered_grid() -> None:
    listing = parse_page(
        synthetic("ae_store_rendered_grid.html"), "https://lineng.aliexpress.com/store/1102011"
    )
    assert (listing.kind, listing.status) == ("store", "ok")
    assert (listing.store_id, listing.store_name) == ("1102011", "Linen Garden Store")
    assert listing.product_links == [
        "https://www.aliexpress.com/item/1005001111111111.html",
        "https://www.aliexpress.com/item/1005002222222222.html",
        "https://www.aliexpress.com/item/1005003333333333.html",
    ]
    assert listing.image_keys("store") == kf(
        "Sa100000000000000000000000000000aA",
        "Sa200000000000000000000000000000bB",
        "Sa300000000000000000000000000000cC",
    )
    assert len(listing.images) == 3


# --- brace matching itself ---------------------------------------------------------------------


def test_brace_matching_skips_braces_and_escaped_quotes_in_strings() -> None:
    text = 'x = {"a": "}{\\"}", "b": [1, {"c": "]"}], \'d\': \'it\\\'s }\'} tail }'
    start = text.index("{")
    end = find_object_end(text, start)
    assert end is not None and text[end:] == " tail }"
    assert find_object_end('{"a": "never closed}', 0) is None
    assert find_object_end('{"a": {"b": 1}', 0) is None
    assert find_object_end("no brace", 0) is None


def test_key_lookup_is_top_level_only() -> None:
    text = "{inner: {data: {x: 1}}, 'data': {\"ok\": true}}"
    at = find_key_object(text, 0, "data")
    assert at is not None and parse_json_at(text, at, "t") == {"ok": True}
    assert find_key_object('{note: "data: {x}", other: 1}', 0, "data") is None
    assert find_key_object("{}; later = {data: {}}", 0, "data") is None


def test_assigned_object_errors_are_typed() -> None:
    with pytest.raises(EmbeddedDataError, match="cut off"):
        assigned_object('window.runParams = {data: {"a": [1, 2', "runParams", "runParams", "data")
    with pytest.raises(EmbeddedDataError, match="not valid JSON"):
        assigned_object("window.runParams = {data: {a: 1}}", "runParams", "runParams", "data")
    # an empty first assignment is skipped for a later one with data
    text = 'runParams = {}; runParams = {data: {"imageModule": {}}}'
    assert assigned_object(text, "runParams", "runParams", "data") == {"imageModule": {}}


def test_deeply_nested_data_is_an_embedded_data_error_not_a_crash() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(EmbeddedDataError):
        parse_json_at(deep, 0, "x")
    listing = parse_page(f'<script>window._d_c_.DCData = {{"imagePathList": {deep}}}</script>', "")
    assert listing.status == "unsupported"
    assert any(re.search("not valid JSON", n) for n in listing.notes)
