"""Robustness benchmark: recall per edit and tier, false positives, hard negatives, timings.

    python -m bench.robustness                 # full run (300 originals, 6,000 negative pairs)
    python -m bench.robustness --quick         # 40 originals, 1,000 pairs: a smoke run
    python -m bench.robustness --limit 100 --pairs 3000 --dump details.jsonl
    python -m bench.robustness --quick --tiers E     # only some tiers' edits

Tier E (issue 17) is the marketplace make-over: the product cut out onto white (and
mirrored), pasted at 70% on another photo's backdrop, infographic callouts, 2x upscale
with sharpening, square padding with badge and price strip. Hard negatives: colour
variants (appliances/) and same-backdrop pairs (clothing/ and clothing-train/).

Originals are real photos (clothing/ and appliances/); edited copies are made at run
time with a fixed seed (tests/edits.py). The "old rule" printed beside is plain
`imagehash.phash(Image.open(p))` within 10 bits, the hash-only rule it replaces.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

from daemon.matching.compare import Analysis, analyse, compare, measurements
from daemon.matching.fingerprint import FINGERPRINT_BYTES, compute_fingerprint, hamming64
from tests.edits import EDITS, TIERS, apply

PHOTOS = Path(os.environ.get("PICGUARD_SHARED", Path(__file__).resolve().parents[2] / "shared")
              ) / "data" / "photos"
OLD_RULE_MAX = 10
SAME_PHOTO_PHASH = 4  # dataset duplicates (SOURCES.md): the same photo under two names


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def one_core() -> None:
    """Pin OpenCV and faiss to one thread: the figures are per core."""
    import cv2
    import faiss

    cv2.setNumThreads(1)
    faiss.omp_set_num_threads(1)


def clothing_files(folder: str = "clothing") -> list[Path]:
    return sorted((PHOTOS / folder).rglob("*.jpg"))


def appliance_files() -> list[Path]:
    return sorted((PHOTOS / "appliances").glob("*.webp"))


def appliance_variant_pairs() -> list[tuple[Path, Path]]:
    """Pairs of colour variants of one product (name-x.webp, name-y.webp, name.webp)."""
    files = appliance_files()
    names = {p.stem: p for p in files}
    bases = {n for n in names if any(o.startswith(n + "-") for o in names)}
    family: dict[str, list[Path]] = defaultdict(list)
    for n, p in names.items():
        owners = [b for b in bases if n == b or n.startswith(b + "-")]
        if owners:
            family[max(owners, key=len)].append(p)
    return [(a, b) for members in family.values() for i, a in enumerate(sorted(members))
            for b in sorted(members)[i + 1:]]


def backdrop_pairs(count: int, sample: int | None = None) -> list[tuple[Path, Path]]:
    """Different clothing photos whose borders look alike: same backdrop/hanger, other garment.

    Mined without the matcher: the outer ring of the 16x16 colour grid, nearest pairs
    first, skipping dataset duplicates (pHash <= 4) and near-identical shots (pHash <= 12).
    """
    files = clothing_files("clothing") + clothing_files("clothing-train")
    if sample:
        files = random.Random(5).sample(files, min(sample, len(files)))
    with mp.Pool(2, initializer=one_core) as pool:
        fps = pool.map(compute_fingerprint, files, chunksize=32)
    grids = np.stack([f.grid_array().astype(np.float32) for f in fps])
    ring = np.ones((16, 16), bool)
    ring[2:-2, 2:-2] = False
    vec = grids[:, ring].reshape(len(files), -1)
    best: list[tuple[float, int, int]] = []
    for i in range(len(files)):
        d = np.sqrt(((vec[i + 1:] - vec[i]) ** 2).mean(axis=1))
        for j in np.argsort(d)[:5]:
            best.append((float(d[j]), i, i + 1 + int(j)))
    best.sort()
    out, used = [], set()
    for _, i, j in best:
        if hamming64(fps[i].phash, fps[j].phash) <= 12 or (i, j) in used:
            continue
        used.add((i, j))
        out.append((files[i], files[j]))
        if len(out) >= count:
            break
    return out


# -- workers ---------------------------------------------------------------------------


def _old_phash(data: bytes | Path) -> imagehash.ImageHash:
    src = io.BytesIO(data) if isinstance(data, bytes) else data
    return imagehash.phash(Image.open(src))


def positives_for(job: tuple[int, str, list[str], str]) -> tuple[list[dict], bytes, dict, str]:
    """All edits of one original (of the given tiers): compare() result, all measurements,
    old rule, timings."""
    idx, path, other_paths, tiers = job
    im = Image.open(path).convert("RGB")
    others = [Image.open(p).convert("RGB") for p in other_paths]
    t0 = time.perf_counter()
    orig = analyse(path)
    t_an = time.perf_counter() - t0
    old0 = _old_phash(Path(path))
    rows, t_cmp, t_copy_an = [], [], []
    for e in EDITS:
        if e.tier not in tiers:
            continue
        data = apply(e, im, seed=idx, others=others)
        t0 = time.perf_counter()
        copy = analyse(data, product=False)  # the candidate side needs no product mask
        t_copy_an.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        res = compare(orig, copy)
        t_cmp.append(time.perf_counter() - t0)
        rows.append({"original": path, "edit": e.name, "tier": e.tier, "kind": res.kind,
                     "layer": res.details.get("layer"), "score": res.score,
                     "old": bool((old0 - _old_phash(data)) <= OLD_RULE_MAX),
                     "ev": measurements(orig, copy)})
    blob = orig.fingerprint.to_bytes() + b"|" + orig.features_bytes()
    return rows, blob, {"analyse": [t_an, *t_copy_an], "compare": t_cmp}, path


def _split(blob: bytes) -> Analysis:
    """Analysis from `fingerprint|features` (a stand-in sha256, distinct per photo)."""
    n = FINGERPRINT_BYTES
    return Analysis.from_stored(blob[:n], blob[n + 1:], sha256=hashlib.sha256(blob).hexdigest())


def negatives_for(job: tuple[str, bytes, bytes, str, str]) -> dict:
    """One pair of different photos: compare() result, timing and evidence."""
    label, blob_a, blob_b, name_a, name_b = job
    a, b = _split(blob_a), _split(blob_b)
    t0 = time.perf_counter()
    res = compare(a, b)
    dt = time.perf_counter() - t0
    return {"set": label, "a": name_a, "b": name_b, "kind": res.kind, "score": res.score,
            "layer": res.details.get("layer"), "t": dt, "ev": measurements(a, b)}


def analyse_blob(path: str) -> tuple[bytes, bytes]:
    a = analyse(path)
    return a.fingerprint.to_bytes() + b"|" + a.features_bytes(), bytes(str(_old_phash(Path(path))),
                                                                       "ascii")


# -- report ----------------------------------------------------------------------------


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:6.2f}%" if d else "   n/a"


def report(pos: list[dict], neg: list[dict], timings: dict, old_neg: dict) -> dict:
    by_edit: dict[str, list[dict]] = defaultdict(list)
    for r in pos:
        by_edit[r["edit"]].append(r)
    print("\nRecall per edit (copy = called `copy`; any = copy or similar; old = pHash<=10)")
    print(f"{'tier':4} {'edit':30} {'n':>5} {'copy':>8} {'any':>8} {'old':>8}  layers")
    summary: dict = {"edits": {}, "tiers": {}}
    for e in EDITS:
        rows = by_edit.get(e.name, [])
        if not rows:
            continue
        n = len(rows)
        c = sum(r["kind"] == "copy" for r in rows)
        a = sum(r["kind"] is not None for r in rows)
        o = sum(r["old"] for r in rows)
        layers = defaultdict(int)
        for r in rows:
            layers[r["layer"] or "-"] += 1
        lay = " ".join(f"{k}:{v}" for k, v in sorted(layers.items()))
        print(f"{e.tier:4} {e.name:30} {n:5d} {pct(c, n)} {pct(a, n)} {pct(o, n)}  {lay}")
        summary["edits"][e.name] = {"n": n, "copy": c / n, "any": a / n, "old": o / n}
    print("\nRecall per tier (mean over its edits)")
    for t in TIERS:
        names = [e.name for e in EDITS if e.tier == t and e.name in summary["edits"]]
        if not names:
            continue
        vals = {k: statistics.mean(summary["edits"][nm][k] for nm in names)
                for k in ("copy", "any", "old")}
        summary["tiers"][t] = vals
        print(f"  tier {t}: copy {100 * vals['copy']:6.2f}%  any {100 * vals['any']:6.2f}%  "
              f"old rule {100 * vals['old']:6.2f}%")
    print("\nFalse positives")
    for label in sorted({r["set"] for r in neg}):
        rows = [r for r in neg if r["set"] == label]
        n = len(rows)
        c = sum(r["kind"] == "copy" for r in rows)
        s = sum(r["kind"] == "similar" for r in rows)
        o = old_neg.get(label, 0)
        print(f"  {label:28} pairs {n:6d}  copy {c:4d} ({pct(c, n)})  similar {s:4d} "
              f"({pct(s, n)})  old rule {o:4d} ({pct(o, n)})")
        summary[f"neg_{label}"] = {"n": n, "copy": c, "similar": s, "old": o}
    an = sorted(timings["analyse"])
    cm = sorted(timings["compare"] + [r["t"] for r in neg])
    print("\nTimings (one core per worker; medians)")
    print(f"  analyse (decode + fingerprint + features + mirrored): "
          f"{1000 * statistics.median(an):.1f} ms  p95 {1000 * an[int(0.95 * len(an))]:.1f} ms")
    print(f"  fingerprint only: {1000 * statistics.median(timings['fingerprint']):.1f} ms")
    print(f"  compare (pairwise rule, precomputed analyses): {1000 * statistics.median(cm):.2f} ms"
          f"  p95 {1000 * cm[int(0.95 * len(cm))]:.2f} ms")
    return summary


def run_pool(fn, jobs: Iterable, total: int, what: str, workers: int) -> list:
    out = []
    with mp.Pool(workers, initializer=one_core) as pool:
        for k, r in enumerate(pool.imap_unordered(fn, jobs, chunksize=4), start=1):
            out.append(r)
            if k % max(1, total // 20) == 0 or k == total:
                log(f"  {what}: {k}/{total}")
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--limit", type=int, default=300, help="originals (default 300)")
    ap.add_argument("--pairs", type=int, default=6000, help="pairs of different photos")
    ap.add_argument("--backdrop", type=int, default=200, help="same-backdrop hard negatives")
    ap.add_argument("--quick", action="store_true", help="40 originals, 1,000 pairs")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tiers", default="".join(TIERS), help="edit tiers to run (default ABCDE)")
    ap.add_argument("--dump", type=Path, help="write every pair's evidence here (JSON lines)")
    args = ap.parse_args(argv)
    if args.quick:  # a smaller --limit/--pairs/--backdrop given beside it is kept
        args.limit, args.pairs = min(args.limit, 40), min(args.pairs, 1000)
        args.backdrop = min(args.backdrop, 60)
    rng = random.Random(args.seed)
    clothing, apps = clothing_files(), appliance_files()
    n_app = max(1, args.limit // 8)
    originals = rng.sample(clothing, args.limit - n_app) + rng.sample(apps, n_app)
    fillers = rng.sample(clothing_files("clothing-train"), 400)
    jobs = [(k, str(p), [str(f) for f in rng.sample(fillers, 5)], args.tiers)
            for k, p in enumerate(originals)]
    n_edits = sum(e.tier in args.tiers for e in EDITS)
    log(f"robustness: {len(originals)} originals x {n_edits} edits")
    t0 = time.time()
    results = run_pool(positives_for, jobs, len(jobs), "originals", args.workers)
    pos = [r for rows, _, _, _ in results for r in rows]
    timings = {"analyse": [t for _, _, tm, _ in results for t in tm["analyse"]],
               "compare": [t for _, _, tm, _ in results for t in tm["compare"]]}
    timings["fingerprint"] = []
    for p in originals[:50]:
        t = time.perf_counter()
        compute_fingerprint(p)
        timings["fingerprint"].append(time.perf_counter() - t)
    # Pairs of different photos: the originals plus photos from clothing-train.
    extra = rng.sample(fillers, min(len(fillers), max(50, args.limit // 2)))
    blobs = {path: blob for _, blob, _, path in results}
    log("analysing distractors and hard negatives")
    backdrop = backdrop_pairs(args.backdrop, sample=None if not args.quick else 1200)
    variants = appliance_variant_pairs()
    need = {str(p) for p in extra} | {str(p) for pr in backdrop + variants for p in pr}
    need -= set(blobs)
    got = run_pool(analyse_blob, sorted(need), len(need), "analyses", args.workers)
    for p, (b, _) in zip(sorted(need), got, strict=True):
        blobs[p] = b
    old_hash = {p: _old_phash(Path(p)) for p in blobs}
    pool_paths = [str(p) for p in originals] + [str(p) for p in extra]
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < args.pairs:
        a, b = rng.sample(pool_paths, 2)
        if old_hash[a] - old_hash[b] > SAME_PHOTO_PHASH:
            pairs.add((a, b))
    neg_jobs = [("different photos", blobs[a], blobs[b], a, b) for a, b in sorted(pairs)]
    neg_jobs += [("appliance colour variants", blobs[str(a)], blobs[str(b)], str(a), str(b))
                 for a, b in variants]
    neg_jobs += [("same backdrop (clothing)", blobs[str(a)], blobs[str(b)], str(a), str(b))
                 for a, b in backdrop]
    old_neg: dict[str, int] = defaultdict(int)
    for label, _, _, a, b in neg_jobs:
        old_neg[label] += int((old_hash[a] - old_hash[b]) <= OLD_RULE_MAX)
    neg = run_pool(negatives_for, neg_jobs, len(neg_jobs), "negative pairs", args.workers)
    if args.dump:
        with args.dump.open("w") as fh:
            for r in pos:
                fh.write(json.dumps({"type": "pos", **r}, default=_plain) + "\n")
            for r in neg:
                fh.write(json.dumps({"type": "neg", **r}, default=_plain) + "\n")
    summary = report(pos, neg, timings, old_neg)
    print(f"\n({len(pos)} edited copies, {len(neg)} negative pairs, {time.time() - t0:.0f} s)")
    return summary


def _plain(o: object) -> object:
    return o.item() if isinstance(o, np.generic) else str(o)


if __name__ == "__main__":
    main()
