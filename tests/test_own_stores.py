"""Own stores across marketplaces: `marketplace:store_id` in settings, the CLI and the check."""

from __future__ import annotations

import json

from click.testing import CliRunner

from daemon.cli import main
from daemon.config import load_settings, own_store_key
from daemon.monitor.alerts import other_listings
from daemon.monitor.ingest import ingest_page
from daemon.store import Store
from tests.marketplace_pages import URLS, load


def test_bare_ids_stay_aliexpress_and_keys_need_both_parts() -> None:
    assert own_store_key("1102011") == "aliexpress:1102011"
    assert own_store_key(" Amazon:A2NQK4TIWYJD6B ") == "amazon:A2NQK4TIWYJD6B"
    assert own_store_key("web:shop.example") == "web:shop.example"


def test_is_own_store_compares_marketplace_and_store_id(tmp_path) -> None:
    settings = load_settings(tmp_path)
    settings.own_stores = ["1102011", "amazon:A2NQK4TIWYJD6B", "shopify:anyeluz.com"]
    assert settings.is_own_store("aliexpress", "1102011")  # an older, bare setting
    assert not settings.is_own_store("lazada", "1102011")  # same number, other marketplace
    assert settings.is_own_store("amazon", "A2NQK4TIWYJD6B")
    assert not settings.is_own_store("ebay", "A2NQK4TIWYJD6B")
    assert not settings.is_own_store("aliexpress", "A2NQK4TIWYJD6B")
    assert settings.is_own_store("shopify", "anyeluz.com")
    assert not settings.is_own_store("amazon", None)


def run(tmp_path, *args: str):
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path), *args])


def test_add_store_takes_marketplace_and_id(tmp_path) -> None:
    assert run(tmp_path, "config", "add-store", "amazon:A2NQK4TIWYJD6B").exit_code == 0
    assert run(tmp_path, "config", "add-store", "1102011").exit_code == 0
    assert run(tmp_path, "config", "add-store", "334337979", "--marketplace",
               "mercadolibre").exit_code == 0
    shown = json.loads(run(tmp_path, "config", "show", "--json").output)
    assert shown["own_stores"] == ["amazon:A2NQK4TIWYJD6B", "aliexpress:1102011",
                                   "mercadolibre:334337979"]
    assert run(tmp_path, "config", "remove-store", "amazon:A2NQK4TIWYJD6B").exit_code == 0
    shown = json.loads(run(tmp_path, "config", "show", "--json").output)
    assert "amazon:A2NQK4TIWYJD6B" not in shown["own_stores"]


def test_add_store_refuses_unknown_marketplaces_and_empty_ids(tmp_path) -> None:
    bad = run(tmp_path, "config", "add-store", "amazonx:1")
    assert bad.exit_code == 2 and "unknown marketplace" in bad.output
    empty = run(tmp_path, "config", "add-store", "ebay:")
    assert empty.exit_code == 2 and "store id" in empty.output


def test_real_marketplace_pages_through_ingest_and_the_own_store_check(tmp_path) -> None:
    """A pushed Amazon page is stored under `amazon`; the seller's Amazon store is theirs."""
    settings = load_settings(tmp_path / "data")
    settings.own_stores = ["amazon:ATVPDKIKX0DER"]
    store = Store(settings.db_path)
    try:
        name = "amazon/scrapfly-ali_amazon-com_product_skullcandy.html"
        answer = ingest_page(store, settings, URLS[name], load(name))
        assert (answer["status"], answer["marketplace"], answer["store_id"]) == (
            "parsed", "amazon", "ATVPDKIKX0DER")
        assert answer["product_id"] == "B0CD1DZ6RD" and answer["images"]["new"] == 13
        image = store.images_by_keys(["amazon:I/71z1TQY-1uL"])["amazon:I/71z1TQY-1uL"]
        assert [r["marketplace"] for r in store.image_listings(image["id"])] == ["amazon"]
        assert other_listings(store, settings, image["id"]) == []  # the seller's own listing
        settings.own_stores = ["ATVPDKIKX0DER"]  # a bare id is an AliExpress store: not this one
        assert len(other_listings(store, settings, image["id"])) == 1
    finally:
        store.close()
