"""The sweep queue (daemon.monitor.sweeps) over a real SQLite store: budget, consent, blocks,
schedule, the downscaled photo, outcomes, and coverage per channel."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from daemon.catalog.registration import register
from daemon.config import load_settings, save_settings
from daemon.monitor.discovery_settings import SweepError, discovery_settings, update_discovery
from daemon.monitor.ingest import ingest_page
from daemon.monitor.sweeps import IMAGE_MAX_BYTES, IMAGE_MAX_SIDE, Sweeper, keyword_url
from daemon.store import Store
from daemon.timeutil import iso, parse_iso
from scraper.aliexpress_results import INIT_END, INIT_START


@pytest.fixture()
def env(tmp_path):
    settings = load_settings(tmp_path)
    store = Store(settings.db_path)
    yield settings, store, Sweeper(store, settings)
    store.close()


def age_requests(store: Store, seconds: float) -> None:
    """Move every logged marketplace request `seconds` into the past (instead of sleeping)."""
    with store.tx() as c:
        for row in c.execute("SELECT id, at FROM sweep_requests").fetchall():
            c.execute("UPDATE sweep_requests SET at = ? WHERE id = ?",
                      (iso(parse_iso(row["at"]) - timedelta(seconds=seconds)), row["id"]))


def photos(photos_dir: Path, n: int) -> list[Path]:
    return sorted((photos_dir / "clothing-train" / "dress").glob("*.jpg"))[:n]


def results_page(ids: list[str], image_base: str = "//ae01.alicdn.com/kf/S") -> str:
    content = [{"productId": pid, "title": {"displayTitle": f"item {pid}"},
                "image": {"imgUrl": f"{image_base}{pid}.jpg_350x350.jpg"},
                "store": {"storeId": 2000 + i, "storeName": f"Shop {i}"}}
               for i, pid in enumerate(ids)]
    return (f"<script>{INIT_START}window._dida_config_._init_data_ = {{ data: "
            + json.dumps({"root": {"fields": {"mods": {"itemList": {"content": content}}}}})
            + f" }}{INIT_END}</script>")


def test_defaults_and_settings_round_trip(env) -> None:
    settings, _, _ = env
    assert discovery_settings(settings) == {
        "image_search_consent": False, "min_interval_s": 20, "per_day": 300,
        "pause_when_idle": False, "keywords": [], "pages_per_keyword": 2,
        "image_sweep_every_days": 7}
    cfg = update_discovery(settings, {"keywords": ["  robe  d'été ", "连衣裙", "连衣裙"],
                                      "per_day": 50})
    assert cfg["keywords"] == ["robe d'été", "连衣裙"] and cfg["per_day"] == 50
    again = load_settings(settings.data_dir)  # persisted in settings.json
    assert again.keywords == ["robe d'été", "连衣裙"] and again.per_day == 50
    for bad in ({"per_day": 0}, {"min_interval_s": "20"}, {"image_search_consent": 1},
                {"keywords": "x"}, {"bogus": 1}, {"pages_per_keyword": 11}):
        with pytest.raises(SweepError) as err:
            update_discovery(settings, bad)
        assert err.value.status == 400 and err.value.message


def test_consent_revoked_on_disk_takes_effect_at_once(env) -> None:
    settings, _, _ = env
    update_discovery(settings, {"image_search_consent": True})
    other = load_settings(settings.data_dir)  # e.g. `picguard config set` in another process
    other.image_search_consent = False
    save_settings(other)
    assert discovery_settings(settings)["image_search_consent"] is False


def test_budget_interval_and_day(env) -> None:
    settings, store, sweeper = env
    update_discovery(settings, {"per_day": 3, "min_interval_s": 20})
    sweeper.start({"kind": "keyword", "keywords": ["shorts", "dress"]})  # 4 pages
    first = sweeper.next_task()
    assert first["task"]["kind"] == "keyword" and first["task"]["url"] == keyword_url("shorts", 1)
    assert first["budget"]["used_today"] == 1 and first["budget"]["next_request_at"]
    held = sweeper.next_task()
    assert held["task"] is None and held["paused"]["reason"] == "budget"
    wait = parse_iso(held["paused"]["until"]) - parse_iso(store.last_sweep_request_at())
    assert abs(wait.total_seconds() - 20) < 0.01
    age_requests(store, 21)
    assert sweeper.next_task()["task"]["id"] != first["task"]["id"]
    age_requests(store, 21)
    assert sweeper.next_task()["task"] is not None
    age_requests(store, 21)
    day = sweeper.next_task()
    assert day["task"] is None and day["paused"]["reason"] == "budget"
    assert day["budget"]["used_today"] == 3
    assert parse_iso(day["paused"]["until"]) > parse_iso(store.last_sweep_request_at())


def test_extra_pages_count_against_the_budget(env) -> None:
    settings, store, sweeper = env
    sweeper.start({"kind": "store", "store_id": "1102011"})
    task = sweeper.next_task()["task"]
    assert task["url"] == "https://www.aliexpress.com/store/1102011/pages/all-items.html"
    sweeper.record_result(task["id"], {"status": "done", "pages": 5, "error": None})
    assert sweeper.budget()["used_today"] == 5
    assert store.get_task(task["id"])["state"] == "done"


def test_image_sweeps_need_consent(env, photos_dir: Path) -> None:
    settings, store, sweeper = env
    register(store, photos(photos_dir, 2), workers=1)
    answer = sweeper.start({"kind": "image"})
    assert answer["tasks"] == 2 and answer["paused"]["reason"] == "consent"
    again = sweeper.start({"kind": "image"})  # asked twice: the same work is not queued twice
    assert again["tasks"] == 0 and again["already_queued"] == 2 and again["sweep_id"] is None
    nxt = sweeper.next_task()
    assert nxt["task"] is None and nxt["paused"]["reason"] == "consent"
    with pytest.raises(SweepError) as err:
        sweeper.image_bytes(1)
    assert err.value.status == 403 and err.value.code == "consent_needed"
    update_discovery(settings, {"image_search_consent": True})
    task = sweeper.next_task()["task"]
    assert task["kind"] == "image" and task["url"] is None
    assert task["image"] == f"/api/v1/sweeps/{task['id']}/image" and task["photo_id"] == 1
    data = sweeper.image_bytes(task["id"])
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and max(img.size) <= IMAGE_MAX_SIDE
    with pytest.raises(SweepError) as err:
        sweeper.start({"kind": "image", "photo_ids": [99]})
    assert err.value.status == 404


def test_big_noisy_photo_is_downscaled_within_limits(env, tmp_path: Path) -> None:
    settings, store, sweeper = env
    rng = np.random.default_rng(3)
    big = tmp_path / "big.png"
    Image.fromarray(rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)).save(big)
    register(store, [big], workers=1)
    update_discovery(settings, {"image_search_consent": True})
    sweeper.start({"kind": "image"})
    task_id = sweeper.next_task()["task"]["id"]
    data = sweeper.image_bytes(task_id)
    assert len(data) <= IMAGE_MAX_BYTES
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and max(img.size) <= IMAGE_MAX_SIDE
    big.unlink()  # the original is gone: a plain error, not a traceback
    with pytest.raises(SweepError) as err:
        sweeper.image_bytes(task_id)
    assert err.value.status == 410


def test_block_pauses_that_kind_with_backoff_until_the_seller_gets_through(env) -> None:
    settings, store, sweeper = env
    update_discovery(settings, {"min_interval_s": 1})
    sweeper.start({"kind": "keyword", "keywords": ["tee"]})
    sweeper.start({"kind": "store", "store_id": "4682001"})
    task = sweeper.next_task()["task"]
    out = sweeper.record_result(task["id"], {"status": "blocked", "pages": 1,
                                             "error": "punish page"})
    first_until = parse_iso(out["paused_until"])
    age_requests(store, 5)
    other = sweeper.next_task()["task"]  # the other kind is not paused
    assert other["kind"] != task["kind"]
    sweeper.record_result(other["id"], {"status": "done", "pages": 1, "error": None})
    age_requests(store, 5)
    nxt = sweeper.next_task()
    assert nxt["task"] is None and nxt["paused"]["reason"] == "blocked"
    assert "aliexpress.com" in nxt["paused"]["message"]
    # blocked again (say the seller's browser still gets the captcha): the wait doubles,
    # 15 then 30 minutes, give or take the shared backoff's 20% jitter
    update_discovery(settings, {"min_interval_s": 1})
    with store.tx() as c:  # the first pause is over
        c.execute("UPDATE sweep_pauses SET until = ?", (iso(first_until - timedelta(hours=1)),))
        c.execute("UPDATE sweep_tasks SET due_at = ? WHERE id = ?",
                  (iso(first_until - timedelta(hours=1)), task["id"]))
    again = sweeper.next_task()["task"]
    assert again["id"] == task["id"]
    second = sweeper.record_result(again["id"], {"status": "blocked", "pages": 1, "error": None})
    gap = parse_iso(second["paused_until"]) - parse_iso(store.last_sweep_request_at())
    assert 24 * 60 - 1 < gap.total_seconds() <= 36 * 60 + 1
    # the seller opens an AliExpress page that goes through: the pause is lifted
    ingest_page(store, settings, "https://www.aliexpress.com/w/wholesale-tee.html?SearchText=tee",
                results_page(["1005001"]))
    age_requests(store, 5)
    assert sweeper.next_task()["task"]["kind"] == task["kind"] == "keyword"
    assert store.coverage("2000-01-01")["keyword_sweep"]["sweeps_blocked"] == 2


def test_failed_tasks_retry_then_stop(env) -> None:
    settings, store, sweeper = env
    update_discovery(settings, {"min_interval_s": 1})
    sweeper.start({"kind": "store", "store_id": "123456"})
    for attempt in range(1, 4):
        with store.tx() as c:
            c.execute("UPDATE sweep_tasks SET due_at = '2000-01-01T00:00:00.000Z' "
                      "WHERE due_at IS NOT NULL")
        age_requests(store, 5)
        task = sweeper.next_task()["task"]
        assert task is not None, attempt
        sweeper.record_result(task["id"], {"status": "failed", "pages": 0, "error": "tab closed"})
    assert store.get_task(task["id"])["due_at"] is None  # gave up after 3 attempts
    for bad in ({"status": "fine"}, {"status": "done", "pages": -1},
                {"status": "done", "pages": 1, "error": 5}):
        with pytest.raises(SweepError):
            sweeper.record_result(task["id"], bad)
    with pytest.raises(SweepError) as err:
        sweeper.record_result(999, {"status": "done", "pages": 1})
    assert err.value.status == 404


def test_schedule_images_keywords_and_idle(env, photos_dir: Path) -> None:
    settings, store, sweeper = env
    register(store, photos(photos_dir, 3), workers=1)
    assert sweeper.schedule() == {"image": 0, "keyword": 0, "store": 0}  # no consent
    update_discovery(settings, {"image_search_consent": True, "keywords": ["dress"],
                                "pages_per_keyword": 3, "pause_when_idle": True})
    assert sweeper.schedule() == {"image": 3, "keyword": 3, "store": 0}
    assert sweeper.schedule() == {"image": 0, "keyword": 0, "store": 0}  # not due again
    idle = sweeper.next_task(idle=True)
    assert idle["task"] is None and idle["paused"]["reason"] == "idle"
    task = sweeper.next_task()["task"]
    assert task is not None
    with store.tx() as c:  # a week later, the finished image sweeps are due again
        c.execute("UPDATE sweep_tasks SET due_at = NULL, state = 'done', "
                  "created_at = '2000-01-01T00:00:00.000Z'")
    assert sweeper.schedule() == {"image": 3, "keyword": 3, "store": 0}
    kinds = [t["kind"] for s in sweeper.overview()["sweeps"] for t in s["tasks"]]
    assert kinds.count("image") == 6 and kinds.count("keyword") == 6


def test_results_push_is_idempotent_and_counted_per_channel(env) -> None:
    settings, store, sweeper = env
    update_discovery(settings, {"min_interval_s": 1})
    sweeper.start({"kind": "keyword", "keywords": ["tee"]})
    task = sweeper.next_task()["task"]
    html = results_page([str(1005000000 + i) for i in range(60)])
    url = task["url"]
    first = ingest_page(store, settings, url, html, channel="keyword_sweep", task_id=task["id"])
    assert first["kind"] == "results" and first["status"] == "parsed"
    assert first["listings"] == {"total": 60, "new": 60}
    assert first["images"]["total"] == first["images"]["new"] == 60
    again = ingest_page(store, settings, url, html, channel="keyword_sweep", task_id=task["id"])
    assert again["listings"] == {"total": 60, "new": 0} and again["images"]["new"] == 0
    assert store.count_listings() == 60
    # browsing the same results later adds a channel, not listings
    ingest_page(store, settings, "https://www.aliexpress.com/wholesale?SearchText=tee", html,
                channel="results")
    cov = sweeper.coverage()
    assert cov["keyword_sweep"]["listings_total"] == cov["keyword_sweep"]["listings_today"] == 60
    assert cov["keyword_sweep"]["images_total"] == 60
    assert cov["results"]["listings_total"] == 60 and cov["browsing"]["listings_total"] == 0
    listing = store.listing_by_url("https://www.aliexpress.com/item/1005000000.html")
    assert store.listing_channel(listing["id"]) == "keyword_sweep"
    row = store.get_task(task["id"])
    assert row["listings_total"] == 180 - 60 and row["listings_new"] == 60
    # the page itself is kept once per distinct content, for the evidence
    card = {"product_id": "1005000000000", "url": "https://www.aliexpress.com/item/1.html",
            "images": []}
    for page, stored in ((html, False), (html + " ", True)):
        assert store.save_result_cards([card], marketplace="aliexpress", channel="results",
                                       page_url=url, source="x", html=page)["page_stored"] is stored


def test_private_image_addresses_are_refused(env) -> None:
    settings, store, _ = env
    from daemon.monitor.ingest import RefusedImagesError

    with pytest.raises(RefusedImagesError):
        ingest_page(store, settings, "https://www.aliexpress.com/wholesale?SearchText=x",
                    results_page(["1005001", "1005002"], "http://127.0.0.1:9/kf/S"))
    assert store.count_listings() == 0
    blocked = ingest_page(store, settings, "https://www.aliexpress.com/wholesale?SearchText=x",
                          "<html><script>var x = '_____tmd_____/punish';</script></html>")
    assert blocked["status"] == "blocked" and blocked["listings"] == {"total": 0, "new": 0}


def test_a_copied_alert_queues_one_full_store_sweep(env, photos_dir: Path) -> None:
    settings, store, sweeper = env
    register(store, photos(photos_dir, 1), workers=1)
    ingest_page(store, settings, "https://www.aliexpress.com/wholesale?SearchText=x",
                results_page(["1005009"]), channel="results")
    listing = store.listing_by_url("https://www.aliexpress.com/item/1005009.html")
    image = store.images_by_keys(["alicdn:kf/S1005009"])["alicdn:kf/S1005009"]
    match_id = store.record_match(1, image["id"], "copy", 0.99, {})
    for kind, photo in (("resembles", 1), ("copied", 1)):
        store.create_alert(match_id=match_id, photo_id=photo, image_id=image["id"],
                           listing_id=listing["id"], kind=kind, own_time=None,
                           other_first_seen=listing["first_seen"], notify=False)
    assert store.copied_stores_not_swept() == []  # one alert per pair: the first stays
    with store.tx() as c:
        c.execute("UPDATE alerts SET kind = 'copied'")
    assert sweeper.schedule()["store"] == 1
    assert sweeper.schedule()["store"] == 0  # once per store
    task = sweeper.next_task()["task"]
    assert task["kind"] == "store" and task["store_id"] == "2000"
    assert task["url"] == "https://www.aliexpress.com/store/2000/pages/all-items.html"
