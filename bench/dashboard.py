"""Dashboard benchmark: every page's API answers with 10,000 alerts and 5,000 catalog photos.

    python3 bench/dashboard.py [--quick] [--alerts 10000] [--photos 5000] [--reps 20]

Seeds a fresh data dir through the store's own methods (photos, stores, listings, images,
matches, alerts with verdicts, a third of them confirmed or dismissed), builds the app
(which re-classifies every alert once with the verdict rules: timed), then calls each route
a dashboard page makes through the Flask test client (token, Host and Origin guards
included) and prints median / p95 / max per route. The budget is 200 ms per answer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from daemon.config import load_settings  # noqa: E402
from daemon.monitor.verdict_rules import decide, other_facts, own_facts  # noqa: E402
from daemon.store import Store  # noqa: E402
from daemon.timeutil import iso, parse_iso  # noqa: E402
from daemon.web.app import create_app  # noqa: E402

BUDGET_MS = 200
DEMO_PHOTOS = sorted((REPO / "daemon/demo/data/photos").glob("*.jpg"))
MARKETS = ("aliexpress", "ebay", "temu")


def seed(store: Store, photos: int, alerts: int) -> dict:
    """Synthetic but well-formed data: every row made by the store's public methods."""
    started = time.perf_counter()
    t0 = parse_iso("2026-01-01T00:00:00Z")
    photo_ids = []
    for i in range(photos):
        src = DEMO_PHOTOS[i % len(DEMO_PHOTOS)]
        taken = iso(t0.replace(day=1 + i % 28)) if i % 3 else None
        pid, _ = store.add_photo({
            "sha256": hashlib.sha256(f"photo-{i}".encode()).hexdigest(), "path": str(src),
            "file_name": f"IMG_{i:05d}.jpg", "size_bytes": 30000, "format": "JPEG",
            "width": 400, "height": 600, "taken_at": taken, "camera_make": "Canon",
            "camera_model": "EOS 90D", "orientation": 1, "has_gps": 0,
            "registered_at": "2026-02-01T00:00:00.000Z",
        }, b"bench", None, 0, shoot=f"shoot-{i // 50:03d}")
        photo_ids.append(pid)
    per_listing = 20
    image_ids = []
    for n in range((alerts + per_listing - 1) // per_listing):
        market = MARKETS[n % len(MARKETS)]
        refs = [{"key": f"img-{n}-{k}", "url": f"https://cdn.example/{n}/{k}.jpg"}
                for k in range(per_listing)]
        store.save_listing({"marketplace": market, "store_id": f"store{n % 50}",
                            "store_name": f"Store {n % 50}", "status": "ok",
                            "title": f"Listing {n}", "images": refs},
                           listing_key=f"{market}:{n}", url=f"https://shop.example/item/{n}",
                           source="bench")
        image_ids += [r["id"] for r in store.images_by_keys([r["key"] for r in refs]).values()]
    states = ("confirm", "dismiss", None)
    for i, image_id in enumerate(image_ids[:alerts]):
        photo_id = photo_ids[i % len(photo_ids)]
        match_id = store.record_match(photo_id, image_id, "copy", 0.9, {"layer": "bench"})
        listing = store.image_listings(image_id)[0]
        photo = store.get_photo(photo_id)
        verdict = decide(own_facts(photo, []), other_facts([listing["first_seen"]]))
        alert_id, _ = store.create_alert(
            match_id=match_id, photo_id=photo_id, image_id=image_id, listing_id=listing["id"],
            kind=verdict.kind, own_time=verdict.own_time, other_first_seen=listing["first_seen"],
            notify=False)
        store.set_alert_verdict(alert_id, verdict.kind, verdict.own_time,
                                json.dumps(verdict.to_dict()))
        if states[i % 3]:
            store.set_alert_state(alert_id, states[i % 3])
    return {"seconds": round(time.perf_counter() - started, 1), "photos": len(photo_ids),
            "alerts": min(alerts, len(image_ids))}


def timed(call, reps: int) -> dict:
    call()  # warm: first-use caches (thumbnails read from disk, SQLite pages)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (response.status_code, response.get_data()[:300])
    times.sort()
    return {"median": statistics.median(times), "p95": times[min(len(times) - 1,
                                                               round(0.95 * (len(times) - 1)))],
            "max": times[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 alerts, 500 photos, 5 reps")
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--photos", type=int, default=5_000)
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    if args.quick:
        args.alerts, args.photos, args.reps = 1_000, 500, 5
    with tempfile.TemporaryDirectory(prefix="picguard-bench-dash-") as tmp:
        settings = load_settings(Path(tmp))
        store = Store(settings.db_path)
        print(f"seeding {args.photos} photos and {args.alerts} alerts ...", flush=True)
        print("seeded:", seed(store, args.photos, args.alerts), flush=True)
        store.set_meta("verdict_rules_version", "0")  # as after migration 4
        store.close()
        start = time.perf_counter()
        app = create_app(settings)
        print(f"app start with re-classification of every alert: "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        token = settings.token_path.read_text().strip()
        client = app.test_client()
        base = f"http://127.0.0.1:{settings.port}"
        headers = {"Authorization": f"Bearer {token}"}

        def get(path: str):
            return lambda: client.get(f"/api/v1/{path}", base_url=base, headers=headers)

        pipeline = app.extensions["picguard"]["pipeline"]
        first = time.perf_counter()
        get("ledger")()  # the first head backfills the ledger with every photo: once
        print(f"first ledger head (backfill of {args.photos} photos, once): "
              f"{time.perf_counter() - first:.1f} s", flush=True)
        store = pipeline.store
        some = store.search_alerts({"state": "all"}, 0, 1)[0][0]
        routes = {
            "alerts: list (new, 25, thumbs)": get("alerts/search?state=new&limit=25&thumbs=1"),
            "alerts: facets": get("alerts/facets"),
            "alerts: filter kind+store": get("alerts/search?state=all&kind=unclear&store=store7"
                                             "&limit=25&thumbs=1"),
            "alerts: filter marketplace, page 100": get(
                "alerts/search?state=all&marketplace=ebay&offset=2475&limit=25"),
            "alert: one (thumbs)": get(f"alerts/{some['id']}"),
            "catalog: first page (30)": get("catalog?limit=30"),
            "catalog: one shoot": get("catalog?shoot=shoot-042&limit=30"),
            "catalog: search": get("catalog?q=IMG_0123&limit=30"),
            "catalog: last page": get(f"catalog?offset={max(0, args.photos - 30)}&limit=30"),
            "catalog: one photo's thumbnail": get(f"catalog/{some['photo_id']}/thumb"),
            "monitoring": get("monitoring"),
            "status": get("status"),
            "settings": get("settings"),
            "proof: ledger head": get("ledger"),
        }
        worst = 0.0
        print(f"\n{'route':40} {'median':>8} {'p95':>8} {'max':>8}  (ms, {args.reps} calls)")
        for name, call in routes.items():
            r = timed(call, args.reps)
            worst = max(worst, r["p95"])
            print(f"{name:40} {r['median']:8.1f} {r['p95']:8.1f} {r['max']:8.1f}", flush=True)
        verify = timed(lambda: client.post("/api/v1/ledger/verify", base_url=base,
                                           headers=headers, json={}), 3)
        print(f"{'(action) verify ledger':40} {verify['median']:8.1f} {verify['p95']:8.1f} "
              f"{verify['max']:8.1f}")
        store.close()
        verdict = "within" if worst <= BUDGET_MS else "OVER"
        print(f"\nworst page-API p95: {worst:.1f} ms: {verdict} the {BUDGET_MS} ms budget")
        if worst > BUDGET_MS:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
