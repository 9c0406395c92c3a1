"""AliExpress parsing on the real saved pages in shared/fixtures/aliexpress.

Every expected id, name and image key below was read from the page itself
(see shared/fixtures/aliexpress/SOURCES.md for where each page came from).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scraper import parse_page
from scraper.model import Listing

MODULE_PAGE = "item_2022-12_runParams-modules_aliexpress-us_3256803382674519.html"
DIDA_JSON = "item_2022-09_dida-init-data_ultron-hierarchy_3256803246120444.json"
IS23_PAGE = "item_2023-12_runParams-components-is23_he_32995535623.html"
CSR_PAGE = "item_2025_csr-d_c_-DCData_de_1005008204179129.html"
PUNISH_PAGE = "punish_captcha_item-url_2025_1005008204179129.html"
STORE_PAGE = "store_2024-02_shell_4682001.html"


@pytest.fixture(scope="module")
def synthetic_dir() -> Path:
    """tests/data/synthetic: pages written for these tests (each says so in its header)."""
    return Path(__file__).parent / "data" / "synthetic"


def kf(*ids: str) -> list[str]:
    return [f"alicdn:kf/{i}" for i in ids]


def read(fixtures_dir: Path, name: str) -> str:
    return (fixtures_dir / name).read_text(encoding="utf-8")


def assert_no_duplicate_keys(listing: Listing) -> None:
    keys = listing.image_keys()
    assert len(keys) == len(set(keys)), keys


# --- 2022-12 "module" generation, www.aliexpress.us ------------------------------------------

MODULE_GALLERY = kf(
    "H41ed3b2161e74a6db634cac28805912bg",
    "H74c4f912dd894c3b93addd59a3334c36c",
    "H68aac6183f844f79b74d51eab020246du",
    "H109c7a2cf9864ca5b48d04afccc55a68L",
    "H7f4eaca36e7143fa83b8612d167c73a8k",
    "Hb9ded3a39d2f497592a729cf842dcbeaL",
)
MODULE_VARIANTS = kf(
    "H75af89ca142e437cb7f1c20805ef6f44H",
    "H21f6c96a840b42e081266e0748d406ecY",
    "H4032018c7a3540ad98e4ac8d0a51796dz",
)


def test_module_generation_page(fixtures_dir: Path) -> None:
    url = "https://www.aliexpress.us/item/3256803382674519.html?spm=a2g0o.detail"
    listing = parse_page(read(fixtures_dir, MODULE_PAGE), url)
    assert (listing.status, listing.kind, listing.source) == ("ok", "item", "module")
    assert listing.marketplace == "aliexpress"
    # the id inside the data (US site); the global id is kept as an alias
    assert listing.product_id == "3256803382674519"
    assert listing.alt_product_ids == ["1005003568989271"]
    assert listing.canonical_url == "https://www.aliexpress.com/item/3256803382674519.html"
    assert listing.url == url
    assert listing.title == (
        "Unisex Glasses Windproof Outdoor Sport Eyewear Motocross Sunglasses Snowboard Goggles "
        "Ski Googles UV400 for Men Women"
    )
    assert (listing.store_id, listing.store_name) == ("1101366561", "Car Accessories Zone Store")
    assert listing.store_url == "https://www.aliexpress.com/store/1101366561"
    assert listing.description_url == (
        "https://aeproductsourcesite.alicdn.com/product/description/pc/v2/en_US/desc.htm"
        "?productId=1005003568989271&key=Sc47342b403ef4da8912ce04a6f277779O.zip"
        "&token=89a0ed3a9c207f6457b6fc5fac51bf7d"
    )
    assert listing.image_keys("gallery") == MODULE_GALLERY
    assert listing.image_keys("variant") == MODULE_VARIANTS
    # og:image is the first gallery photo, so it adds nothing; the page's 20x20/10x10/40x40
    # UI assets and its store icons never appear
    assert listing.image_keys("og") == []
    assert len(listing.images) == 9
    assert_no_duplicate_keys(listing)
    # full-size URLs: the variants were _640x640 in the page
    variant_urls = [ref.url for ref in listing.images_with_role("variant")]
    assert variant_urls[0] == (
        "https://ae01.alicdn.com/kf/H75af89ca142e437cb7f1c20805ef6f44H/Unisex-Glasses-Windproof-"
        "Outdoor-Sport-Eyewear-Motocross-Sunglasses-Snowboard-Goggles-Ski-Googles-UV400-for-Men-"
        "Women.jpg"
    )
    assert listing.notes == []


# --- 2022-09 Ultron/dida data object (saved as JSON) -----------------------------------------

DIDA_GALLERY = kf(
    "S6d877558b9cf4bb08f2b2e02e39addfa7",
    "Sd68cb1315785417c900146e59064de91p",
    "Sf57870f8ba8f4b49ab759ba5723226805",
    "Se775067b7e69429495d7e4e25106787fD",
    "S62337fb1bf964910851ba84b44f06d05T",
    "Sce35a0a52076482481f18a925de562caW",
)
DIDA_VARIANTS = kf(
    "S1a62f87afbeb452b87f6994bb05ba22d2",
    "Secf0df0e8b724f1e99d0710e87182e1ci",
    "S4f39290279104b8ab6b3efc647c46d0dr",
    "S27ebe85805d346069962f6513e70dbbbR",
    "S2e48eb5025004a15bbf19114f92db483m",
    "Sc61a9db2c13d4fe99c40e2dde5d05c5d9",
)


def check_dida_listing(listing: Listing) -> None:
    assert (listing.status, listing.kind, listing.source) == ("ok", "item", "dida")
    assert listing.product_id == "3256803246120444"
    assert listing.alt_product_ids == ["1005003432435196"]
    assert listing.title == (
        "6 Pcs/set Fashion Watch Men Luxury Gifts Set Sunglasses Belt Wrist Watch Folding Wallet "
        "Keychain Ballpoint Pen for Father Men"
    )
    assert (listing.store_id, listing.store_name) == ("1101222680", "Joan Yu Store")
    assert listing.description_url is not None
    assert "productId=1005003432435196" in listing.description_url
    assert listing.image_keys("gallery") == DIDA_GALLERY
    # imageList repeats the variant photos (as _640x640): they count once, as variants
    assert listing.image_keys("variant") == DIDA_VARIANTS
    assert len(listing.images) == 12
    assert_no_duplicate_keys(listing)


def test_dida_data_object_saved_as_json(fixtures_dir: Path) -> None:
    text = read(fixtures_dir, DIDA_JSON)
    check_dida_listing(parse_page(text, "https://www.aliexpress.us/item/3256803246120444.html"))
    # recognised by content even without a URL
    check_dida_listing(parse_page(text, ""))


def test_dida_object_inside_a_page_found_by_type_prefix(fixtures_dir: Path) -> None:
    """The same real object, as the page's script writes it (a JS literal around the JSON),
    with its component suffixes renumbered: components are found by type, not by key."""
    obj = json.loads(read(fixtures_dir, DIDA_JSON))
    body = json.dumps(obj["data"])
    for old, new in (
        ("_2247", "_9001"),
        ("_2257", "_9002"),
        ("_2442", "_9003"),
        ("_2253", "_9004"),
    ):
        body = body.replace(old, new)
    page = (
        "<html><head><title>x</title></head><body><script>\n"
        "window._dida_config_ = window._dida_config_ || {};\n"
        f"window._dida_config_._init_data_= {{ data: {body} , success : true }};\n"
        "</script></body></html>"
    )
    check_dida_listing(parse_page(page, "https://www.aliexpress.us/item/3256803246120444.html"))


# --- 2023-12 "component" generation (is23), he.aliexpress.com --------------------------------

IS23_GALLERY = kf(
    "Ha8c0247ebb684b259b3a7d3120b5bd3cC",
    "HTB1QHbXNAzoK1RjSZFlq6yi4VXaU",
    "HTB1cBG5NrPpK1RjSZFFq6y5PpXaL",
    "HTB1G.HzNxnaK1RjSZFtq6zC2VXaX",
    "HTB10B_XNzTpK1RjSZKPq6y3UpXa8",
    "HTB1iq57NBLoK1RjSZFuq6xn0XXaH",
)
IS23_VARIANTS = kf(
    "H84bf2533f7ed41ffa1c4b714c24cb8531",
    "Hb542fe0877fd42efaafe75e05400a87cL",
    "H0c0192fa17a847aeb72681053e7a9b43z",
    "Hbe469510ed38467a92a90fa7211541b67",
    "Hcf4a962c464c42b08c901f922cda0b55U",
    "H0e160ed35e7e403389d24b9aad76668em",
    "H73c5d50caa3d4352b98d4fa6745178fdI",
    "HTB11ZLXNAzoK1RjSZFlq6yi4VXav",
)


def test_component_generation_page(fixtures_dir: Path) -> None:
    listing = parse_page(
        read(fixtures_dir, IS23_PAGE), "https://he.aliexpress.com/item/32995535623.html"
    )
    assert (listing.status, listing.kind, listing.source) == ("ok", "item", "is23")
    assert listing.product_id == "32995535623"
    assert listing.alt_product_ids == []
    assert listing.title == (
        "3 ב 1 אבוקדו מבצע שיאה Corer חמאת פירות קולפן חותך עיסת מפריד פלסטיק סכין מטבח ירקות "
        "כלים מטבח גאדג 'טים"
    )
    assert (listing.store_id, listing.store_name) == ("3828002", "AILIHU Life Store")
    assert listing.store_url == "https://www.aliexpress.com/store/3828002"
    assert listing.description_url is not None
    assert listing.description_url.startswith(
        "https://aeproductsourcesite.alicdn.com/product/description/pc/v2/iw_IL/desc.htm"
        "?productId=32995535623&key="
    )
    # imagePathList, image250/640PathList and summImagePathList are one set of six photos
    assert listing.image_keys("gallery") == IS23_GALLERY
    # skuPropertyImagePath (_640x640) and skuPropertyImageSummPath (_80x80): eight photos
    assert listing.image_keys("variant") == IS23_VARIANTS
    assert len(listing.images) == 14
    assert_no_duplicate_keys(listing)
    # the store logo (sellerComponent.storeLogo) is not a listing image
    assert "alicdn:kf/Hc4ae646603004d38b065d0f243816374G" not in listing.image_keys()


def test_region_subdomains_and_sites_are_one_marketplace(fixtures_dir: Path) -> None:
    text = read(fixtures_dir, IS23_PAGE)
    seen = set()
    for url in (
        "https://he.aliexpress.com/item/32995535623.html",
        "https://www.aliexpress.com/item/32995535623.html",
        "https://aliexpress.ru/item/32995535623.html",
        "https://www.aliexpress.us/item/32995535623.html",
    ):
        listing = parse_page(text, url)
        seen.add((listing.marketplace, listing.canonical_url, tuple(listing.image_keys())))
    assert len(seen) == 1


# --- 2025 client-rendered shell (DCData), de.aliexpress.com ----------------------------------

CSR_GALLERY = kf(
    "S842af8715d744a1582d33171b8308b13a",
    "Se1a0b6ce455f452cae3b73b09ffa5aa4h",
    "Se5580d6e8ee14c829c047e6312aaff34w",
    "S7ba16be54d4e44afb1b6e3db2be2772dH",
    "Sd9e5435462c04621b75d016a87f6b8479",
    "S54fae77cc75b4b1a80a895d8020283dcd",
)


def test_csr_page_yields_gallery_from_dcdata_despite_not_found_body(fixtures_dir: Path) -> None:
    text = read(fixtures_dir, CSR_PAGE)
    assert "Sorry, the page you requested can not be found" in text  # the rendered body
    listing = parse_page(text, "https://de.aliexpress.com/item/1005008204179129.html")
    assert (listing.status, listing.kind, listing.source) == ("ok", "item", "dcdata")
    assert listing.product_id == "1005008204179129"
    assert listing.canonical_url == "https://www.aliexpress.com/item/1005008204179129.html"
    # no title in DCData: taken from og:title without the "- AliExpress 7" tail
    assert listing.title == (
        "JAYO 5 Rollen 3D-Hochgeschwindigkeits-Matt-PETG-Filament 1,75 mm 30 mm/s – 600 mm/s "
        "Druckbereich High Flow Speedy PETG 3D-Drucker-Filament"
    )
    assert listing.store_id is None and listing.store_name is None
    # imagePathList (no slug) and summImagePathList (slug + _80x80) are the same six photos;
    # the page's 48x48/60x60/154x64 UI icons are not images of the listing
    assert listing.image_keys("gallery") == CSR_GALLERY
    assert listing.image_keys() == CSR_GALLERY
    assert [ref.url for ref in listing.images][0] == (
        "https://ae01.alicdn.com/kf/S842af8715d744a1582d33171b8308b13a.jpg"
    )
    assert any("not found" in note for note in listing.notes)


def test_csr_page_with_captured_mtop_prefers_mtop(fixtures_dir: Path, synthetic_dir: Path) -> None:
    """SYNTHETIC mtop response (tests/data/synthetic) with the real page: mtop comes first."""
    mtop = json.loads((synthetic_dir / "mtop_pdp_pc_query_1005008204179129.json").read_text())
    listing = parse_page(
        read(fixtures_dir, CSR_PAGE), "https://de.aliexpress.com/item/1005008204179129.html", mtop
    )
    assert (listing.status, listing.source) == ("ok", "mtop")
    # the mtop gallery names the same six photos on ae-pic-a1 with suffixes: same keys
    assert listing.image_keys("gallery") == CSR_GALLERY
    assert all(
        ref.url.startswith("https://ae-pic-a1.aliexpress-media.com/kf/")
        for ref in listing.images_with_role("gallery")
    )
    # a variant that repeats the first gallery photo (on ae04) is not listed twice
    assert listing.image_keys("variant") == kf(
        "Sf00000000000000000000000000000c1c", "Sf00000000000000000000000000000c2c"
    )
    assert (listing.store_id, listing.store_name) == ("1100000001", "Synthetic Test Store")
    assert listing.title == "JAYO 5 rolls high speed matte PETG filament 1.75 mm (synthetic title)"
    assert (
        listing.description_url is not None
        and "de_DE/desc.htm?productId=1005008204179129" in listing.description_url
    )
    assert_no_duplicate_keys(listing)


# --- the anti-bot "punish" page ---------------------------------------------------------------


def test_captcha_page_is_blocked_not_empty(fixtures_dir: Path) -> None:
    text = read(fixtures_dir, PUNISH_PAGE)
    listing = parse_page(text, "https://www.aliexpress.com/item/1005008204179129.html")
    assert (listing.status, listing.kind) == ("blocked", "item")
    assert listing.reason is not None and "captcha" in listing.reason
    assert listing.images == []
    assert listing.product_id == "1005008204179129"
    # pushed without a URL, the punish iframe still names the item
    bare = parse_page(text, "")
    assert (bare.status, bare.marketplace, bare.product_id) == (
        "blocked",
        "aliexpress",
        "1005008204179129",
    )


# --- store page shell -------------------------------------------------------------------------


def test_store_page_shell(fixtures_dir: Path) -> None:
    listing = parse_page(
        read(fixtures_dir, STORE_PAGE), "https://yufanmodel.aliexpress.com/store/4682001"
    )
    assert (listing.status, listing.kind, listing.marketplace) == ("ok", "store", "aliexpress")
    assert listing.store_id == "4682001"
    assert listing.store_name == "FAN MODEL WORD Store"
    assert listing.store_url == "https://www.aliexpress.com/store/4682001"
    # the one lazy image: data-src is the image, its src a 10x10 placeholder; the tracking
    # pixel, data: URIs and the 240x168/65x70/20x20 UI assets are left out
    assert [(ref.key, ref.url, ref.role) for ref in listing.images] == [
        (
            "alicdn:kf/HTB1tEHzb.gQMeJjy0Ff762ddXXaF",
            "https://ae01.alicdn.com/kf/HTB1tEHzb.gQMeJjy0Ff762ddXXaF.png",
            "store",
        )
    ]
    assert listing.product_links == []  # the grid is loaded by script: not in this HTML
    assert listing.product_id is None


def test_store_page_found_by_content_on_a_shop_subdomain_root(fixtures_dir: Path) -> None:
    listing = parse_page(read(fixtures_dir, STORE_PAGE), "https://yufanmodel.aliexpress.com/")
    assert (listing.kind, listing.store_id) == ("store", "4682001")


def test_every_fixture_parses_without_a_url(fixtures_dir: Path) -> None:
    expected = {
        MODULE_PAGE: ("ok", "module", 9),
        DIDA_JSON: ("ok", "dida", 12),
        IS23_PAGE: ("ok", "is23", 14),
        CSR_PAGE: ("ok", "dcdata", 6),
        PUNISH_PAGE: ("blocked", None, 0),
        STORE_PAGE: ("ok", "store", 1),
    }
    for name, (status, source, count) in expected.items():
        listing = parse_page(read(fixtures_dir, name), "")
        assert (listing.status, listing.source, len(listing.images)) == (status, source, count), (
            name
        )
        json.dumps(listing.to_dict())  # JSON-ready
