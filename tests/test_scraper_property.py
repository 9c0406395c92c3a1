"""Property: on any input, parse_page returns a well-formed Listing or raises ParseError.

ParseError (a ValueError) is documented for input that is not a page at all:
not a str, or empty. Anything else - random text, truncated or mangled real
pages, hostile JSON, any mtop object - must come back as a Listing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper import EmptyPageError, Listing, NotTextError, ParseError, parse_description, parse_page
from scraper.model import KINDS, ROLES, STATUSES

FIXTURES = [
    "item_2022-09_dida-init-data_ultron-hierarchy_3256803246120444.json",
    "item_2022-12_runParams-modules_aliexpress-us_3256803382674519.html",
    "item_2023-12_runParams-components-is23_he_32995535623.html",
    "item_2025_csr-d_c_-DCData_de_1005008204179129.html",
    "punish_captcha_item-url_2025_1005008204179129.html",
    "store_2024-02_shell_4682001.html",
]
URLS = st.sampled_from(
    [
        "",
        "https://www.aliexpress.com/item/1005008204179129.html",
        "https://he.aliexpress.com/item/32995535623.html",
        "https://yufanmodel.aliexpress.com/store/4682001",
        "https://aeproductsourcesite.alicdn.com/product/description/pc/v2/en_US/desc.htm?productId=1",
        "https://shop.example/products/tee",
        "http://[::1",
        "not a url",
    ]
)
# Fragments that steer random text into the parsers' deeper paths.
TOKENS = st.sampled_from(
    [
        "<script>",
        "</script>",
        "window.runParams = {",
        "data:",
        '"data":',
        "{",
        "}",
        "[",
        "]",
        '"',
        "'",
        "\\",
        ",",
        '"imagePathList":',
        '"imageModule":',
        '"imageComponent":',
        "window._d_c_.DCData = ",
        "_dida_config_._init_data_ = ",
        '{"hierarchy":{},"data":{"imageView_1":{"type":"imageView","fields":{"imagePathList":',
        '"//ae01.alicdn.com/kf/S1.jpg_640x640.jpg"',
        '"https://ae01.alicdn.com/kf/S2/48x48.png"',
        '<meta property="og:image" content="',
        '<link rel="canonical" href="',
        '<img data-src="',
        '<div class="detailmodule_html">',
        '<script type="application/ld+json">',
        '{"@type":"Product","image":',
        '<div itemscope itemtype="https://schema.org/Product"><img itemprop="image" src="',
        "var pageConfig = { storeId: '123', ",
        "_____tmd_____/punish",
        "/item/1005000000000001.html",
        "<?xml version='1.0'?>",
        "\x00",
        "\ud800",
        "</head>",
        "<base href=",
    ]
)
HTMLISH = st.lists(st.one_of(TOKENS, st.text(max_size=8)), max_size=60).map("".join)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
MTOP_KEYS = st.sampled_from(
    ["data", "result", "HEADER_IMAGE_PC", "imagePathList", "SKU", "SHOP_CARD_PC", "DESC"]
)
MTOPS = st.recursive(
    st.text(max_size=30) | st.integers() | st.none() | st.lists(st.text(max_size=30), max_size=3),
    lambda children: st.dictionaries(MTOP_KEYS | st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def well_formed(listing: object) -> None:
    assert isinstance(listing, Listing)
    assert listing.status in STATUSES
    assert listing.kind in KINDS
    if listing.status != "ok":
        assert listing.reason
    keys = [ref.key for ref in listing.images]
    assert len(keys) == len(set(keys))
    for ref in listing.images:
        assert ref.role in ROLES
        assert ref.url.startswith(("https://", "http://"))
        assert ref.key
    json.dumps(listing.to_dict())


def parse_or_documented_error(text: str, url: str, mtop: object = None) -> None:
    try:
        listing = parse_page(text, url, mtop)  # type: ignore[arg-type]
    except ParseError as exc:
        assert isinstance(exc, ValueError)
        assert exc.reason
        assert isinstance(exc, EmptyPageError) and not text.strip()
        return
    well_formed(listing)


@pytest.fixture(scope="module")
def pages(fixtures_dir: Path) -> dict[str, str]:
    return {name: (fixtures_dir / name).read_text(encoding="utf-8") for name in FIXTURES}


def test_fixture_list_is_complete(fixtures_dir: Path) -> None:
    on_disk = sorted(p.name for p in fixtures_dir.iterdir() if p.suffix in (".html", ".json"))
    assert on_disk == FIXTURES


@SETTINGS
@given(text=st.text(max_size=2000), url=URLS)
def test_arbitrary_text(text: str, url: str) -> None:
    parse_or_documented_error(text, url)


@SETTINGS
@given(text=HTMLISH, url=URLS)
def test_page_like_fragments(text: str, url: str) -> None:
    parse_or_documented_error(text, url)


@SETTINGS
@given(data=st.data(), url=URLS)
def test_truncated_and_cut_real_pages(pages: dict[str, str], data: st.DataObject, url: str) -> None:
    name = data.draw(st.sampled_from(FIXTURES))
    text = pages[name]
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    parse_or_documented_error(text[:end], url)  # truncated
    parse_or_documented_error(text[start:end], url)  # any slice


@SETTINGS
@given(data=st.data())
def test_mangled_real_pages(pages: dict[str, str], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(FIXTURES))
    text = pages[name]
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 200))
    insert = data.draw(HTMLISH)
    parse_or_documented_error(
        text[:at] + insert + text[at + cut :], "https://www.aliexpress.com/item/1.html"
    )


@SETTINGS
@given(mtop=MTOPS, url=URLS)
def test_any_mtop_object(mtop: object, url: str) -> None:
    parse_or_documented_error("<html><script>window.runParams = {};</script></html>", url, mtop)


@SETTINGS
@given(value=JSON_VALUES)
def test_any_json_document(value: object) -> None:
    parse_or_documented_error(json.dumps(value), "")
    parse_or_documented_error(f"<script>window._d_c_.DCData = {json.dumps(value)};</script>", "")


@SETTINGS
@given(text=HTMLISH, url=URLS)
def test_parse_description_any_text(text: str, url: str) -> None:
    refs = parse_description(text, url)
    assert len({r.key for r in refs}) == len(refs)
    assert all(r.role == "description" for r in refs)


@pytest.mark.parametrize("bad", [None, b"<html></html>", 42, ["<html>"], bytearray(b"x")])
def test_not_text_is_a_parse_error(bad: object) -> None:
    with pytest.raises(NotTextError, match="must be text"):
        parse_page(bad, "https://www.aliexpress.com/item/1.html")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad_url", [None, b"https://x", 1.5])
def test_url_not_text_is_a_parse_error(bad_url: object) -> None:
    with pytest.raises(NotTextError, match="URL must be text"):
        parse_page("<html></html>", bad_url)  # type: ignore[arg-type]


@pytest.mark.parametrize("empty", ["", "   ", "\n\t \r\n"])
def test_empty_page_is_a_parse_error(empty: str) -> None:
    with pytest.raises(EmptyPageError, match="empty") as info:
        parse_page(empty, "https://www.aliexpress.com/item/1.html")
    assert isinstance(info.value, ValueError)
