"""POST /api/v1/check as a job: answered within its budget even while a reverse pass runs,
otherwise 202 and polled; real app, real photos, real index."""

from __future__ import annotations

import base64
import io
import threading
import time

import pytest
from flask import Flask
from PIL import Image

from daemon.catalog.registration import register
from daemon.config import load_settings
from daemon.matching.compare import ANALYSIS_VERSION, analyse
from daemon.matching.imageio import make_thumbnail
from daemon.monitor.pipeline import Pipeline
from daemon.store import Store
from daemon.web.api_check import create_check_api
from daemon.web.app import create_app

BASE = "http://127.0.0.1:8765"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _jpeg(path, scale=0.8, quality=70) -> bytes:
    im = Image.open(path).convert("RGB")
    out = io.BytesIO()
    im.resize((int(im.width * scale), int(im.height * scale))).save(out, "JPEG", quality=quality)
    return out.getvalue()


def _seen(store: Store, pipeline: Pipeline, n: int, data: bytes) -> int:
    """A competitor image as the fetch stores it (listing, fetch record, index entry)."""
    listing = {"marketplace": "aliexpress", "store_id": f"s{n}", "store_name": f"Shop {n}",
               "status": "ok", "title": "t",
               "images": [{"key": f"img{n}", "url": f"https://ae01.alicdn.com/kf/S{n}.jpg"}]}
    store.save_listing(listing, listing_key=f"aliexpress:{n}",
                       url=f"https://www.aliexpress.com/item/{n}.html", source="extension")
    [row] = store.claim_due_images(1)
    a = analyse(data)
    store.image_fetched(row["id"], {"sha256": a.sha256, "width": a.width, "height": a.height},
                        a.fingerprint.to_bytes(), ANALYSIS_VERSION, make_thumbnail(data))
    pipeline.competitors.add(row["id"], a.fingerprint.phash, a.features.descriptors,
                             a.features.points)
    return row["id"]


@pytest.fixture()
def app(tmp_path):
    app = create_app(load_settings(tmp_path))
    yield app
    app.extensions["picguard"]["pipeline"].store.close()


def test_check_is_answered_while_a_reverse_pass_runs(app, photos_dir) -> None:
    pipeline = app.extensions["picguard"]["pipeline"]
    store = pipeline.store
    photos = sorted((photos_dir / "clothing" / "pants").glob("*.jpg"))[:6]
    register(store, photos[1:])
    copied = _seen(store, pipeline, 1, _jpeg(photos[0]))
    for n, p in enumerate(photos[1:3], start=2):
        _seen(store, pipeline, n, _jpeg(p, 0.7, 60))
    # The reverse pass is held inside its first progress report (after one photo), so it
    # is provably running while the check is asked and answered.
    started, release = threading.Event(), threading.Event()

    def hold(stage, done, total):
        started.set()
        release.wait(120)

    reverse = threading.Thread(target=pipeline.reverse_match, kwargs={"progress": hold})
    reverse.start()
    try:
        assert started.wait(120)
        token = app.extensions["picguard"]["settings"].token_path.read_text().strip()
        t = time.monotonic()
        r = app.test_client().post("/api/v1/check", base_url=BASE,
                                   headers={"Authorization": f"Bearer {token}"},
                                   json={"image": _b64(photos[0].read_bytes())})
        took = time.monotonic() - t
        assert reverse.is_alive()
        assert took < 10
        body = r.get_json()
        while r.status_code == 202:  # over its budget on a busy machine: poll the job
            r = app.test_client().get(body["poll"], base_url=BASE,
                                      headers={"Authorization": f"Bearer {token}"})
            body = r.get_json()
        assert r.status_code == 200, body
        assert body["resembles"] and [h["image_id"] for h in body["hits"]] == [copied]
    finally:
        release.set()
        reverse.join(120)


def test_a_slow_check_is_queued_and_polled(tmp_path, photos_dir) -> None:
    settings = load_settings(tmp_path)
    store = Store(settings.db_path)
    pipeline = Pipeline(settings, store)
    app = Flask(__name__)
    app.register_blueprint(create_check_api(pipeline, budget_s=0.0))
    client = app.test_client()
    photo = sorted((photos_dir / "clothing" / "hat").glob("*.jpg"))[0]
    _seen(store, pipeline, 1, _jpeg(photo))
    r = client.post("/api/v1/check", json={"image": _b64(photo.read_bytes())})
    if r.status_code == 202:
        body = r.get_json()
        assert body["status"] in ("queued", "running") and body["poll"].endswith(body["job"])
        deadline = time.monotonic() + 120
        while r.status_code == 202:  # 202 until the job has finished
            assert time.monotonic() < deadline
            r = client.get(body["poll"])
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "done" and body["resembles"]
    assert client.get("/api/v1/check/nosuchjob").status_code == 404
    bad = client.post("/api/v1/check", json={"image": _b64(b"not an image")})
    while bad.status_code == 202:
        bad = client.get(bad.get_json()["poll"])
    assert bad.status_code == 422 and bad.get_json()["code"] == "bad_image"
    store.close()
