"""Verdicts say only what the times prove: copied, resembles or unclear (issue 15)."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from daemon.catalog.registration import register
from daemon.config import load_settings
from daemon.demo.shop import DemoItem, DemoShop, copycat_edits, jpeg
from daemon.evidence import write_pack
from daemon.monitor.alerts import alert_text, alert_view, reclassify_alerts
from daemon.monitor.ingest import ingest_page
from daemon.monitor.pipeline import Pipeline
from daemon.monitor.verdict_rules import (
    KIND_WORDS,
    RULES_VERSION,
    decide,
    http_time,
    other_facts,
    own_facts,
)
from daemon.store import Store
from daemon.store.schema import MIGRATIONS
from scraper.fetch import Fetcher

DEMO_PHOTOS = Path(__file__).resolve().parent.parent / "daemon" / "demo" / "data" / "photos"


# ---- the rules on their own ---------------------------------------------------------------

def test_registration_minutes_before_first_sighting_is_unclear() -> None:
    verdict = decide(own_facts({"registered_at": "2026-11-29T10:00:00Z"}),
                     other_facts(["2026-11-29T10:03:00Z"]))
    assert verdict.kind == "unclear" and verdict.reason == "within_margin"


def test_older_last_modified_on_their_image_is_resembles() -> None:
    verdict = decide(own_facts({"registered_at": "2026-11-29T10:00:00Z"}),
                     other_facts(["2026-11-29T10:03:00Z"], ["Wed, 01 Jan 2020 00:00:00 GMT"]))
    assert verdict.kind == "resembles"
    assert verdict.other_time == "2020-01-01T00:00:00.000Z"
    assert verdict.reason == "other_last_modified_earlier"


def test_capture_time_backed_by_the_shoot_is_copied_after_one_day() -> None:
    photo = {"taken_at": "2026-03-14T02:00:00Z", "registered_at": "2026-11-29T10:00:00Z"}
    shoot = ["2026-03-14T02:10:00Z", "2026-03-14T02:20:00Z"]
    verdict = decide(own_facts(photo, shoot), other_facts(["2026-03-15T03:00:00Z"]))
    assert verdict.kind == "copied" and verdict.reason == "own_capture_shoot_earlier"
    # the same photo without a series needs three days
    lone = decide(own_facts(photo, []), other_facts(["2026-03-15T03:00:00Z"]))
    assert lone.kind == "unclear"
    assert decide(own_facts(photo, []), other_facts(["2026-03-17T03:00:00Z"])).kind == "copied"


def test_copied_needs_every_other_time_later() -> None:
    photo = {"taken_at": "2026-03-14T02:00:00Z", "registered_at": "2026-03-20T00:00:00Z"}
    shoot = ["2026-03-14T02:05:00Z"]
    # first sighting much later, but their server says the image existed before the shoot
    verdict = decide(own_facts(photo, shoot),
                     other_facts(["2026-11-01T00:00:00Z"], ["Mon, 10 Mar 2026 00:00:00 GMT"]))
    assert verdict.kind == "resembles"
    # a page date between the two keeps it from being called copied
    verdict = decide(own_facts(photo, shoot),
                     other_facts(["2026-11-01T00:00:00Z"], page_dates=["2026-03-14T12:00:00Z"]))
    assert verdict.kind == "unclear"


def test_no_times_is_unclear_and_facts_are_listed() -> None:
    assert decide([], other_facts(["2026-01-01T00:00:00Z"])).kind == "unclear"
    verdict = decide(own_facts({"registered_at": "2026-01-01T00:00:00Z"}),
                     other_facts(["2026-02-01T00:00:00Z"]))
    d = verdict.to_dict()
    assert d["kind"] == "copied" and d["rules_version"] == RULES_VERSION
    assert [f["source"] for f in d["facts"]] == ["registration", "first_seen"]


def test_http_time_parses_and_refuses() -> None:
    assert http_time("Wed, 21 Oct 2015 07:28:00 GMT") == "2015-10-21T07:28:00.000Z"
    assert http_time("not a date") is None and http_time(None) is None


def test_notification_words_are_the_verdict_words() -> None:
    view = {"id": 7, "kind": "unclear", "match_kind": "copy", "score": 0.9,
            "own": {"file_name": "a.jpg", "own_time": "t"},
            "other": {"store_name": "S", "store_id": "1", "title": "x", "listing_url": "u",
                      "url": "i", "first_seen": "f"}}
    title, body = alert_text(view)
    assert KIND_WORDS["unclear"]["en"][0] in title and KIND_WORDS["unclear"]["zh"][0] in title
    assert "came first" not in title and "在先" not in title
    assert "do not claim you were first" in body


# ---- through the real pipeline: a local shop, real fetches, real matching ------------------

def _no_exif_copy(src: Path, dest: Path) -> Path:
    with Image.open(src) as im:
        im.convert("RGB").save(dest, "JPEG", quality=92)  # no exif= : the capture time is gone
    return dest


@pytest.fixture()
def shop():
    s = DemoShop().start()
    yield s
    s.stop()


def _run(tmp_path: Path, shop: DemoShop, last_modified: str | None) -> list[dict]:
    settings = load_settings(tmp_path / "data")
    settings.own_stores = ["aliexpress:900001"]
    settings.allow_private_hosts = True
    store = Store(settings.db_path)
    original = _no_exif_copy(DEMO_PHOTOS / "dress-red.jpg", tmp_path / "dress.jpg")
    report = register(store, [original], shoot=None)
    assert report.added and report.added[0]["taken_at"] is None
    with Image.open(original) as im:
        edit, copy = copycat_edits(im)[0]
    shop.images["copy.jpg"] = jpeg(copy, 75)
    if last_modified:
        shop.headers["/kf/copy.jpg"] = {"Last-Modified": last_modified}
    item = DemoItem("1005000000000009", "900002", "Copycat Store", "dress", ["copy.jpg"])
    shop.items[item.product_id] = item
    pipeline = Pipeline(settings, store, fetcher=Fetcher(allow_private=True,
                                                         per_host_interval=0))
    url = shop.item_url(item.product_id)
    ingest_page(store, settings, url, pipeline.fetcher.fetch_page(url).text(), source="test")
    pipeline.run_once()
    rows = [alert_view(r) for r in store.list_alerts(state="all")]
    store.close()
    return rows


def test_registration_only_photo_seen_minutes_later_is_unclear(tmp_path, shop) -> None:
    alerts = _run(tmp_path, shop, last_modified=None)
    assert [a["kind"] for a in alerts] == ["unclear"]
    sources = [f["source"] for f in alerts[0]["verdict"]["facts"]]
    assert sources == ["registration", "first_seen"]


def test_other_image_with_older_last_modified_is_resembles(tmp_path, shop) -> None:
    alerts = _run(tmp_path, shop, last_modified="Wed, 01 Jan 2020 00:00:00 GMT")
    assert [a["kind"] for a in alerts] == ["resembles"]
    assert alerts[0]["verdict"]["reason"] == "other_last_modified_earlier"


# ---- the migration re-classifies existing alerts ---------------------------------------------

def test_migration_reclassifies_old_copied_alerts(tmp_path) -> None:
    db = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(db)
    for version, script in enumerate(MIGRATIONS[:3], start=1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
    t0, t1 = "2026-11-29T10:00:00.000Z", "2026-11-29T10:01:00.000Z"
    conn.executescript(f"""
        INSERT INTO photos(id, sha256, path, file_name, size_bytes, registered_at)
            VALUES (1, 'aa', '/x/a.jpg', 'a.jpg', 1, '{t0}');
        INSERT INTO stores(id, marketplace, store_key, first_seen, last_seen)
            VALUES (1, 'aliexpress', '900002', '{t1}', '{t1}');
        INSERT INTO listings(id, listing_key, marketplace, kind, url, status, first_seen,
                             last_seen, store_id)
            VALUES (1, 'k', 'aliexpress', 'item', 'https://x/1', 'parsed', '{t1}', '{t1}', 1);
        INSERT INTO images(id, image_key, url, first_seen, last_seen, status)
            VALUES (1, 'ik', 'https://x/i.jpg', '{t1}', '{t1}', 'fetched');
        INSERT INTO listing_images(listing_id, image_id, role, position, first_seen, last_seen)
            VALUES (1, 1, 'gallery', 0, '{t1}', '{t1}');
        INSERT INTO matches(id, photo_id, image_id, kind, score, details, created_at)
            VALUES (1, 1, 1, 'copy', 0.9, '{{}}', '{t1}');
        INSERT INTO alerts(match_id, photo_id, image_id, listing_id, kind, own_time,
                           other_first_seen, created_at, updated_at)
            VALUES (1, 1, 1, 1, 'copied', '{t0}', '{t1}', '{t1}', '{t1}');
    """)
    conn.close()
    store = Store(db)  # migrates to the current schema
    assert store.get_meta("verdict_rules_version") == "0"
    settings = load_settings(tmp_path / "data")
    assert reclassify_alerts(store, settings) == 1
    row = store.get_alert(1)
    assert row["kind"] == "unclear"
    assert json.loads(row["verdict"])["reason"] == "within_margin"
    assert reclassify_alerts(store, settings) == 0  # once per rules version
    store.close()


def test_the_demo_photos_carry_a_capture_time_series() -> None:
    from daemon.matching.exif import read_exif

    times = []
    for name in ("dress-red.jpg", "shirt.jpg", "shoes.jpg", "pants.jpg"):
        with Image.open(io.BytesIO((DEMO_PHOTOS / name).read_bytes())) as im:
            times.append(read_exif(im)["taken_at"])
    assert all(times) and len(set(times)) == 4


def test_unclear_pack_never_claims_we_were_first(tmp_path, shop) -> None:
    [alert] = _run(tmp_path, shop, last_modified=None)
    assert alert["kind"] == "unclear"
    settings = load_settings(tmp_path / "data")
    store = Store(settings.db_path)
    try:
        out = tmp_path / "pack.zip"
        write_pack(store, settings, alert["id"], out, lang="en")
    finally:
        store.close()
    with zipfile.ZipFile(out) as zf:
        texts = {n: zf.read(n).decode("utf-8") for n in zf.namelist()
                 if n.startswith("drafts/") or n == "report.html"}
    report = texts.pop("report.html")
    assert KIND_WORDS["unclear"]["en"][0] in report and KIND_WORDS["unclear"]["zh"][0] in report
    assert KIND_WORDS["copied"]["en"][0] not in report
    assert "does not claim you were first" in report
    drafts = "\n".join(texts.values())
    for claim in ("We took this photograph ourselves", "我方声明", "later than our time",
                  "晚于我方的时间", "our original is earlier", "我方原图在先",
                  "earlier than our own record", "比我们的记录更早", "theirs is earlier"):
        assert claim not in drafts, claim
    assert "do not show which side was first" in drafts or "does not claim" in drafts
