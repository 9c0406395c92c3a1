"""The monitoring pipeline in process, against a local shop on 127.0.0.1: who came first,
own stores, descriptions, failures and retries, re-visits, notifications, the check."""

from __future__ import annotations

import pytest
from PIL import Image

from daemon.catalog.registration import register
from daemon.config import load_settings
from daemon.demo.shop import DemoItem, DemoShop, item_page, jpeg
from daemon.monitor.ingest import ingest_page
from daemon.monitor.pipeline import Pipeline
from daemon.monitor.verdicts import image_verdicts
from daemon.store import Store
from scraper.fetch import Fetcher
from tests.daemon_support import picguard


@pytest.fixture()
def shop():
    s = DemoShop().start()
    yield s
    s.stop()


@pytest.fixture()
def env(tmp_path, shop):
    settings = load_settings(tmp_path / "data")
    settings.allow_private_hosts = True
    settings.own_stores = ["aliexpress:100"]
    store = Store(settings.db_path)
    pipeline = Pipeline(settings, store, fetcher=Fetcher(allow_private=True, per_host_interval=0,
                                                         retries=0))
    yield settings, store, pipeline
    store.close()


def _push(settings, store, shop, product: str, store_id: str, images: list[str]) -> dict:
    item = DemoItem(product, store_id, f"Store {store_id}", f"Item {product}", images)
    shop.items[product] = item
    return ingest_page(store, settings, f"https://www.aliexpress.com/item/{product}.html",
                       item_page(item, shop.base_url))


def _photos(photos_dir, folder="dress", n=2):
    return sorted((photos_dir / "clothing" / folder).glob("*.jpg"))[:n]


def _camera_exports(paths, folder) -> list:
    """The photos as a camera exports them: a capture-time series months back (EXIF), so an
    honest verdict can call a later copy `copied` (daemon.monitor.verdict_rules)."""
    out = []
    for minute, src in enumerate(paths):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2026:03:01 10:{minute:02d}:00"
        dst = folder / f"IMG_{minute:04d}.jpg"
        Image.open(src).save(dst, "JPEG", quality=92, exif=exif)
        out.append(dst)
    return out


def test_copy_on_other_store_is_copied_and_own_store_is_yours(env, shop, photos_dir,
                                                              tmp_path) -> None:
    settings, store, pipeline = env
    a, b = _camera_exports(_photos(photos_dir), tmp_path)
    register(store, [a, b], shoot="spring")  # the series backs each capture time
    shop.images["Sown.jpg"] = a.read_bytes()
    shop.images["Scopy.jpg"] = jpeg(Image.open(a).resize((300, 400)), 55)
    _push(settings, store, shop, "1005000000000100", "100", ["Sown.jpg"])   # the seller's
    _push(settings, store, shop, "1005000000000200", "200", ["Scopy.jpg"])  # another store
    summary = pipeline.run_once()
    assert summary["fetch"]["fetched"] == 2
    [alert] = store.list_alerts()
    assert alert["kind"] == "copied" and alert["store_key"] == "200"
    assert store.get_capture(alert["image_id"])["sha256"]  # captured at first sight
    verdicts = image_verdicts(store, settings, "https://www.aliexpress.com/item/1.html",
                              [f"{shop.base_url}/kf/Sown.jpg", f"{shop.base_url}/kf/Scopy.jpg"])
    assert [v["verdict"] for v in verdicts] == ["yours", "copy_of_yours"]


def test_photo_registered_after_the_other_store_showed_it_resembles(env, shop,
                                                                     photos_dir) -> None:
    settings, store, pipeline = env
    [a] = _photos(photos_dir, "shirt", 1)
    shop.images["Searly.jpg"] = jpeg(Image.open(a), 80)
    # their server dates the image years back: the other store provably showed it first
    shop.headers["/kf/Searly.jpg"] = {"Last-Modified": "Wed, 01 Jan 2020 00:00:00 GMT"}
    _push(settings, store, shop, "1005000000000300", "300", ["Searly.jpg"])
    pipeline.run_once()
    assert store.list_alerts() == []
    register(store, [a])  # registered after the other store's first sighting, no EXIF time
    summary = pipeline.run_once()
    assert summary["reverse"]["alerts"] == 1
    [alert] = store.list_alerts()
    assert alert["kind"] == "resembles" and alert["own_time"] > alert["other_first_seen"]
    assert store.get_capture(alert["image_id"]) is not None  # fetched again for the evidence
    # The pre-publication check finds it too, and the CLI says so with exit code 1.
    proc = picguard("check", str(a), "--json", data_dir=settings.data_dir, check=False)
    assert proc.returncode == 1, proc.stderr
    assert '"store_id": "300"' in proc.stdout
    other = _photos(photos_dir, "hat", 1)[0]
    assert picguard("check", str(other), data_dir=settings.data_dir).returncode == 0


