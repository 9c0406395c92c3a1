"""Marketplace ids and which host belongs to which marketplace (every locale).

The ids are the ones DESIGN.md lists; `web` is any other shop. Shopify shops
run on any domain, so they are recognised by content (`looks_like_shopify`),
besides `*.myshopify.com`.
"""

from __future__ import annotations

import re

AMAZON = "amazon"
EBAY = "ebay"
ETSY = "etsy"
WALMART = "walmart"
SHOPIFY = "shopify"
MERCADOLIBRE = "mercadolibre"
LAZADA = "lazada"
TAOBAO = "taobao"
TEMU = "temu"
SHOPEE = "shopee"
ALIEXPRESS = "aliexpress"
WEB = "web"
MARKETPLACES = (ALIEXPRESS, AMAZON, EBAY, ETSY, WALMART, SHOPIFY, MERCADOLIBRE, LAZADA,
                TAOBAO, TEMU, SHOPEE, WEB)

# A country suffix: .com, .de, .co.uk, .com.mx, .com.br, ...
_CC = (r"(?:com|co|ca|de|fr|it|es|nl|se|pl|in|sg|ae|sa|eg|au|at|be|ch|ie|cn|ph|my|vn|tw|th"
       r"|id|cl|ar|pe|uy|ve|ec|bo|py|mx|br|jp|hk|uk|tr|us)")
_SUFFIX = rf"(?:\.{_CC}){{1,2}}"
_HOSTS = (
    (AMAZON, re.compile(rf"(?:^|\.)amazon{_SUFFIX}$")),
    (EBAY, re.compile(rf"(?:^|\.)ebay{_SUFFIX}$")),
    (ETSY, re.compile(r"(?:^|\.)etsy\.com$")),
    (WALMART, re.compile(rf"(?:^|\.)walmart{_SUFFIX}$")),
    (MERCADOLIBRE, re.compile(rf"(?:^|\.)mercadoli(?:b|v)re{_SUFFIX}$")),
    (LAZADA, re.compile(rf"(?:^|\.)lazada{_SUFFIX}$")),
    (TAOBAO, re.compile(rf"(?:^|\.)(?:taobao|tmall){_SUFFIX}$")),
    (TEMU, re.compile(r"(?:^|\.)temu\.com$")),
    (SHOPEE, re.compile(rf"(?:^|\.)shopee{_SUFFIX}$")),
    (SHOPIFY, re.compile(r"(?:^|\.)myshopify\.com$")),
)
# Markers only a Shopify storefront carries (its JS globals and CDN paths).
_SHOPIFY_MARKERS = ("Shopify.shop", "ShopifyAnalytics", "cdn.shopify.com/s/files", "/cdn/shop/")


def marketplace_of_host(host: str) -> str | None:
    """The marketplace id of a page host, or None (any other shop, or no host)."""
    host = (host or "").split(":")[0].rstrip(".").lower()
    for market, pattern in _HOSTS:
        if pattern.search(host):
            return market
    return None


def looks_like_shopify(text: str) -> bool:
    """True when a page is a Shopify storefront (two independent markers, to be sure)."""
    if text.lstrip()[:1] == "{" and '"handle"' in text and '"variants"' in text:
        return True  # a /products/<handle>.js or .json answer
    return sum(marker in text for marker in _SHOPIFY_MARKERS) >= 2
