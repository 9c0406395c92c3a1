"""The reverse pass at scale (issue 12): catalog photos registered after 10^4 competitor images.

    python -m bench.competitor_set --size 10000     # build the set first (resumable, cached)
    python -m bench.reverse                          # 10,000 images, 2,000 photos
    python -m bench.reverse --quick                  # 2,000 images, 200 photos

Target: "registering 2,000 photos after 10,000 competitor images were seen finishes its
reverse matching in <= 10 minutes on 2 cores". Everything runs through the daemon's own
code in a fresh data dir (removed at the end):

1. the first --size images of the competitor set (bench/competitor_set.py) are stored as
   fetched competitor images with the store's public methods (listings of 50 images,
   claimed and recorded as fetched with their fingerprint and thumbnail);
2. the competitor index the daemon loads from DATA_DIR/competitor-index is built from
   the set's cached index entries (made from each thumbnail as the daemon makes them):
   that skips re-extracting 10^4 thumbnails, the work the daemon's fetch (or its catch-up
   from thumbnails) does, so the reverse pass below has no catch-up to do;
3. --photos catalog photos are registered with daemon.catalog.registration.register():
   the set's query originals first (their 36 edited copies are in the set, so alerts
   must appear), then the held-out photos nothing in the set is made of (1,000: a
   catalog is mostly photos nobody copied), then photos the set uses; timed apart;
4. Pipeline.reverse_match() is timed end to end on the machine's cores (REVERSE_WORKERS
   threads, OpenCV and faiss with their default threads: the daemon does not pin them).

Image URLs point at a reserved address (240.0.0.0/4) the fetcher always refuses, so the
capture a reverse-pass alert triggers fails at once instead of fetching from the network:
the figures exclude that network time (see the printout).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from bench.competitor_set import CACHE_DIR, chunk_path, index_chunks, load_chunks, make_plan
from bench.robustness import appliance_files, clothing_files, log
from daemon.catalog.registration import register
from daemon.config import load_settings
from daemon.matching.compare import ANALYSIS_VERSION, MATCHER_VERSION, Analysis
from daemon.matching.competitor_index import CompetitorIndex
from daemon.matching.competitor_verify import stored_fingerprint, verify
from daemon.matching.features import FEATURE_SIDE
from daemon.matching.imageio import load_image
from daemon.monitor import pipeline as pipeline_module
from daemon.monitor.pipeline import Pipeline
from daemon.store import Store

TARGET_PHOTOS = 2000
# The naive approach (the pairwise scan the index replaced) timed on a sample: NAIVE_PHOTOS
# photos against every NAIVE_STEP-th stored image, then projected to every pair.
NAIVE_PHOTOS, NAIVE_STEP = 2, 50
TARGET_S = 600.0
LISTING_IMAGES = 50  # images per stored listing (a gallery plus its description's images)
# A reserved address (never admissible, even with PICGUARD_ALLOW_PRIVATE_HOSTS=1): the
# capture of a matching image is refused before any connection.
URL_BASE = "https://240.0.0.1/kf"


def _loadavg(values: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def _load() -> str:
    return f"load {_loadavg(os.getloadavg())}"


def fill_store(store: Store, size: int) -> tuple[dict[int, int], dict]:
    """Store the first `size` images of the set as fetched; returns plan id -> store id."""
    ids: dict[int, int] = {}
    recomputed, listing, t0 = 0, 0, time.perf_counter()
    for chunk in load_chunks(size):
        for lo in range(0, len(chunk), LISTING_IMAGES):
            rows = chunk[lo:lo + LISTING_IMAGES]
            listing += 1
            store.save_listing(
                {"marketplace": "aliexpress", "store_id": f"s{listing % 97}",
                 "store_name": f"Shop {listing % 97}", "status": "ok", "title": f"item {listing}",
                 "images": [{"key": f"img{r[0]}", "url": f"{URL_BASE}/S{r[0]}.jpg"}
                            for r in rows]},
                listing_key=f"aliexpress:{listing}",
                url=f"https://www.aliexpress.com/item/{listing}.html", source="extension")
            claimed = store.claim_due_images(len(rows))
            by_key = {c["image_key"]: c["id"] for c in claimed}
            if len(by_key) != len(rows):
                raise RuntimeError(f"claimed {len(by_key)} of {len(rows)} queued images")
            for plan_id, _phash, blob, _desc, thumb, sha in rows:
                im = load_image(thumb, max_side=FEATURE_SIDE)
                if blob is None:
                    # the set keeps only the pHash of distractors: the fingerprint verify()
                    # would compute from the thumbnail anyway (stored_fingerprint)
                    blob = stored_fingerprint({}, im).to_bytes()
                    recomputed += 1
                store_id = by_key[f"img{plan_id}"]
                store.image_fetched(store_id, {"sha256": sha, "content_type": "image/jpeg",
                                               "size_bytes": len(thumb), "width": im.width,
                                               "height": im.height},
                                    blob, ANALYSIS_VERSION, thumb)
                ids[plan_id] = store_id
        log(f"  stored {len(ids):,}/{size:,} images ({_load()})")
    return ids, {"store_s": time.perf_counter() - t0, "recomputed": recomputed,
                 "listings": listing}


def build_index(directory: Path, size: int, ids: dict[int, int], phashes: dict[int, int]
                ) -> float:
    """The daemon's competitor index over the stored images, from cached index entries."""
    index = CompetitorIndex(directory)
    t_index = 0.0
    for entries in index_chunks(size):
        t = time.perf_counter()
        for plan_id, (desc, pts) in entries.items():
            index.add(ids[plan_id], phashes[plan_id], np.frombuffer(desc, np.uint8).reshape(-1, 32),
                      np.frombuffer(pts, "<f4").reshape(-1, 2))
        t_index += time.perf_counter() - t
        log(f"  indexed {len(index):,}/{size:,} images ({_load()})")
    t = time.perf_counter()
    index.close()
    return t_index + time.perf_counter() - t


