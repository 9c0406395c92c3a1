"""The database: migrations, round trips, first-seen times, the fetch queue, alerts."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from daemon.store import Store, StoreError
from daemon.store.schema import MIGRATIONS


def _photo(sha: str = "a" * 64, **extra) -> dict:
    return {"sha256": sha, "path": f"/photos/{sha[:6]}.jpg", "file_name": f"{sha[:6]}.jpg",
            "size_bytes": 1234, "format": "JPEG", "width": 400, "height": 300,
            "taken_at": "2024-03-01T10:00:00.000Z", "camera_make": "Canon",
            "camera_model": "EOS R6", "orientation": 1, "has_gps": False,
            "exif": {"Make": "Canon"}, **extra}


def _listing(product: str = "1005001", images: int = 3, store_id: str = "777",
             status: str = "ok") -> dict:
    return {"marketplace": "aliexpress", "kind": "item", "store_id": store_id,
            "store_name": "Other Shop", "store_url": f"https://www.aliexpress.com/store/{store_id}",
            "product_id": product, "title": "Dress", "canonical_url":
            f"https://www.aliexpress.com/item/{product}.html", "status": status,
            "images": [{"url": f"https://ae01.alicdn.com/kf/S{product}{i}.jpg",
                        "key": f"alicdn:kf/S{product}{i}", "role": "gallery"}
                       for i in range(images)]}


@pytest.fixture()
def store(tmp_path) -> Store:
    s = Store(tmp_path / "db.sqlite3")
    yield s
    s.close()


def test_fresh_database_is_at_latest_schema_in_wal_mode(store: Store) -> None:
    assert store.schema_version == len(MIGRATIONS)
    conn = store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopening_applies_no_migration_twice(tmp_path) -> None:
    Store(tmp_path / "db").close()
    again = Store(tmp_path / "db")
    assert again.schema_version == len(MIGRATIONS)
    again.close()


def test_migrates_forward_from_an_older_version(tmp_path) -> None:
    path = tmp_path / "db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    conn.execute("INSERT INTO meta(key, value) VALUES ('kept', 'yes')")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.schema_version == len(MIGRATIONS)
    assert store.get_meta("kept") == "yes"


def test_database_from_a_newer_version_is_refused(tmp_path) -> None:
    path = tmp_path / "db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer PicGuard"):
        Store(path)


def test_photo_round_trip_and_duplicate(store: Store) -> None:
    pid, created = store.add_photo(_photo(), b"fp", b"feat", 1, shoot="spring")
    assert created
    again, created_again = store.add_photo(_photo(), b"fp", b"feat", 1, shoot="spring")
    assert (again, created_again) == (pid, False)
    [row] = store.list_photos()
    assert row["sha256"] == "a" * 64 and row["shoot"] == "spring"
    assert row["camera_model"] == "EOS R6" and row["taken_at"].startswith("2024-03-01")
    assert [r["photo_id"] for r in store.photo_fingerprints()] == [pid]
    assert [p["id"] for p in store.shoot_photos("spring")] == [pid]


def test_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.tx() as c:
        c.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")
        raise RuntimeError("crash midway")
    assert store.get_meta("x") is None


def test_listing_keeps_first_seen_and_queues_only_new_images(store: Store) -> None:
    first = store.save_listing(_listing(), listing_key="ae:item:1", url="https://x/1",
                               source="extension", html="<html>v1</html>")
    assert first["is_new"] and first["images_new"] == 3
    listing = store.get_listing(first["listing_id"])
    second = store.save_listing(_listing(images=4), listing_key="ae:item:1",
                                url="https://x/1", source="extension", html="<html>v2</html>")
    assert not second["is_new"] and second["images_new"] == 1
    assert store.get_listing(first["listing_id"])["first_seen"] == listing["first_seen"]
    assert store.image_counts()["queued"] == 4
    assert len(store.pages_of_listing(first["listing_id"])) == 2


def test_blocked_page_keeps_the_images(store: Store) -> None:
    saved = store.save_listing(_listing(), listing_key="k", url="u", source="extension")
    store.save_listing(_listing(status="blocked", images=0), listing_key="k", url="u",
                       source="rescan")
    listing = store.get_listing(saved["listing_id"])
    assert listing["status"] == "blocked" and listing["needs_browser_visit"] == 1
    assert len(store.image_listings(1)) == 1


def test_fetch_queue_lease_retry_and_give_up(store: Store) -> None:
    store.save_listing(_listing(images=2), listing_key="k", url="u", source="x")
    claimed = store.claim_due_images(10)
    assert len(claimed) == 2
    assert store.claim_due_images(10) == []  # leased: a second worker gets nothing
    a, b = claimed
    store.image_fetched(a["id"], {"sha256": "f" * 64, "content_type": "image/jpeg"},
                        b"fp", 1, b"thumb")
    store.image_failed(b["id"], "timeout", "server too slow", retry_at="2000-01-01T00:00:00Z")
    assert [r["id"] for r in store.claim_due_images(10)] == [b["id"]]
    store.image_failed(b["id"], "timeout", "server too slow (gave up)", retry_at=None)
    image = store.get_image(b["id"])
    assert image["status"] == "failed" and image["attempts"] == 2
    assert "gave up" in image["error"]
    assert store.image_counts() == {"queued": 0, "fetched": 1, "failed": 1}
    assert [r["id"] for r in store.images_to_match(1, 10)] == [a["id"]]
    store.set_image_matched(a["id"], 1)
    assert store.images_to_match(1, 10) == []


def test_alert_once_per_pair_and_not_mine_suppresses(store: Store) -> None:
    pid, _ = store.add_photo(_photo(), b"fp", None, 1)
    store.save_listing(_listing(images=1), listing_key="k", url="u", source="x")
    match_id = store.record_match(pid, 1, "copy", 0.9, {"inliers": 80})
    kwargs = dict(match_id=match_id, photo_id=pid, image_id=1, listing_id=1, kind="copied",
                  own_time="2024-01-01T00:00:00Z", other_first_seen="2025-01-01T00:00:00Z",
                  notify=True)
    alert_id, created = store.create_alert(**kwargs)
    assert created and store.create_alert(**kwargs) == (alert_id, False)
    [row] = store.list_alerts()
    assert row["store_key"] == "777" and row["match_kind"] == "copy"
    assert [r["id"] for r in store.alerts_to_notify()] == [alert_id]
    store.alert_notified(alert_id)
    assert store.alerts_to_notify() == []
    assert store.set_alert_state(alert_id, "not_mine")
    assert store.is_suppressed(pid, "alicdn:kf/S10050010")
    assert store.list_alerts() == [] and store.alert_counts()["dismissed"] == 1
    assert not store.set_alert_state(9999, "confirm")


def test_connections_are_per_thread(store: Store) -> None:
    errors: list[Exception] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                store.set_meta(f"k{n}-{i}", str(i))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert store._conn().execute(
        "SELECT COUNT(*) FROM meta WHERE key LIKE 'k%'").fetchone()[0] == 80


def test_watches(store: Store) -> None:
    wid = store.add_watch("https://www.aliexpress.com/store/1", None)
    assert store.add_watch("https://www.aliexpress.com/store/1", None) == wid
    assert [w["id"] for w in store.due_watches()] == [wid]
    store.watch_visited(wid, status="failed", error="timeout", next_visit_at="2999-01-01T00:00:00Z")
    assert store.due_watches() == [] and store.list_watches()[0]["failures"] == 1
    assert store.remove_watch(wid) and not store.remove_watch(wid)


def _old_database_with_alerts(path) -> None:
    """A database at schema 7 holding a new, a confirmed and a dismissed alert."""
    conn = sqlite3.connect(path)
    for version, script in enumerate(MIGRATIONS[:7], start=1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
    t = "2026-11-29T10:00:00.000Z"
    conn.executescript(f"""
        INSERT INTO photos(id, sha256, path, file_name, size_bytes, registered_at)
            VALUES (1, 'aa', '/x/a.jpg', 'a.jpg', 1, '{t}');
        INSERT INTO images(id, image_key, url, first_seen, last_seen, status)
            VALUES (1, 'i1', 'https://x/1.jpg', '{t}', '{t}', 'fetched'),
                   (2, 'i2', 'https://x/2.jpg', '{t}', '{t}', 'fetched'),
                   (3, 'i3', 'https://x/3.jpg', '{t}', '{t}', 'fetched');
        INSERT INTO matches(id, photo_id, image_id, kind, score, details, created_at)
            VALUES (1, 1, 1, 'copy', 0.9, '{{}}', '{t}'), (2, 1, 2, 'copy', 0.8, '{{}}', '{t}'),
                   (3, 1, 3, 'copy', 0.7, '{{}}', '{t}');
        INSERT INTO alerts(match_id, photo_id, image_id, kind, state, other_first_seen,
                           created_at, updated_at, channel, notify_state)
            VALUES (1, 1, 1, 'copied', 'new', '{t}', '{t}', '{t}', 'browsing', 'pending'),
                   (2, 1, 2, 'unclear', 'confirmed', '{t}', '{t}', '{t}', NULL, 'sent'),
                   (3, 1, 3, 'copied', 'dismissed', '{t}', '{t}', '{t}', NULL, 'none');
    """)
    conn.close()


def test_migration_8_keeps_every_alert_and_allows_withdrawing_open_ones(tmp_path) -> None:
    _old_database_with_alerts(tmp_path / "db")
    store = Store(tmp_path / "db")
    assert store.schema_version == len(MIGRATIONS)
    assert [(a["state"], a["channel"]) for a in store.list_alerts(state="all")] == [
        ("new", "browsing"), ("confirmed", None), ("dismissed", None)]
    # the new one's pending notification is cancelled, and the pair's match follows the
    # current rule's finding; a dismissed alert is not open, so it is left as it is
    assert store.withdraw_alert(1, "similar_only", ("similar", 0.4, {"inliers": 41}))
    assert store.withdraw_alert(2, "no_match")
    assert not store.withdraw_alert(3, "no_match")
    assert not store.withdraw_alert(1, "no_match")  # already withdrawn
    one, two = store.get_alert(1), store.get_alert(2)
    assert (one["state"], one["withdrawn_reason"], one["notify_state"]) == (
        "withdrawn", "similar_only", "none")
    assert (one["match_kind"], one["score"]) == ("similar", 0.4)
    assert (two["state"], two["notify_state"], two["match_kind"]) == ("withdrawn", "sent", "copy")
    assert store.alerts_to_notify() == []
    assert store.alert_counts() == {"new": 0, "confirmed": 0, "dismissed": 1, "withdrawn": 2}
    assert store.alerts_for_images([1, 2, 3]) == []  # no on-page verdict rests on them
    store.close()
