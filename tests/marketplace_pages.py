"""The real marketplace pages in shared/fixtures/marketplaces and the URL each was served from.

Shared by bench.parse and the scraper tests (tests/marketplace_support.py).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PICGUARD_SHARED", REPO.parent / "shared")).resolve()
PAGES_DIR = SHARED / "fixtures" / "marketplaces"
# Where each real page was served from (its canonical URL, or the search it answers).
URLS: dict[str, str] = {
    "aliexpress/fares21_aliexpress-es_product_1005006180026951.html":
        "https://es.aliexpress.com/item/1005006180026951.html",
    "aliexpress/ogs-pages_aliexpress-he_product_iphone-se_2020.html":
        "https://he.aliexpress.com/item/32993251330.html",
    "amazon/metascraper_amazon-co-uk_product-url.html":
        "https://www.amazon.co.uk/Vegetable-Perfection-delicious-recipes-shoots/dp/1849757097",
    "amazon/metascraper_amazon-com_product-url.html":
        "https://www.amazon.com/Whole-Truth-Shaw-Book-ebook/dp/B0011UCPM4",
    "amazon/parsy_amazon_bestseller_de.html": "https://www.amazon.de/gp/bestsellers/ce-de",
    "amazon/parsy_amazon_com.html":
        "https://www.amazon.com/Best-Sellers-Tools-Home-Improvement/zgbs/hi",
    "amazon/parsy_amazon_de_search.html": "https://www.amazon.de/s?k=katzenfutter",
    "amazon/scrapfly-ali_amazon-com_product_skullcandy.html":
        "https://www.amazon.com/dp/B0CD1DZ6RD",
    "ebay/mkalsyd_ebay_item_rtx5090-fe_2025.html": "https://www.ebay.com/itm/226771798286",
    "ebay/ogs-pages_ebay_item_wicker-sofa_2016.html":
        "https://www.ebay.com/itm/Outdoor-Wicker-Patio-Furniture-Sofa-3-Seater-Luxury-Comfort-"
        "Brown-Wicker-Couch-/381228738769",
    "ebay/parsy_ebay_de.html": "https://www.ebay.de/sch/i.html?_nkw=apple",
    "ebay/raiansar_ebay_search_blu-ray_2025.html": "https://www.ebay.co.uk/sch/i.html?_nkw=blu+ray",
    "etsy/NEGATIVE_octolist_etsy_datadome-block.html":
        "https://www.etsy.com/search?q=Handmade+Ceramic+Mug",
    "etsy/metascraper-shopping_etsy_product_calabaza-mat.html":
        "https://www.etsy.com/es/listing/550571276/el-original-he-y-hay-calabaza-decoracion",
    "lazada/price-tracker-lazada_lazada-ph_search-iphone.html":
        "https://www.lazada.com.ph/catalog/?q=iphone+10+xr",
    "lazada/webscraping-lazada_lazada-ph_search-diapers_2024.html":
        "https://www.lazada.com.ph/catalog/?q=diapers+watson",
    "mercadolibre/scrapfly-ali_mercadolibre-co_product.html":
        "https://www.mercadolibre.com.co/lamparas-tipo-spot-con-riel-de-1m-x-3-unid-de-10w-"
        "estructura-negro-luz-blanca/p/MCO42090990",
    "shopee/NEGATIVE_shopee-price-tracker-claude_shopee-ph_spa-shell.html":
        "https://shopee.ph/Some-Product-i.123456789.9876543210",
    "shopify/scrapfly-ali_shopify-anyeluz_product_kit-potencializador.html":
        "https://www.anyeluz.com/products/kit-potencializador-anyeluz",
    "taobao/ideakeeper_taobao_item_desktop_2026.html":
        "https://item.taobao.com/item.htm?id=1021732889355",
    "taobao/ogs-pages_taobao_item_keyboard-case_2020.html":
        "https://item.taobao.com/item.htm?id=562283240178",
    "temu/NEGATIVE_price-tracker-lazada_temu-login-wall.html":
        "https://www.temu.com/ph/goods.html?goods_id=601099519166354",
    "temu/NEGATIVE_vszapower-store_temu_store-shell_m-3597628347664.html":
        "https://www.temu.com/--home--m-3597628347664.html",
    "temu/temu-crawler_temu-kr_bestsellers_2024_PYREPR.html":
        "https://www.temu.com/kr/channel/best-sellers.html",
    "walmart/bot-y_walmart_product_goplusplus_2026.html":
        "https://www.walmart.com/ip/Pok-mon-GO-Plus-for-Nintendo-Switch/1203950273",
    "walmart/fathom-products_walmart_product_booster-seat_2017.html":
        "https://www.walmart.com/ip/Evenflo-Big-Kid-High-Back-Booster-Car-Seat-Denver/42338107",
}


def load(name: str) -> str:
    """A real page's text (the Temu page is stored as a Python repr() string: unescaped)."""
    text = (PAGES_DIR / name).read_text(encoding="utf-8")
    return ast.literal_eval(text) if "PYREPR" in name else text