def _used_by(items: list[tuple]) -> set[str]:
    """Every photo the plan's items are made of (published, cropped, edited, in collages)."""
    used: set[str] = set()
    for item in items:
        kind = item[0]
        if kind in ("photo", "crop"):
            used.add(item[1])
        elif kind == "collage":
            used.update(item[1])
        elif kind in ("copy", "edit"):
            used.add(item[1])
            used.update(item[3])
    return used


def choose_photos(plan, n: int) -> tuple[list[Path], Counter]:
    """The originals first, then photos of nothing in the set (the plan's held-out
    unrelated photos first: a seller's catalog is mostly photos nobody copied), then (when
    those run out) photos the set uses (published as is, or cropped, edited, in
    collages). Returns the paths and how many of each kind."""
    used = _used_by(plan.items)
    others = [str(p) for p in clothing_files("clothing-train") + appliance_files()]
    others = [p for p in others if p not in set(plan.unrelated) and p not in plan.originals]
    free = list(plan.unrelated) + [p for p in others if p not in used]
    in_set = [p for p in others if p in used]
    kinds: Counter = Counter()
    chosen: list[str] = []
    for kind, group in (("original", plan.originals), ("not in the set", free),
                        ("in the set (published or derived)", in_set)):
        take = group[: n - len(chosen)]
        chosen += take
        kinds[kind] += len(take)
    if len(chosen) < n:
        raise SystemExit(f"only {len(chosen)} photos available, not {n}")
    return [Path(p) for p in chosen], kinds


