"""The dashboard's API routes in process (Flask test client) over the demo's real data."""

from __future__ import annotations

import base64
import io
import json
import shutil
import time
from pathlib import Path

import pytest
from PIL import Image

from daemon.config import load_settings
from daemon.demo.seed import PHOTOS, run_demo
from daemon.web.app import create_app
from tests.daemon_support import Receiver

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("dash") / "data"
    pipeline, shop = run_demo(load_settings(data), say=lambda line: None)
    app = create_app(pipeline.settings, pipeline=pipeline)
    token = pipeline.settings.token_path.read_text().strip()
    client = app.test_client()
    base = f"http://127.0.0.1:{pipeline.settings.port}"
    headers = {"Authorization": f"Bearer {token}"}

    class Api:
        settings = pipeline.settings
        store = pipeline.store

        def get(self, path, **kw):
            return client.get(f"/api/v1/{path}", base_url=base, headers=headers, **kw)

        def post(self, path, payload=None, **kw):
            kw.setdefault("headers", headers)
            if "data" not in kw:
                kw["json"] = payload if payload is not None else {}
            return client.post(f"/api/v1/{path}", base_url=base, **kw)

        def raw(self):
            return client, base

    yield Api()
    shop.stop()
    pipeline.store.close()


def test_demo_alerts_are_copied_with_their_times(demo) -> None:
    body = demo.get("alerts/search?state=all").get_json()
    assert body["total"] == 3 and {a["kind"] for a in body["alerts"]} == {"copied"}
    verdict = body["alerts"][0]["verdict"]
    assert verdict["reason"] == "own_capture_shoot_earlier"
    assert [f["source"] for f in verdict["facts"]][0] == "capture_shoot"


def test_search_filters_and_facets(demo) -> None:
    facets = demo.get("alerts/facets").get_json()
    assert facets["kinds"] == {"copied": 3}
    assert facets["marketplaces"] == ["aliexpress"]
    assert [s["store_key"] for s in facets["stores"]] == ["900002"]
    assert demo.get("alerts/search?kind=unclear&state=all").get_json()["total"] == 0
    assert demo.get("alerts/search?store=900002&state=all").get_json()["total"] == 3
    assert demo.get("alerts/search?store=nope&state=all").get_json()["total"] == 0
    assert demo.get("alerts/search?marketplace=aliexpress&limit=2").get_json()["alerts"][1]
    page = demo.get("alerts/search?state=all&limit=1&offset=1&thumbs=1").get_json()
    assert len(page["alerts"]) == 1 and page["alerts"][0]["other"]["thumb"].startswith("data:")
    bad = demo.get("alerts/search?kind=stolen")
    assert bad.status_code == 400 and bad.get_json()["code"] == "bad_kind"


def test_compare_png_is_the_side_by_side_picture(demo) -> None:
    r = demo.get("alerts/1/compare.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    with Image.open(io.BytesIO(r.data)) as im:
        assert im.format == "PNG" and im.width > im.height > 400
    assert demo.get("alerts/999/compare.png").status_code == 404


def test_bulk_actions_change_state(demo) -> None:
    ids = [a["id"] for a in demo.get("alerts/search?state=all").get_json()["alerts"]]
    r = demo.post("alerts/bulk", {"ids": ids[:2] + [4242], "action": "confirm"})
    body = r.get_json()
    assert r.status_code == 200 and sorted(body["changed"]) == sorted(ids[:2])
    assert body["missing"] == [4242] and body["counts"]["confirmed"] == 2
    assert demo.get("alerts/search?state=confirmed").get_json()["total"] == 2
    demo.post("alerts/bulk", {"ids": ids[:2], "action": "dismiss"})
    assert demo.get("alerts/search?state=dismissed").get_json()["total"] == 2
    for payload in ({"ids": [], "action": "confirm"}, {"ids": ["1"], "action": "confirm"},
                    {"ids": [1], "action": "delete"}):
        assert demo.post("alerts/bulk", payload).status_code == 400


def test_catalog_lists_by_shoot_with_where_found(demo) -> None:
    body = demo.get("catalog").get_json()
    assert body["total"] == 4 and body["shoots"] == [{"name": "demo-spring", "photos": 4}]
    by_name = {p["file_name"]: p for p in body["photos"]}
    assert by_name["dress-red.jpg"]["taken_at"].startswith("2026-03-14")
    assert by_name["dress-red.jpg"]["camera_model"] == "Demo camera"
    assert by_name["pants.jpg"]["found"] == []
    thumb = demo.get(f"catalog/{by_name['pants.jpg']['id']}/thumb")
    assert thumb.mimetype == "image/jpeg" and thumb.data[:2] == b"\xff\xd8"


def test_upload_registers_and_guards(demo, photos_dir) -> None:
    source = sorted((photos_dir / "clothing/hat").glob("*.jpg"))[3]
    form = {"file": (io.BytesIO(source.read_bytes()), source.name), "shoot": "uploads"}
    r = demo.post("catalog/upload", data=form, content_type="multipart/form-data")
    body = r.get_json()
    assert r.status_code == 200 and body["outcome"] == "added", body
    stored = Path(body["path"])
    assert stored.parent == demo.settings.data_dir / "originals"
    assert stored.read_bytes() == source.read_bytes()
    again = demo.post("catalog/upload", data={"file": (io.BytesIO(source.read_bytes()),
                                                       source.name)},
                      content_type="multipart/form-data").get_json()
    assert again["outcome"] == "duplicate"
    listed = demo.get("catalog?shoot=uploads").get_json()
    assert [p["file_name"] for p in listed["photos"]] == [stored.name]
    # not an image; JSON instead of multipart; no token
    text = demo.post("catalog/upload", data={"file": (io.BytesIO(b"hello"), "notes.txt")},
                     content_type="multipart/form-data")
    assert text.status_code == 415
    assert demo.post("catalog/upload", {"file": "x"}).status_code == 415
    client, base = demo.raw()
    anon = client.post("/api/v1/catalog/upload", base_url=base, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(source.read_bytes()), source.name)})
    assert anon.status_code == 401


