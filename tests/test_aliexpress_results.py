"""AliExpress results pages (search, category, store lists, by image) on the shared real data.

shared/fixtures/aliexpress-search/SOURCES.md: three 2024 search result sets (the
`itemList.content` of live pages, 60 items each), a 2025 aliexpress.ru category page
(rendered cards only) and a captcha page served for a search.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper import KIND_RESULTS, Listing, ParseError, parse_page
from scraper.aliexpress_results import INIT_END, INIT_START, _CardImages, is_results_url
from scraper.model import ImageCollector
from scraper.urls import image_key, normalize_image_url

SEARCH_FILES = ("searchShorts.js", "searchSneakers.js", "searchTShirts.js")
RU_PAGE = "giorgi77_aliexpress-ru_category-search_naushniki_2025.html"
CAPTCHA = "NEGATIVE_hendkai_aliexpress_search_captcha-punish-page.html"
SEARCH_URL = "https://www.aliexpress.com/w/wholesale-shorts.html?SearchText=shorts"


@pytest.fixture(scope="session")
def search_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "aliexpress-search"


def item_list(search_dir: Path, name: str) -> dict:
    """The `{"content": [...]}` object a shared JS module exports."""
    text = (search_dir / name).read_text(encoding="utf-8")
    obj, _ = json.JSONDecoder().raw_decode(text[text.index("{"):])
    return obj


def live_page(items: dict, page_info: dict | None = None) -> str:
    """A search page in today's live shape: `_init_data_` between its marker comments."""
    fields = {"mods": {"itemList": items}}
    if page_info:
        fields["pageInfo"] = page_info
    return ("<!DOCTYPE html><html><head><title>shorts - AliExpress</title></head><body>"
            "<div id='root'></div><script>\n" + INIT_START + "\n"
            "window._dida_config_._init_data_ = { data: "
            + json.dumps({"root": {"fields": fields}}, ensure_ascii=False)
            + " }\n" + INIT_END + "\n</script></body></html>")


def expected(raw: dict) -> tuple[str, list[str]]:
    """What one raw item must give: its id and its image keys (main first, no repeats)."""
    urls = [raw["image"]["imgUrl"]] + [x["imgUrl"] for x in raw.get("images") or []]
    keys = list(dict.fromkeys(image_key(u) for u in urls))
    return str(raw["productId"]), keys


@pytest.mark.parametrize("name", SEARCH_FILES)
def test_every_shared_result_set_parses_with_all_items(search_dir: Path, name: str) -> None:
    raw = item_list(search_dir, name)
    listing = parse_page(json.dumps(raw), SEARCH_URL)
    assert listing.kind == KIND_RESULTS and listing.status == "ok"
    assert len(listing.items) == len(raw["content"]) == 60
    for item, entry in zip(listing.items, raw["content"], strict=True):
        pid, keys = expected(entry)
        assert item.product_id == pid
        assert [ref.key for ref in item.images] == keys
        assert item.url == f"https://www.aliexpress.com/item/{pid}.html"
        assert item.store_id == str(entry["store"]["storeId"])
        assert item.store_name == entry["store"]["storeName"]
        assert item.title == " ".join(entry["title"]["displayTitle"].split())
        for ref in item.images:  # full size: no _350x350 suffix, https, CDN host
            assert ref.url.startswith("https://") and "_350x350" not in ref.url
            assert ref.url == normalize_image_url(ref.url)


@pytest.mark.parametrize("name", SEARCH_FILES)
def test_live_wrapper_gives_the_same_items(search_dir: Path, name: str) -> None:
    raw = item_list(search_dir, name)
    bare = parse_page(json.dumps(raw), SEARCH_URL)
    live = parse_page(live_page(raw, {"page": 2, "pageSize": 60, "totalResults": 4321}),
                      SEARCH_URL)
    assert live.source == "dida"
    assert [i.to_dict() for i in live.items] == [i.to_dict() for i in bare.items]
    assert live.page_info == {"page": 2, "page_size": 60, "total": 4321}