def run(size: int, n_photos: int, workdir: Path) -> dict:
    """Store, index, register, then time the reverse pass; returns the figures."""
    have = sum(1 for c in range((size + 999) // 1000) if chunk_path(CACHE_DIR, c).exists())
    if have * 1000 < size:
        raise SystemExit(f"only {have * 1000:,} of {size:,} images are built; run "
                         f"python -m bench.competitor_set --size {size} first")
    plan = make_plan(size)
    settings = load_settings(workdir)
    store = Store(settings.db_path)
    res: dict = {"size": size}
    try:
        log(f"reverse bench: storing {size:,} competitor images ({_load()})")
        ids, fig = fill_store(store, size)
        res.update(fig)
        phashes = {r[0]: r[1] for chunk in load_chunks(size) for r in chunk}
        log(f"reverse bench: building the competitor index ({_load()})")
        res["index_s"] = build_index(settings.data_dir / "competitor-index", size, ids, phashes)

        paths, res["kinds"] = choose_photos(plan, n_photos)
        log(f"reverse bench: registering {len(paths):,} photos ({_load()})")
        t, c = time.perf_counter(), time.process_time()
        report = register(store, paths)
        res["register_s"], res["register_cpu"] = time.perf_counter() - t, time.process_time() - c
        res["registered"], res["reg_dups"] = len(report.added), len(report.duplicates)
        res["reg_failed"] = report.failed

        pipeline = Pipeline(load_settings(workdir), store)
        t = time.perf_counter()
        res["indexed"] = len(pipeline.competitors)  # loads the index from disk
        res["load_s"] = time.perf_counter() - t
        res["missing"] = len(pipeline.competitors.missing(store.fetched_image_ids()))
        if res["indexed"] != size or res["missing"]:
            raise RuntimeError(f"index holds {res['indexed']} images, {res['missing']} of the "
                               f"stored ones missing: the reverse pass would catch up")
        res["approximate"] = pipeline.competitors.approximate

        import cv2
        import faiss

        res["threads"] = (pipeline_module.REVERSE_WORKERS, cv2.getNumThreads(),
                          faiss.omp_get_max_threads())
        res["load_before"] = os.getloadavg()
        last = [time.perf_counter()]
        n_orig = res["kinds"]["original"]
        t_orig: list[float] = []

        def progress(step: str, done: int, total: int) -> None:
            if step == "reverse" and done == n_orig:
                # photos run in id order on 2 threads: about the originals' share
                t_orig.append(time.perf_counter())
            if step == "reverse" and (done % 100 == 0 or done == total):
                now = time.perf_counter()
                log(f"  reverse: {done}/{total} ({now - last[0]:.0f} s for the last ones; "
                    f"{_load()})")
                last[0] = now
            elif step != "reverse":
                log(f"  unexpected step during the reverse pass: {step} {done}/{total}")

        sample = store.photos_to_reverse_match_with_times(MATCHER_VERSION, ANALYSIS_VERSION,
                                                          NAIVE_PHOTOS)
        log(f"reverse bench: reverse pass over {res['registered']:,} photos ({_load()})")
        t, c = time.perf_counter(), time.process_time()
        counts = pipeline.reverse_match(limit=10_000, progress=progress)
        res["reverse_s"], res["reverse_cpu"] = time.perf_counter() - t, time.process_time() - c
        res["load_after"] = os.getloadavg()
        res["orig_s"] = t_orig[0] - t if t_orig else None
        res["naive_pair_ms"] = naive_pair_ms(store, sample, sorted(ids.values())[::NAIVE_STEP])
        res.update(counts)
        cache = pipeline.competitors.analyses
        res["cache"] = (cache.hits, cache.misses)

        # alerts on the originals: which of their copies in the set were found
        store_to_plan = {s: p for p, s in ids.items()}
        originals = {str(Path(o).resolve()) for o in plan.originals}
        alerts = store.list_alerts(state="all", limit=10**7)
        orig_alerted = {(a["photo_id"], store_to_plan.get(a["image_id"])) for a in alerts
                        if store.get_photo(a["photo_id"])["path"] in originals}
        copies = sum(1 for item in plan.items if item[0] == "copy"
                     and item[1] in plan.originals[: res["kinds"]["original"]])
        found = {p for _, p in orig_alerted if p and plan.items[p - 1][0] == "copy"}
        res["orig_copies"], res["orig_found"] = copies, len(found)
        res["alerts_total"] = len(alerts)
        res["alerts_others"] = sum(1 for a in alerts if store.get_photo(a["photo_id"])["path"]
                                   not in originals)
    finally:
        store.close()
    return res


def naive_pair_ms(store: Store, photos: list[dict], image_ids: list[int]) -> float:
    """CPU ms per (photo, stored image) pair of the pairwise scan the index replaced: every
    stored thumbnail analysed and compared with the photo (verify() with no cache)."""
    rows = store.images_for_verify(image_ids)
    t = time.process_time()
    for photo in photos:
        list(verify(Analysis.from_stored(photo["data"], photo["features"]), rows))
    return 1000 * (time.process_time() - t) / max(1, len(photos) * len(rows))


def report(res: dict) -> None:
    """Print the figures."""
    n = res["size"]
    print(f"\n== reverse pass: {res['registered']:,} photos after {n:,} competitor images ==")
    print(f"Store: {n:,} fetched images in {res['listings']} listings in {res['store_s']:.0f} s "
          f"({res['recomputed']:,} fingerprints computed from thumbnails)")
    print(f"Competitor index built from cached entries in {res['index_s']:.1f} s (inverted "
          f"file: {res['approximate']}); the daemon makes each entry from the thumbnail at "
          "fetch (or in its catch-up), work skipped here")
    print("Photos: " + ", ".join(f"{v} {k}" for k, v in res["kinds"].items()))
    print(f"Registration (not the reverse pass): {res['registered']:,} added, "
          f"{res['reg_dups']} duplicates, {len(res['reg_failed'])} failed in "
          f"{res['register_s']:.0f} s ({res['register_cpu']:.0f} s CPU in this process; "
          "analysis runs in worker processes)")
    for f in res["reg_failed"][:5]:
        print(f"    failed: {f}")
    print(f"Index load at the pipeline's first use: {res['load_s']:.1f} s ({res['indexed']:,} "
          f"images, {res['missing']} missing: no catch-up)")
    workers, cv_threads, faiss_threads = res["threads"]
    photos, wall = res["photos"], res["reverse_s"]
    print(f"Reverse pass: {photos:,} photos in {wall:.0f} s wall, {res['reverse_cpu']:.0f} s CPU "
          f"({photos / wall:.2f} photos/s; {workers} reverse threads, OpenCV {cv_threads} "
          f"threads, faiss {faiss_threads} threads)")
    print(f"  thumbnails verified: {res['verified']:,} ({res['verified'] / max(1, photos):.1f} a "
          f"photo); analyses reused from the cache: {res['cache'][0]:,} of "
          f"{sum(res['cache']):,}")
    print(f"  alerts raised: {res['alerts']:,} (alerts in the store: {res['alerts_total']:,}); "
          f"copies of the originals found: {res['orig_found']} of {res['orig_copies']}; "
          f"alerts on the other photos: {res['alerts_others']:,}")
    if res["orig_s"] is not None:
        n_orig = res["kinds"]["original"]
        print(f"  the {n_orig} originals (36 edited copies each in the set) took about "
              f"{res['orig_s']:.0f} s, the other {photos - n_orig:,} photos "
              f"{wall - res['orig_s']:.0f} s")
    print(f"  load average before {_loadavg(res['load_before'])}, "
          f"after {_loadavg(res['load_after'])}")
    print("  captures of matching images were refused at once (reserved address): the "
          "network time of capturing each alert's image is not included")
    naive = res["naive_pair_ms"] / 1000 * photos * n / 2  # CPU over the 2 cores
    print(f"Naive (the pairwise scan over every stored thumbnail, as before the index): "
          f"{res['naive_pair_ms']:.1f} ms of CPU a pair, measured on {NAIVE_PHOTOS} photos x "
          f"every {NAIVE_STEP}th image -> {naive / 3600:.1f} h for these {photos:,} photos on "
          f"2 cores; the index pass is {naive / wall:.0f}x faster")
    projected = wall * TARGET_PHOTOS / max(1, photos)
    if photos != TARGET_PHOTOS:
        print(f"Projected for {TARGET_PHOTOS:,} photos (linear, at this index size {n:,}): "
              f"{projected:.0f} s")
    scale = "" if n >= 10_000 else f" (measured over {n:,} images, not 10,000)"
    verdict = "met" if projected <= TARGET_S else "NOT met"
    print(f"Target (<= {TARGET_S / 60:.0f} min for {TARGET_PHOTOS:,} photos after 10,000 "
          f"images): {verdict}{scale}: {projected / 60:.1f} min")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=10_000, help="competitor images (default 10,000)")
    ap.add_argument("--photos", type=int, default=TARGET_PHOTOS,
                    help="catalog photos registered (default 2,000)")
    ap.add_argument("--quick", action="store_true", help="2,000 images, 200 photos")
    args = ap.parse_args(argv)
    if args.quick:
        args.size, args.photos = 2000, 200
    if args.size < 1 or args.photos < 1:
        ap.error("--size and --photos must be positive")
    workdir = Path(tempfile.mkdtemp(prefix="pg-reverse-bench-"))
    try:
        res = run(args.size, args.photos, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(res)


if __name__ == "__main__":
    main()