def test_missing_and_broken_images_fail_with_reasons(env, shop, photos_dir) -> None:
    settings, store, pipeline = env
    shop.images["Sbroken.jpg"] = b"\xff\xd8\xff\xe0 this is not a jpeg"
    _push(settings, store, shop, "1005000000000400", "400", ["Sgone.jpg", "Sbroken.jpg"])
    summary = pipeline.run_once()
    assert summary["fetch"]["failed"] == 2
    rows = {r["url"].rsplit("/", 1)[-1]: r for r in (store.get_image(i) for i in (1, 2))}
    gone, broken = rows["Sgone.jpg"], rows["Sbroken.jpg"]
    assert gone["status"] == "failed" and gone["error_code"] == "http_status"
    assert "404" in gone["error"]
    assert broken["status"] == "failed" and broken["error_code"] in {"bad_image",
                                                                     "bad_content_type"}
    assert broken["error"]


def test_unreachable_server_is_retried_later(env, shop) -> None:
    settings, store, pipeline = env
    _push(settings, store, shop, "1005000000000500", "500", ["Slater.jpg"])
    shop.stop()
    step = pipeline.fetch_due()
    assert step["retry"] == 1
    image = store.get_image(1)
    assert image["status"] == "queued" and image["next_attempt_at"] > image["first_seen"]
    assert image["error"]
    shop.server = None  # already stopped; the fixture's stop must not fail
    shop.stop = lambda: None


def test_description_images_count(env, shop, photos_dir) -> None:
    settings, store, pipeline = env
    [a] = _photos(photos_dir, "pants", 1)
    register(store, [a])
    shop.images["Sdesc.jpg"] = jpeg(Image.open(a), 70)
    shop.pages["/desc.htm"] = (
        f'<div class="detailmodule_html"><img data-src="{shop.base_url}/kf/Sdesc.jpg" '
        'src="data:image/gif;base64,R0lGOD"></div>'.encode(), "text/html")
    shop.images["Sgallery.jpg"] = _photos(photos_dir, "hat", 1)[0].read_bytes()
    item = DemoItem("1005000000000600", "600", "Store 600", "Item", ["Sgallery.jpg"])
    html = item_page(item, shop.base_url).replace(
        '"metaDataComponent"',
        f'"productDescComponent": {{"descriptionUrl": "{shop.base_url}/desc.htm"}}, '
        '"metaDataComponent"')
    answer = ingest_page(store, settings, "https://www.aliexpress.com/item/1005000000000600.html",
                         html)
    assert answer["status"] == "parsed"
    summary = pipeline.run_once()
    assert summary["descriptions"]["images_new"] == 1
    [alert] = store.list_alerts()
    assert alert["image_url"].endswith("/kf/Sdesc.jpg")


def test_watched_listing_behind_a_captcha_is_blocked_not_changed(env, shop, fixtures_dir,
                                                                photos_dir) -> None:
    settings, store, pipeline = env
    shop.images["Sg.jpg"] = _photos(photos_dir, "hat", 1)[0].read_bytes()
    _push(settings, store, shop, "1005000000000700", "700", ["Sg.jpg"])
    captcha = (fixtures_dir / "punish_captcha_item-url_2025_1005008204179129.html").read_bytes()
    shop.pages["/item/1005000000000700.html"] = (captcha, "text/html")
    store.add_watch(f"{shop.base_url}/item/1005000000000700.html", None)
    counts = pipeline.rescan_watches()
    assert counts == {"visited": 0, "blocked": 1, "failed": 0}
    [watch] = store.list_watches()
    assert watch["last_status"] == "blocked"


