"""`picguard demo`: the whole product on this computer, with no marketplace account or network.

It registers shipped CC0 photos as the seller's originals, opens a local demo shop where a
"copycat" store shows edited copies of them, ingests the shop, scans, prints the alerts, and
leaves the daemon running for the browser and the extension.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from daemon.catalog.registration import register
from daemon.config import Settings, save_settings
from daemon.demo.shop import DemoItem, DemoShop, copycat_edits, jpeg
from daemon.monitor.ingest import ingest_page
from daemon.monitor.pipeline import Pipeline
from daemon.store import Store
from scraper.fetch import Fetcher

PHOTOS = Path(__file__).parent / "data" / "photos"
ORIGINALS = ("dress-red.jpg", "shirt.jpg", "shoes.jpg", "pants.jpg")
OTHERS = ("other-hat.jpg", "other-tshirt.jpg")
OWN_STORE, COPYCAT_STORE, HONEST_STORE = "900001", "900002", "900003"


def demo_data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="picguard-demo-"))


def build_shop(shop: DemoShop) -> list[str]:
    """Fill the shop: the seller's own listing, a copycat's edited copies, an unrelated store."""
    originals = {name: Image.open(PHOTOS / name) for name in ORIGINALS}
    own = DemoItem("1005000000000001", OWN_STORE, "Demo Seller (you)", "Spring dress collection")
    copycat = DemoItem("1005000000000002", COPYCAT_STORE, "Copycat Store",
                       "HOT dress shirt shoes bundle")
    honest = DemoItem("1005000000000003", HONEST_STORE, "Honest Hats", "Summer hat and tee")
    for name, im in originals.items():
        shop.images[f"own-{name}"] = jpeg(im, 92)
        own.images.append(f"own-{name}")
    # The copycat took three of the four originals and edited each one differently.
    for index, (name, im) in enumerate(list(originals.items())[:3]):
        edit, copy = copycat_edits(im)[index]
        key = f"S{index}copy-{edit}-{name}"
        shop.images[key] = jpeg(copy, 70)
        copycat.images.append(key)
    for name in OTHERS:
        shop.images[f"H{name}"] = jpeg(Image.open(PHOTOS / name), 85)
        honest.images.append(f"H{name}")
    for item in (own, copycat, honest):
        shop.items[item.product_id] = item
    return [shop.item_url(item.product_id) for item in (own, copycat, honest)]


def run_demo(settings: Settings, say: Callable[[str], None]) -> tuple[Pipeline, DemoShop]:
    """Set up the demo data dir, shop, catalog and listings, and scan once.

    Returns the pipeline (its `settings` are the demo's: a copy of the given ones) and the
    running shop (stop it when the daemon stops).
    """
    settings = dataclasses.replace(
        settings, own_stores=[f"aliexpress:{OWN_STORE}"],
        allow_private_hosts=True,  # the demo shop is on 127.0.0.1
        fetch_interval_s=5, match_interval_s=5, notify_interval_s=5,
        per_host_interval_ms=0,  # everything comes from the local demo shop
    )
    save_settings(settings)
    store = Store(settings.db_path)
    shop = DemoShop().start()
    say(f"Demo shop running at {shop.base_url}/ (a stand-in for AliExpress)")
    report = register(store, [PHOTOS / name for name in ORIGINALS], shoot="demo-spring")
    say(f"Registered {len(report.added)} original photo(s) as yours (shoot 'demo-spring'); "
        f"{len(report.duplicates)} were already registered")
    pipeline = Pipeline(settings, store, fetcher=Fetcher(allow_private=True,
                                                         per_host_interval=0))
    for url in build_shop(shop):
        page = pipeline.fetcher.fetch_page(url)
        answer = ingest_page(store, settings, url, page.text(),
                             source="demo")
        say(f"Ingested {url}: {answer['status']}, {answer['images']['total']} image(s), "
            f"store {answer['store_id']}")
    summary = pipeline.run_once()
    fetch = summary["fetch"]
    say(f"Scanned: {fetch['fetched']} image(s) fetched and fingerprinted, {fetch['failed']} "
        f"failed")
    return pipeline, shop