def test_folder_job_shoot_and_remove(demo, photos_dir, tmp_path) -> None:
    folder = tmp_path / "spring"
    folder.mkdir()
    for p in sorted((photos_dir / "clothing/pants").glob("*.jpg"))[5:8]:
        shutil.copy(p, folder / p.name)
    r = demo.post("catalog/folder", {"path": str(folder), "shoot": "spring"})
    assert r.status_code == 202
    job = r.get_json()
    assert job["total"] == 3
    deadline = time.monotonic() + 60
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        job = demo.get(f"catalog/jobs/{job['id']}").get_json()
    assert job["state"] == "done" and job["added"] == 3 and job["done"] == 3, job
    photos = demo.get("catalog?shoot=spring").get_json()["photos"]
    ids = [p["id"] for p in photos]
    moved = demo.post("catalog/shoot", {"ids": ids[:1], "shoot": "summer"}).get_json()
    assert moved["changed"] == 1
    assert demo.get("catalog?shoot=summer").get_json()["total"] == 1
    removed = demo.post("catalog/remove", {"ids": ids}).get_json()
    assert sorted(removed["removed"]) == sorted(ids) and removed["files_kept"]
    assert all((folder / p["file_name"]).exists() for p in photos)  # files never deleted
    assert demo.get("catalog?shoot=spring").get_json()["total"] == 0
    assert demo.post("catalog/folder", {"path": "relative/dir"}).status_code == 400
    assert demo.post("catalog/folder", {"path": str(tmp_path / "nope")}).status_code == 404


def test_check_compare_picture(demo) -> None:
    image_id = demo.get("alerts/1").get_json()["other"]["image_id"]
    photo = base64.b64encode((PHOTOS / "dress-red.jpg").read_bytes()).decode()
    r = demo.post("check/compare.png", {"image": photo, "image_id": image_id})
    assert r.status_code == 200 and r.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert demo.post("check/compare.png", {"image": "@@", "image_id": 1}).status_code == 400


def test_settings_notify_test_and_token(demo) -> None:
    receiver = Receiver()
    try:
        body = demo.post("settings", {"own_stores": ["aliexpress:900001", "ebay:shop_1"],
                                      "notify_urls": [receiver.url]}).get_json()
        assert body["own_stores"] == ["aliexpress:900001", "ebay:shop_1"]
        saved = json.loads(demo.settings.settings_path.read_text("utf-8"))
        assert saved["notify_urls"] == [receiver.url]
        ok = demo.post("settings/notify-test").get_json()
        assert ok == {"ok": True, "error": None, "channels": 1}
        assert receiver.bodies and "PicGuard" in receiver.bodies[-1]["title"]
        failing = demo.post("settings/notify-test",
                            {"urls": ["json://127.0.0.1:9/closed"]}).get_json()
        assert failing["ok"] is False and failing["error"]
    finally:
        receiver.stop()
        demo.post("settings", {"notify_urls": []})
    for payload, code in (({"own_stores": ["900001"]}, "bad_store"),
                          ({"own_stores": ["amazonx:1"]}, "bad_store"),
                          ({"notify_urls": ["nonsense"]}, "bad_notify_url"),
                          ({}, "nothing_to_change")):
        r = demo.post("settings", payload)
        assert r.status_code == 400 and r.get_json()["code"] == code
    old = demo.settings.token_path.read_text().strip()
    assert demo.post("token/rotate").status_code == 400  # needs {"confirm": true}
    new = demo.post("token/rotate", {"confirm": True}).get_json()["token"]
    assert new != old and demo.settings.token_path.read_text().strip() == new
    client, base = demo.raw()
    assert client.get("/api/v1/settings", base_url=base,
                      headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/api/v1/settings", base_url=base,
                      headers={"Authorization": f"Bearer {new}"}).status_code == 200
    # the fixture's client keeps the old token: put it back for the other tests
    demo.settings.token_path.write_text(old + "\n")


