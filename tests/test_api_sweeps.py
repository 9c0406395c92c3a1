"""The discovery contract over HTTP (docs/API.md "Discovery"): results pushes, sweeps,
the photo endpoint, outcomes, coverage and settings; in process (Flask client, with a real
pipeline fetching from a local image server) and against the real daemon process."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from daemon.catalog.registration import register
from daemon.config import load_settings
from daemon.monitor.pipeline import Pipeline
from daemon.store import Store
from daemon.web.app import create_app
from scraper.aliexpress_results import INIT_END, INIT_START
from scraper.fetch import Fetcher
from tests.daemon_support import Daemon

BASE = "http://127.0.0.1:8765"
SEARCH_URL = "https://www.aliexpress.com/w/wholesale-dress.html?SearchText=dress"
CHANNELS = {"browsing", "results", "image_search", "keyword_sweep", "store_sweep", "watch"}
COVERAGE_KEYS = {"listings_today", "listings_total", "images_today", "images_total",
                 "sweeps_done", "sweeps_blocked", "next_due"}


def results_page(items: list[tuple[str, str]]) -> str:
    """A live-shaped results page: (product id, main image URL) per card."""
    content = [{"productId": pid, "title": {"displayTitle": f"dress {pid}"},
                "image": {"imgUrl": url}, "store": {"storeId": 900 + i, "storeName": f"S{i}"}}
               for i, (pid, url) in enumerate(items)]
    return (f"<html><body><script>{INIT_START}window._dida_config_._init_data_ = {{ data: "
            + json.dumps({"root": {"fields": {"mods": {"itemList": {"content": content}}}}})
            + f" }}{INIT_END}</script></body></html>")


class Client:
    def __init__(self, app):
        self.inner = app.test_client()
        token = app.extensions["picguard"]["settings"].token_path.read_text().strip()
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path):
        return self.inner.get(f"/api/v1/{path}", base_url=BASE, headers=self.headers)

    def post(self, path, payload=None):
        return self.inner.post(f"/api/v1/{path}", base_url=BASE, json=payload,
                               headers=self.headers)


@pytest.fixture()
def engine(tmp_path, photos_dir):
    settings = load_settings(tmp_path)
    settings.allow_private_hosts = True  # card images come from a local server
    store = Store(settings.db_path)
    originals = sorted((photos_dir / "clothing-train" / "dress").glob("*.jpg"))[:3]
    register(store, originals, workers=1)
    pipeline = Pipeline(settings, store, fetcher=Fetcher(allow_private=True,
                                                          per_host_interval=0))
    app = create_app(settings, pipeline)
    yield Client(app), pipeline, originals
    store.close()


def edited_copy(path: Path) -> bytes:
    """A copier's version: cropped 6% a side and recompressed."""
    with Image.open(path) as img:
        w, h = img.size
        out = io.BytesIO()
        img.convert("RGB").crop((w * 6 // 100, h * 6 // 100, w - w * 6 // 100,
                                 h - h * 6 // 100)).save(out, "JPEG", quality=80)
        return out.getvalue()


def test_image_search_sweep_end_to_end_records_the_channel(engine, httpserver, photos_dir):
    client, pipeline, originals = engine
    # the marketplace's CDN: one edited copy of catalog photo 2, two unrelated photos
    unrelated = sorted((photos_dir / "appliances").glob("*.webp"))[:2]
    assert len(unrelated) == 2
    httpserver.expect_request("/kf/copy.jpg").respond_with_data(
        edited_copy(originals[1]), content_type="image/jpeg")
    for i, path in enumerate(unrelated):
        httpserver.expect_request(f"/kf/other{i}.jpg").respond_with_data(
            path.read_bytes(), content_type="image/webp")
    cards = [("1005000000001", httpserver.url_for("/kf/other0.jpg")),
             ("1005000000002", httpserver.url_for("/kf/copy.jpg")),
             ("1005000000003", httpserver.url_for("/kf/other1.jpg"))]

    # consent off: the sweep is queued but nothing is handed out and no photo is served
    r = client.post("sweeps", {"kind": "image", "photo_ids": [2]})
    assert r.status_code == 201 and r.get_json()["paused"]["reason"] == "consent"
    body = client.get("sweeps/next").get_json()
    assert body["task"] is None and body["paused"]["reason"] == "consent"
    r = client.get("sweeps/1/image")
    assert r.status_code == 403 and r.get_json()["code"] == "consent_needed"

    r = client.post("settings/discovery", {"image_search_consent": True})
    assert r.status_code == 200 and r.get_json()["image_search_consent"] is True
    body = client.get("sweeps/next").get_json()
    task = body["task"]
    assert task == {"id": 1, "kind": "image", "marketplace": "aliexpress", "url": None,
                    "photo_id": 2, "image": "/api/v1/sweeps/1/image", "keyword": None,
                    "page": None, "store_id": None, "sweep_id": 1}
    assert body["paused"] is None and body["budget"]["used_today"] == 1
    r = client.get("sweeps/1/image")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(r.data)).format == "JPEG"

    # the extension pushes the image-search results page, then reports the outcome
    r = client.post("pages", {"url": "https://www.aliexpress.com/p/search-by-image/index.html",
                              "html": results_page(cards), "channel": "image_search",
                              "sweep_id": 1})
    answer = r.get_json()
    assert r.status_code == 200 and answer["kind"] == "results"
    assert answer["status"] == "parsed" and answer["listings"] == {"total": 3, "new": 3}
    assert answer["images"]["new"] == 3
    r = client.post("sweeps/1/result", {"status": "done", "pages": 1, "error": None})
    assert r.status_code == 200 and r.get_json()["task"]["state"] == "done"

    step = pipeline.fetch_due()
    assert step["fetched"] == 3 and step["failed"] == step["retry"] == 0
    alerts = client.get("alerts?state=all&thumbs=0").get_json()["alerts"]
    assert len(alerts) == 1
    assert alerts[0]["channel"] == "image_search" and alerts[0]["own"]["photo_id"] == 2
    assert alerts[0]["other"]["listing_url"] == "https://www.aliexpress.com/item/1005000000002.html"

    coverage = client.get("coverage").get_json()
    assert set(coverage) == CHANNELS and all(set(v) == COVERAGE_KEYS for v in coverage.values())
    assert coverage["image_search"]["listings_total"] == 3
    assert coverage["image_search"]["images_total"] == 3
    assert coverage["image_search"]["sweeps_done"] == 1
    assert client.get("status").get_json()["coverage"] == coverage

    listed = {s["id"]: s for s in client.get("sweeps").get_json()["sweeps"]}
    assert listed[1]["tasks"][0]["listings_new"] == 3 and listed[1]["states"] == {"done": 1}
    # consent also put the other catalog photos on the weekly schedule
    assert [t["photo_id"] for s in listed.values() if s["origin"] == "schedule"
            for t in s["tasks"]] == [1, 3]


def test_contract_validation_in_process(engine) -> None:
    client, _, _ = engine
    bad = [("pages", {"url": SEARCH_URL, "html": "<p>x</p>", "channel": "telepathy"}, 400),
           ("pages", {"url": SEARCH_URL, "html": "<p>x</p>", "sweep_id": "1"}, 400),
           ("sweeps", {"kind": "everything"}, 400),
           ("sweeps", {"kind": "store", "store_id": "../1"}, 400),
           ("sweeps", {"kind": "keyword"}, 400),
           ("sweeps", {"kind": "image", "photo_ids": "all"}, 400),
           ("sweeps/77/result", {"status": "done", "pages": 1}, 404),
           ("settings/discovery", {"per_day": -1}, 400),
           ("settings/discovery", [1], 400)]
    for path, payload, status in bad:
        r = client.post(path, payload)
        assert r.status_code == status, (path, payload, r.get_json())
        body = r.get_json()
        assert body["error"] and body["code"], body
    assert client.get("sweeps/77/image").status_code == 403  # consent comes first
    client.post("settings/discovery", {"image_search_consent": True})
    assert client.get("sweeps/77/image").get_json()["code"] == "no_task"
    r = client.inner.post("/api/v1/sweeps", base_url=BASE, data="kind=image",
                          headers={**client.headers, "Content-Type": "text/plain"})
    assert r.status_code == 415


def test_real_daemon_serves_the_discovery_contract(data_dir: Path, shared_dir: Path) -> None:
    raw = (shared_dir / "fixtures" / "aliexpress-search" / "searchShorts.js").read_text()
    items = json.JSONDecoder().raw_decode(raw[raw.index("{"):])[0]
    page = (f"<script>{INIT_START}window._dida_config_._init_data_ = {{ data: "
            + json.dumps({"root": {"fields": {"mods": {"itemList": items}}}}) + f" }}{INIT_END}"
            "</script>")
    captcha = (shared_dir / "fixtures" / "aliexpress-search" /
               "NEGATIVE_hendkai_aliexpress_search_captcha-punish-page.html").read_text()
    daemon = Daemon(data_dir).start()
    try:
        assert daemon.get("coverage", headers={}).status_code == 401
        r = daemon.post("pages", {"url": SEARCH_URL, "html": page, "channel": "results"})
        body = r.json()
        assert r.status_code == 200 and body["kind"] == "results" and body["status"] == "parsed"
        assert body["listings"] == {"total": 60, "new": 60}
        assert body["images"]["total"] == 358 and body["images"]["new"] == 354
        again = daemon.post("pages", {"url": SEARCH_URL, "html": page, "channel": "results"})
        assert again.json()["listings"] == {"total": 60, "new": 0}

        assert daemon.post("settings/discovery", {"keywords": ["shorts"],
                                                  "min_interval_s": 1}).ok
        started = daemon.post("sweeps", {"kind": "keyword"}).json()
        assert started["tasks"] == 2
        nxt = daemon.get("sweeps/next").json()
        assert nxt["task"]["kind"] == "keyword" and "SearchText=shorts" in nxt["task"]["url"]
        task_id = nxt["task"]["id"]
        r = daemon.post("pages", {"url": nxt["task"]["url"], "html": captcha,
                                  "channel": "keyword_sweep", "sweep_id": task_id})
        assert r.json()["status"] == "blocked" and r.json()["kind"] == "results"
        daemon.post(f"sweeps/{task_id}/result", {"status": "blocked", "pages": 1,
                                                 "error": "captcha"})
        paused = daemon.wait_for(lambda: daemon.get("sweeps/next").json()["paused"])
        assert paused["reason"] == "blocked" and paused["until"] and paused["message"]

        coverage = daemon.get("coverage").json()
        assert coverage["results"]["listings_total"] == 60
        assert coverage["keyword_sweep"]["sweeps_blocked"] >= 1
        status = daemon.get("status").json()
        assert status["coverage"]["results"]["images_total"] == 354
        assert daemon.get("sweeps/1/image").json()["code"] == "consent_needed"
        assert daemon.get("settings/discovery").json()["keywords"] == ["shorts"]
    finally:
        daemon.stop()


def test_captured_answers_reach_the_results_parser(tmp_path, shared_dir) -> None:
    """The extension sends scrolled-in answers as `captured: [{url, json}]`: the daemon
    stores their cards as listings, as it does for the page's own items."""
    from daemon.config import load_settings
    from daemon.web.app import create_app
    from tests.test_aliexpress_results import SEARCH_URL, item_list, live_page

    search = shared_dir / "fixtures" / "aliexpress-search"
    first, second = item_list(search, "searchShorts.js"), item_list(search, "searchTShirts.js")
    answer = {"api": "mtop.relationrecommend.wirelessrecommend.recommend",
              "data": {"data": {"result": {"mods": {"itemList": second}}}}}
    settings = load_settings(tmp_path)
    app = create_app(settings)
    try:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {settings.token_path.read_text().strip()}"}
        base = f"http://127.0.0.1:{settings.port}"
        body = {"url": SEARCH_URL, "html": live_page(first), "channel": "results",
                "captured": [{"url": "https://acs.aliexpress.com/h5/mtop.x/1.0/", "json": answer}]}
        got = client.post("/api/v1/pages", base_url=base, json=body, headers=headers)
        assert got.status_code == 200, got.get_json()
        assert got.get_json()["listings"] == {"total": 120, "new": 120}
        bad = client.post("/api/v1/pages", base_url=base, headers=headers,
                          json={**body, "captured": [{"url": "x", "json": "not an object"}]})
        assert bad.status_code == 400 and bad.get_json()["code"] == "bad_field"
    finally:
        app.extensions["picguard"]["pipeline"].store.close()