def test_older_run_params_and_js_literal_give_the_same_items(search_dir: Path) -> None:
    raw = item_list(search_dir, "searchSneakers.js")
    want = [i.to_dict() for i in parse_page(json.dumps(raw), SEARCH_URL).items]
    older = ("<html><body><script>window.runParams = {\"mods\": {\"itemList\": "
             + json.dumps(raw) + "}, \"pageInfo\": {\"page\": 1}};</script></body></html>")
    listing = parse_page(older, "https://www.aliexpress.com/wholesale?SearchText=sneakers")
    assert listing.source == "runParams" and [i.to_dict() for i in listing.items] == want
    # A JS literal that is not JSON (single-quoted keys, trailing comma) inside the markers.
    literal = ("<script>" + INIT_START + "window._dida_config_._init_data_ = { data: "
               "{'root': {'fields': {'mods': {'itemList': " + json.dumps(raw)
               + ",},},},} }" + INIT_END + "</script>")
    listing = parse_page(literal, SEARCH_URL)
    assert [i.to_dict() for i in listing.items] == want


def test_scrolled_answers_add_items_once(search_dir: Path) -> None:
    first, second = item_list(search_dir, "searchShorts.js"), item_list(
        search_dir, "searchTShirts.js")
    answer = {"api": "mtop.relationrecommend.wirelessrecommend.recommend",
              "data": {"data": {"result": {"mods": {"itemList": second}}}}}
    listing = parse_page(live_page(first), SEARCH_URL, mtop={"responses": [answer, answer]})
    ids = [i.product_id for i in listing.items]
    assert len(ids) == len(set(ids)) == 120
    assert set(ids) == {str(x["productId"]) for x in first["content"] + second["content"]}
    bad = parse_page(live_page(first), SEARCH_URL, mtop={"data": {"nothing": 1}})
    assert len(bad.items) == 60 and any("mtop" in n for n in bad.notes)


def test_aliexpress_ru_rendered_cards(search_dir: Path) -> None:
    html = (search_dir / RU_PAGE).read_text(encoding="utf-8")
    listing = parse_page(html, "https://aliexpress.ru/popular/naushniki")
    assert listing.kind == KIND_RESULTS and listing.status == "ok" and listing.source == "dom"
    cards = dict.fromkeys(re.findall(r'data-product-id="(\d+)"', html))
    assert [i.product_id for i in listing.items] == list(cards)
    assert len(listing.items) == 42
    first = listing.items[0]
    assert first.title.startswith("Xiaomi Bluetooth Wireless Earphones")
    assert first.images[0].key == "alicdn:kf/S3f92057b4b3f46a1a9806e3c06fe8d16r"
    assert first.images[0].url == "https://ae04.alicdn.com/kf/S3f92057b4b3f46a1a9806e3c06fe8d16r.jpg"
    for item in listing.items:  # card photos only: badges and stars are not on the CDN
        assert item.images and all(r.key.startswith("alicdn:kf/") for r in item.images)


def test_captcha_instead_of_results_is_blocked(search_dir: Path) -> None:
    html = (search_dir / CAPTCHA).read_text(encoding="utf-8")
    listing = parse_page(html, "https://www.aliexpress.com/w/wholesale-phone.html?SearchText=x")
    assert listing.kind == KIND_RESULTS and listing.status == "blocked"
    assert listing.items == [] and "captcha" in listing.reason


@pytest.mark.parametrize("url", [
    "https://www.aliexpress.com/w/wholesale-phone-case.html?SearchText=phone+case",
    "https://www.aliexpress.com/wholesale?SearchText=phone",
    "https://www.aliexpress.com/category/200000343/men-clothing.html",
    "https://www.aliexpress.com/store/1102011/pages/all-items.html",
    "https://www.aliexpress.com/store/all-wholesale-products/1102011.html",
    "https://www.aliexpress.com/store/1102011/search/1.html?SearchText=tee",
    "https://aliexpress.ru/wholesale?SearchText=phone",
])
def test_results_urls(search_dir: Path, url: str) -> None:
    assert is_results_url(url)
    raw = item_list(search_dir, "searchShorts.js")
    listing = parse_page(live_page(raw), url)
    assert listing.kind == KIND_RESULTS and len(listing.items) == 60
    if "/store/" in url:
        assert listing.store_id == "1102011"


