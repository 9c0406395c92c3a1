"""Daemon benchmark: push-to-stored latency and images fetched+fingerprinted per second.

    python3 bench/daemon.py [--pushes 40] [--images 200]

1. Push-to-stored: the largest real fixture page POSTed to a real waitress server in this
   process (token, Host/Origin checks, parse, one SQLite transaction), median and p95; against
   a naive handler (BeautifulSoup html.parser over the whole page, og:image, one autocommit
   INSERT per image) run in the same process.
2. Fetch+fingerprint throughput from a local HTTP server on 127.0.0.1: the pipeline (bounded
   thread pool, full analysis: SHA-256, hashes, features, thumbnail, match against a catalog)
   against a naive sequential loop of requests.get + imagehash.phash(Image.open(...)).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("PICGUARD_SHARED", REPO.parent / "shared"))

import imagehash  # noqa: E402
import waitress  # noqa: E402
from bs4 import BeautifulSoup  # noqa: E402
from PIL import Image  # noqa: E402

from daemon.catalog.registration import register  # noqa: E402
from daemon.config import load_settings  # noqa: E402
from daemon.demo.shop import DemoShop  # noqa: E402
from daemon.monitor.pipeline import Pipeline  # noqa: E402
from daemon.store import Store  # noqa: E402
from daemon.web.app import create_app  # noqa: E402
from scraper.fetch import Fetcher  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def bench_push(pushes: int) -> None:
    pages = sorted((SHARED / "fixtures/aliexpress").glob("item_*.html"),
                   key=lambda p: p.stat().st_size)
    page = pages[-1]
    html = page.read_text(encoding="utf-8", errors="replace")
    url = "https://de.aliexpress.com/item/1005008204179129.html"
    data = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    settings = load_settings(data)
    app = create_app(settings)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    settings.port = server.effective_port
    threading.Thread(target=server.run, daemon=True).start()
    token = settings.token_path.read_text().strip()
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    ours = []
    for i in range(pushes):
        # a different URL each time is a different listing only if the page's id differs;
        # the page keeps its id, so after the first push this measures the update path too
        started = time.perf_counter()
        r = session.post(f"http://127.0.0.1:{settings.port}/api/v1/pages",
                         json={"url": url, "html": html}, headers=headers, timeout=30)
        ours.append((time.perf_counter() - started) * 1000)
        assert r.ok, r.text
        if i == 0:
            first = r.json()
    server.close()

    naive = []
    conn = sqlite3.connect(data / "naive.sqlite3")
    conn.execute("CREATE TABLE IF NOT EXISTS images (url TEXT, listing TEXT, seen REAL)")
    for _ in range(max(5, pushes // 4)):
        started = time.perf_counter()
        soup = BeautifulSoup(html, "html.parser")
        urls = [m["content"] for m in soup.find_all("meta", property="og:image")]
        urls += [img.get("src") for img in soup.find_all("img") if img.get("src")]
        for u in urls:
            conn.execute("INSERT INTO images VALUES (?, ?, ?)", (u, url, time.time()))
            conn.commit()
        naive.append((time.perf_counter() - started) * 1000)
    print(f"push-to-stored, {page.name} ({len(html) // 1024} KB, "
          f"{first['images']['total']} images), {pushes} pushes over HTTP:")
    print(f"  picguard: median {statistics.median(ours):.1f} ms, p95 {pct(ours, 0.95):.1f} ms")
    print(f"  naive (bs4 html.parser + og:image/img + autocommit inserts): median "
          f"{statistics.median(naive):.1f} ms (finds only {len(urls)} image URLs)")
    ratio = statistics.median(naive) / statistics.median(ours)
    print(f"  ratio naive/picguard (median): {ratio:.2f}x")
    conn.close()
    shutil.rmtree(data, ignore_errors=True)


def bench_fetch(count: int) -> None:
    photos = sorted((SHARED / "data/photos/clothing").glob("*/*.jpg"))[:count]
    catalog = sorted((SHARED / "data/photos/clothing-train").glob("*/*.jpg"))[:300]
    shop = DemoShop().start()
    for i, path in enumerate(photos):
        shop.images[f"S{i}.jpg"] = path.read_bytes()
    data = Path(tempfile.mkdtemp(prefix="bench-fetch-"))
    settings = load_settings(data)
    settings.fetch_workers = 4
    store = Store(settings.db_path)
    register(store, catalog)
    # No politeness delay: every image comes from one local host, and the figure is what
    # the pipeline can process (the daemon spaces requests to one host by
    # per_host_interval_ms, 250 ms by default: at most 4 images/s from one CDN host).
    pipeline = Pipeline(settings, store, fetcher=Fetcher(
        allow_private=True, per_host_interval=0, max_parallel=settings.fetch_workers))
    store.save_listing(
        {"marketplace": "aliexpress", "kind": "item", "product_id": "1", "status": "ok",
         "images": [{"url": f"{shop.base_url}/kf/S{i}.jpg", "key": f"bench:S{i}",
                     "role": "gallery"} for i in range(len(photos))]},
        listing_key="bench:1", url="https://www.aliexpress.com/item/1.html", source="bench")
    started = time.perf_counter()
    loaded = pipeline.refresh_catalog()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    fetched = 0
    while True:
        step = pipeline.fetch_due(limit=64)
        fetched += step["fetched"]
        if not (step["fetched"] or step["retry"] or step["failed"]):
            break
    ours = time.perf_counter() - started

    started = time.perf_counter()
    for i in range(len(photos)):
        content = requests.get(f"{shop.base_url}/kf/S{i}.jpg", timeout=10).content
        imagehash.phash(Image.open(io.BytesIO(content)))
    naive = time.perf_counter() - started
    shop.stop()
    store.close()
    shutil.rmtree(data, ignore_errors=True)
    print(f"fetch + fingerprint + match ({len(photos)} real photos from a local server, "
          f"catalog of {len(catalog)}, {settings.fetch_workers} workers on {os.cpu_count()} "
          "cores):")
    print(f"  loading the catalog index at start: {loaded} photos in {load_s:.1f} s")
    print(f"  picguard pipeline: {fetched / ours:.1f} images/s ({fetched} fetched, full "
          "analysis: SHA-256, pHash/dHash/PDQ + mirrors, ORB features, thumbnail, catalog match)")
    print(f"  naive sequential requests.get + imagehash.phash: {len(photos) / naive:.1f} images/s")
    print(f"  ratio picguard/naive throughput: {(fetched / ours) / (len(photos) / naive):.2f}x "
          "(the pipeline does several times more work per image)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=40)
    parser.add_argument("--images", type=int, default=200)
    args = parser.parse_args()
    bench_push(args.pushes)
    bench_fetch(args.images)


if __name__ == "__main__":
    main()
