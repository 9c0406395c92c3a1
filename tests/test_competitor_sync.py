"""Reverse matching through the competitor index, against a local shop on 127.0.0.1: a new
catalog photo is verified only against images the forward pass never compared with it."""

from __future__ import annotations

import pytest
from PIL import Image

from daemon.catalog.registration import register
from daemon.config import load_settings
from daemon.demo.shop import DemoItem, DemoShop, item_page, jpeg
from daemon.matching.compare import ANALYSIS_VERSION, MATCHER_VERSION
from daemon.matching.competitor_index import CompetitorIndex
from daemon.monitor.ingest import ingest_page
from daemon.monitor.pipeline import Pipeline
from daemon.store import Store
from scraper.fetch import Fetcher


@pytest.fixture()
def shop():
    s = DemoShop().start()
    yield s
    s.stop()


@pytest.fixture()
def env(tmp_path, shop):
    settings = load_settings(tmp_path / "data")
    settings.allow_private_hosts = True
    store = Store(settings.db_path)
    pipeline = Pipeline(settings, store, fetcher=Fetcher(allow_private=True, per_host_interval=0,
                                                         retries=0))
    yield settings, store, pipeline
    store.close()


def _push(settings, store, shop, product: str, images: dict[str, bytes]) -> None:
    shop.images.update(images)
    item = DemoItem(product, "900", "Store 900", f"Item {product}", list(images))
    shop.items[product] = item
    ingest_page(store, settings, f"https://www.aliexpress.com/item/{product}.html",
                item_page(item, shop.base_url))


def _copy(path, quality=70) -> bytes:
    im = Image.open(path).convert("RGB")
    return jpeg(im.resize((im.width * 3 // 4, im.height * 3 // 4)), quality)


def test_reverse_pass_skips_what_the_forward_pass_compared(env, shop, photos_dir,
                                                           monkeypatch) -> None:
    settings, store, pipeline = env
    verified: list[tuple[int, int]] = []  # (photo, image) pairs the reverse pass verified
    uncovered = store.uncovered_images

    def spy(image_ids, photo_id, *args):
        rows = uncovered(image_ids, photo_id, *args)
        verified.extend((photo_id, r["id"]) for r in rows)
        return rows

    monkeypatch.setattr(store, "uncovered_images", spy)
    a, b, c = sorted((photos_dir / "clothing" / "dress").glob("*.jpg"))[:3]
    # b's copy is seen before b is registered; a is registered before its copy is seen
    _push(settings, store, shop, "1005000000000901", {"Sb.jpg": _copy(b)})
    pipeline.run_once()
    register(store, [a, b])
    _push(settings, store, shop, "1005000000000902", {"Sa.jpg": _copy(a)})
    summary = pipeline.run_once()
    # forward: a's copy matched a; reverse: only b's copy was verified (for b), and a's
    # copy (compared with a and b by the forward pass) was verified for neither
    assert summary["fetch"]["alerts"] == 1
    assert summary["reverse"]["photos"] == 2 and summary["reverse"]["alerts"] == 1
    assert (2, 1) in verified and not [pair for pair in verified if pair[1] == 2]
    assert summary["reverse"]["verified"] == len(verified)
    assert {(al["photo_id"], al["image_id"]) for al in store.list_alerts(state="all")} == {
        (1, 2), (2, 1)}
    # for a new photo, images matched by an older matcher or before it was loaded count as
    # not compared: b's copy (older matcher) and a's copy (matched before c existed)
    store.set_image_matched_against(1, MATCHER_VERSION - 1, 10**6)
    register(store, [c])
    [row] = store.photos_to_reverse_match_with_times(MATCHER_VERSION, ANALYSIS_VERSION, 10)
    assert row["id"] == 3
    assert store.count_uncovered_images(3, row["fp_created_at"], MATCHER_VERSION) == 2
    again = pipeline.reverse_match()
    assert again["photos"] == 1 and again["alerts"] == 0  # c is copied nowhere


def test_index_is_rebuilt_from_thumbnails_after_a_version_change(env, shop,
                                                                 photos_dir) -> None:
    settings, store, pipeline = env
    a = sorted((photos_dir / "clothing" / "shirt").glob("*.jpg"))[0]
    _push(settings, store, shop, "1005000000000903", {"Sc.jpg": _copy(a)})
    pipeline.run_once()
    assert len(pipeline.competitors) == 1
    pipeline.competitors.close()
    # the next start analyses images otherwise: the saved index is of no use
    fresh = CompetitorIndex(settings.data_dir / "competitor-index", version=ANALYSIS_VERSION + 1)
    pipeline.competitors = fresh
    seen = []
    result = pipeline.sync_competitor_index(progress=lambda *p: seen.append(p))
    assert fresh.reset_on_load and result["indexed"] == 1 and len(fresh) == 1
    assert seen == [("index", 1, 1)]
    register(store, [a])
    assert pipeline.reverse_match()["alerts"] == 1  # found through the rebuilt index


def test_a_new_decision_rule_redoes_the_matches_not_the_analyses(env, shop, photos_dir,
                                                                  monkeypatch) -> None:
    """A rule revision (MATCHER_VERSION) re-matches both ways through the saved index; the
    originals are not re-read and the index is not rebuilt (ANALYSIS_VERSION unchanged)."""
    settings, store, pipeline = env
    a = sorted((photos_dir / "clothing" / "shirt").glob("*.jpg"))[0]
    register(store, [a])
    _push(settings, store, shop, "1005000000000904", {"Sd.jpg": _copy(a)})
    assert pipeline.run_once()["fetch"]["alerts"] == 1
    pipeline.competitors.close()
    monkeypatch.setattr("daemon.monitor.pipeline.MATCHER_VERSION", MATCHER_VERSION + 1)
    nxt = Pipeline(settings, store, fetcher=pipeline.fetcher)
    assert nxt.upgrade_fingerprints()["upgraded"] == 0
    assert len(store.images_to_match(MATCHER_VERSION + 1, 10)) == 1
    again = nxt.reverse_match()
    assert again["photos"] == 1 and not nxt.competitors.reset_on_load
    assert len(nxt.competitors) == 1