def test_ledger_head_and_verify(demo) -> None:
    head = demo.get("ledger").get_json()
    assert head["entries"] >= 4 and len(head["head"]["entry_hash"]) == 64
    result = demo.post("ledger/verify").get_json()
    assert result["ok"] is True and result["entries"] == head["entries"]


def test_monitoring_overview_and_run(demo) -> None:
    body = demo.get("monitoring").get_json()
    assert body["queue"]["counts"]["fetched"] == 9 and body["jobs"][0] == "fetch"
    r = demo.post("monitoring/run", {"job": "fetch"})
    assert r.status_code == 409 and r.get_json()["code"] == "not_running"
    assert demo.post("monitoring/run", {"job": "explode"}).status_code == 400
    watch = demo.post("watch", {"url": "https://www.aliexpress.com/item/1005000000000002.html"})
    watch_id = watch.get_json()["watch_id"]
    assert demo.post(f"watch/{watch_id}/run").get_json() == {"watch_id": watch_id,
                                                             "queued": True}
    assert demo.post("watch/99999/run").status_code == 404


def test_dashboard_page_is_static_with_strict_csp(demo) -> None:
    client, base = demo.raw()
    r = client.get("/", base_url=base)
    assert r.status_code == 200 and b'type="module"' in r.data and b"<script>" not in r.data
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    for path in ("/static/js/app.js", "/static/i18n/zh.json", "/static/dashboard.css"):
        assert client.get(path, base_url=base).status_code == 200
    # a hostile page's Origin is refused before the token is even looked at
    evil = client.get("/api/v1/alerts/search", base_url=base,
                      headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    # state changes need a JSON body: a form post is refused
    form = demo.post("alerts/bulk", data="ids=1&action=dismiss",
                     content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415


def test_catalogs_match_each_other_and_the_verdict_words() -> None:
    from daemon.monitor.verdict_rules import KIND_WORDS

    static = REPO / "daemon/web/static"
    en = json.loads((static / "i18n/en.json").read_text("utf-8"))
    zh = json.loads((static / "i18n/zh.json").read_text("utf-8"))
    assert set(en) == set(zh)
    for kind, words in KIND_WORDS.items():
        assert en[f"verdict_{kind}"] == words["en"][0] and zh[f"verdict_{kind}"] == words["zh"][0]
        assert en[f"verdict_{kind}_text"] == words["en"][1]
    import re

    source = "".join(p.read_text("utf-8") for p in (static / "js").rglob("*.js"))
    used = set(re.findall(r'\bt\("([a-z0-9_]+)"', source))
    assert used - set(en) == set(), used - set(en)


def test_a_withdrawn_alert_is_listed_as_such_and_gets_no_evidence_pack(demo) -> None:
    ids = sorted(a["id"] for a in demo.get("alerts/search?state=new").get_json()["alerts"])
    assert demo.store.withdraw_alert(ids[-1], "no_match")  # as monitor.alerts.review_alerts
    [listed] = demo.get("alerts?state=withdrawn&thumbs=0").get_json()["alerts"]
    assert listed["id"] == ids[-1] and listed["state"] == "withdrawn"
    assert listed["withdrawn"]["reason"] == "no_match"
    assert listed["withdrawn"]["zh"] and "not the same photo" in listed["withdrawn"]["en"]
    assert demo.get("alerts/search?state=withdrawn").get_json()["total"] == 1
    assert all(a["id"] != ids[-1] for a in demo.get("alerts?state=new").get_json()["alerts"])
    r = demo.get(f"alerts/{ids[-1]}/evidence?include_gps=1")
    assert r.status_code == 409 and r.get_json()["code"] == "alert_withdrawn"
    bad = demo.get("alerts?state=gone")
    assert bad.status_code == 400 and "withdrawn" in bad.get_json()["error"]


def test_a_withdrawn_alert_can_be_dismissed_but_not_confirmed(demo) -> None:
    [withdrawn] = demo.get("alerts?state=withdrawn&thumbs=0").get_json()["alerts"]
    r = demo.post(f"alerts/{withdrawn['id']}", {"action": "confirm"})
    assert r.status_code == 409 and r.get_json()["code"] == "alert_withdrawn"
    assert "cannot be confirmed" in r.get_json()["error"]
    bulk = demo.post("alerts/bulk", {"ids": [withdrawn["id"]], "action": "confirm"}).get_json()
    assert (bulk["changed"], bulk["refused"], bulk["missing"]) == ([], [withdrawn["id"]], [])
    assert demo.get(f"alerts/{withdrawn['id']}").get_json()["state"] == "withdrawn"
    assert demo.post(f"alerts/{withdrawn['id']}", {"action": "dismiss"}).status_code == 200