def test_failed_notification_is_recorded_and_retried(env, shop, photos_dir) -> None:
    settings, store, pipeline = env
    settings.notify_urls = ["json://127.0.0.1:9/nothing-listens-here"]
    [a] = _photos(photos_dir, "skirt", 1)
    register(store, [a])
    shop.images["Sc.jpg"] = jpeg(Image.open(a), 60)
    _push(settings, store, shop, "1005000000000800", "800", ["Sc.jpg"])
    summary = pipeline.run_once()
    assert summary["notify"] == {"sent": 0, "failed": 1}
    [alert] = store.list_alerts()
    assert alert["notify_state"] == "pending" and alert["notify_error"]
    assert store.alerts_to_notify() == []  # backed off, not hammered


def test_fingerprints_of_an_older_matcher_are_recomputed(env, shop, photos_dir,
                                                         tmp_path) -> None:
    settings, store, pipeline = env
    a, b = _camera_exports(_photos(photos_dir, "longsleeve", 2), tmp_path)
    moved = tmp_path / "moved.jpg"
    moved.write_bytes(b.read_bytes())
    register(store, [a, moved], shoot="longsleeves")
    # as if both were registered by an older PicGuard whose fingerprints no longer load
    for photo_id in (1, 2):
        store.update_photo_fingerprint(photo_id, b"old-format", b"old-format", 1)
    moved.unlink()  # one original is gone: it cannot be recomputed, and nothing breaks
    shop.images["Sup.jpg"] = jpeg(Image.open(a), 65)
    _push(settings, store, shop, "1005000000000900", "900", ["Sup.jpg"])
    summary = pipeline.run_once()
    assert summary["upgrade"] == {"upgraded": 1, "unavailable": 1}
    [alert] = store.list_alerts()
    assert alert["photo_id"] == 1 and alert["kind"] == "copied"


def test_alerts_a_newer_matcher_no_longer_supports_are_withdrawn(env, shop, photos_dir,
                                                                 tmp_path) -> None:
    """After a matcher upgrade every image is matched again; an open alert whose captured
    image the current rule does not call a copy is withdrawn, with its reason, and no
    evidence pack is made for it. A true copy's alert stands."""
    from daemon.evidence.facts import EvidenceError, gather
    from daemon.matching.compare import MATCHER_VERSION
    from daemon.monitor.alerts import raise_alert

    settings, store, pipeline = env
    a, b = _camera_exports(_photos(photos_dir), tmp_path)
    register(store, [a, b], shoot="spring")
    [other] = _photos(photos_dir, "hat", 1)
    shop.images["Scopy.jpg"] = jpeg(Image.open(a).resize((300, 400)), 55)
    shop.images["Shat.jpg"] = jpeg(Image.open(other), 80)
    _push(settings, store, shop, "1005000000000200", "200", ["Scopy.jpg"])
    _push(settings, store, shop, "1005000000000300", "300", ["Shat.jpg"])
    pipeline.run_once()
    [true_alert] = store.list_alerts()
    hat = 3 - true_alert["image_id"]  # images 1 and 2
    assert store.get_image(hat)["url"].endswith("/Shat.jpg")
    # what an older rule might have said of the hat: a copy of the seller's first photo
    false_id = raise_alert(store, settings, photo=store.get_photo(true_alert["photo_id"]),
                           image=store.get_image(hat), kind="copy", score=0.6,
                           details={"inliers": 30})
    store.save_capture(hat, store.get_image(hat)["url"], shop.images["Shat.jpg"], {})
    for image_id in (1, 2):  # as if matched by the older matcher
        store.set_image_matched_against(image_id, MATCHER_VERSION - 1, 0)

    result = pipeline.match_pending()
    assert (result["matched"], result["withdrawn"]) == (2, 1)
    withdrawn, kept = store.get_alert(false_id), store.get_alert(true_alert["id"])
    assert (withdrawn["state"], withdrawn["withdrawn_reason"]) == ("withdrawn", "no_match")
    assert kept["state"] == "new"
    with pytest.raises(EvidenceError) as refused:
        gather(store, settings, false_id)
    assert refused.value.code == "alert_withdrawn"
    listed = picguard("alerts", "--all", data_dir=settings.data_dir).stdout
    assert "withdrawn: PicGuard's updated matcher compared your photo" in listed
    assert pipeline.match_pending()["matched"] == 0  # done once per upgrade