def test_item_and_store_home_urls_are_not_results() -> None:
    assert not is_results_url("https://www.aliexpress.com/item/1005008204179129.html")
    assert not is_results_url("https://www.aliexpress.com/store/1102011")


def test_empty_search_is_parsed_with_no_items() -> None:
    listing = parse_page(live_page({"content": []}), SEARCH_URL)
    assert listing.status == "ok" and listing.items == []
    nothing = parse_page("<html><body><p>Hello</p></body></html>", SEARCH_URL)
    assert nothing.status == "unsupported" and nothing.reason


def test_fast_card_url_path_matches_the_general_rules(search_dir: Path) -> None:
    """Every card URL in the shared data gives the same ref through both paths."""
    urls = set()
    for name in SEARCH_FILES:
        for raw in item_list(search_dir, name)["content"]:
            urls.add(raw["image"]["imgUrl"])
            urls.update(x["imgUrl"] for x in raw.get("images") or [])
    html = (search_dir / RU_PAGE).read_text(encoding="utf-8")
    urls.update(re.findall(r'src="(https://ae0\d\.alicdn\.com/[^"]+)"', html))
    urls.update(["//ae01.alicdn.com/kf/Sabc/48x48.png", "//ae01.alicdn.com/kf/x-tps-24-36.png",
                 "//ae01.alicdn.com/kf/Sabc.jpg_.webp", "https://ae01.alicdn.com/kf/Sabc.png"])
    assert len(urls) > 1000
    for url in sorted(urls):
        fast, slow = _CardImages(), ImageCollector()
        fast.add(url, "gallery")
        slow.add(url, "gallery")
        assert fast.refs() == slow.refs(), url


# ---- mutated pages: only the documented error comes out ------------------------------------

MUTATIONS = st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 400), st.sampled_from(
    ["", "{", "}", "[", "]", '"', "'", ",", ":", "\\", "null", "<", ">", "</script>",
     INIT_START, INIT_END, '"itemList":', '"content":', '"productId":', "data:", "\x00"])),
    min_size=1, max_size=6)


@pytest.fixture(scope="module")
def small_page(shared_dir: Path) -> str:
    raw = item_list(shared_dir / "fixtures" / "aliexpress-search", "searchTShirts.js")
    return live_page({"content": raw["content"][:8]}, {"page": 1})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=MUTATIONS, url=st.sampled_from([SEARCH_URL, "https://aliexpress.ru/popular/x",
                                                 "https://www.aliexpress.com/store/9/pages/all-items.html"]))
def test_mutated_results_pages(small_page: str, mutations, url: str) -> None:
    text = small_page
    for position, cut, insert in mutations:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + cut:]
    try:
        listing = parse_page(text, url)
    except ParseError:
        assert not text.strip()
        return
    assert isinstance(listing, Listing) and listing.kind == KIND_RESULTS
    assert listing.status in ("ok", "blocked", "unsupported")
    json.dumps(listing.to_dict())
    for item in listing.items:
        assert item.product_id and item.product_id.isdigit()


@settings(max_examples=100, deadline=None)
@given(mtop=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                         lambda inner: st.lists(inner, max_size=4)
                         | st.dictionaries(st.sampled_from(
                             ["itemList", "content", "productId", "image", "images", "store",
                              "title", "responses", "data", "pageInfo"]), inner, max_size=4),
                         max_leaves=30))
def test_any_mtop_object(small_page: str, mtop) -> None:
    listing = parse_page(small_page, SEARCH_URL, mtop=mtop if isinstance(mtop, dict) else None)
    assert listing.kind == KIND_RESULTS and len(listing.items) >= 8
