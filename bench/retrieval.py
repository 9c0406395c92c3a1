"""Catalog-scale benchmark: edited copies and unrelated photos queried against 3,000+ photos.

    python -m bench.retrieval                  # catalog = clothing-train (3,068), 60 originals
    python -m bench.retrieval --quick          # catalog of 600, 15 originals
    python -m bench.retrieval --limit 100      # more originals (edited copies)
    python -m bench.retrieval --quick --tiers E --cache /tmp/ret.pkl   # tier E only

Prints recall per edit and tier through CatalogMatcher.query beside the pairwise rule
(compare) on the very same copies, false alerts over unrelated queries (clothing/ and
appliances/ photos, not in the catalog), query time (median, p95; one core, query
analysis excluded and timed apart), index memory (measured, and scaled to 10,000
photos), and the reverse direction (match_against over stored thumbnails).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import pickle
import random
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from PIL import Image

from bench.robustness import (
    SAME_PHOTO_PHASH,
    appliance_files,
    clothing_files,
    log,
    one_core,
    pct,
    run_pool,
)
from daemon.matching.compare import Analysis, analyse, compare
from daemon.matching.features import FEATURES_VERSION
from daemon.matching.fingerprint import FINGERPRINT_VERSION, hamming64
from daemon.matching.imageio import make_thumbnail
from daemon.matching.retrieval import CatalogMatcher, match_against
from tests.edits import EDITS, TIERS, apply


def analyse_catalog(path: str) -> tuple[str, bytes, bytes]:
    a = analyse(path, mirror=False)
    return path, a.fingerprint.to_bytes(), a.features_bytes()


def analyse_copy(job: tuple[int, str, str, list[str]]) -> tuple[int, str, str, bytes, bytes, bytes]:
    """One edited copy: its analysis (with mirrored features) and its stored thumbnail."""
    k, path, edit_name, others = job
    edit = next(e for e in EDITS if e.name == edit_name)
    data = apply(edit, Image.open(path).convert("RGB"), seed=k,
                 others=[Image.open(o).convert("RGB") for o in others])
    a = analyse(data, product=False)  # a query: only catalog photos need a product mask
    return k, path, edit_name, a.fingerprint.to_bytes(), a.features_bytes(), make_thumbnail(data)


def analyse_unrelated(path: str) -> tuple[str, bytes, bytes, bytes]:
    a = analyse(path, product=False)
    return path, a.fingerprint.to_bytes(), a.features_bytes(), make_thumbnail(path)


def _load_cache(path: Path | None, key: tuple) -> tuple | None:
    """The analyses a previous run with the same arguments and versions saved, if any."""
    if path is None or not path.exists():
        return None
    saved_key, data = pickle.loads(path.read_bytes())  # noqa: S301 (a file this bench wrote)
    return data if saved_key == key else None


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _grow(path: str, out: mp.Queue) -> None:
    one_core()
    base = _rss()
    with open(path, "rb") as f:
        blobs = pickle.load(f)  # noqa: S301 (written just before by this bench)
    matcher = CatalogMatcher()
    for pid, (fp, feats) in enumerate(blobs, start=1):
        matcher.add_stored(pid, fp, feats)
    query = Analysis.from_stored(*blobs[0])
    del blobs
    matcher.query(query)  # trains the IVF
    out.put(_rss() - base)


def resident_growth(blobs: list[tuple[bytes, bytes]]) -> int:
    """Bytes a fresh process grows by holding a CatalogMatcher of these stored blobs
    (measured, unlike memory_bytes(); freed memory the allocator keeps counts too)."""
    with tempfile.NamedTemporaryFile(suffix=".pkl") as tmp:
        pickle.dump(blobs, tmp)
        tmp.flush()
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        proc = ctx.Process(target=_grow, args=(tmp.name, out))
        proc.start()
        grown = out.get()
        proc.join()
    return grown


def _pool(fn, jobs: list, what: str, workers: int) -> list:
    """run_pool, its results put back in a fixed order (each starts with a unique key)."""
    return sorted(run_pool(fn, jobs, len(jobs), what, workers), key=lambda r: r[0])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--catalog", type=int, default=0, help="catalog size (default: all 3,068)")
    ap.add_argument("--limit", type=int, default=60, help="originals given edited copies")
    ap.add_argument("--reverse", type=int, default=12, help="originals for the reverse direction")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tiers", default="".join(TIERS),
                    help="edit tiers given to the originals (default ABCDE; E = issue 17)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=None,
                    help="keep the analyses in this file and reuse them on the next run\n"
                         "(keyed by the arguments and the fingerprint/features versions)")
    args = ap.parse_args(argv)
    if args.quick:
        args.catalog, args.limit, args.reverse = 600, 15, 4
    rng = random.Random(7)
    one_core()
    cat_files = clothing_files("clothing-train")
    if args.catalog:
        cat_files = rng.sample(cat_files, args.catalog)
    key = (sorted(map(str, cat_files)), args.limit, args.tiers, FINGERPRINT_VERSION,
           FEATURES_VERSION)
    cached = _load_cache(args.cache, key)
    if cached:
        rows, originals, copies, unrel = cached
        log(f"retrieval: analyses reused from {args.cache}")
    else:
        log(f"retrieval: analysing a catalog of {len(cat_files)} photos")
        rows = _pool(analyse_catalog, [str(p) for p in cat_files], "catalog", args.workers)
        # Edited copies of some catalog photos; collage tiles and page thumbnails come
        # from photos outside the catalog.
        outsiders = [str(p) for p in clothing_files("clothing")]
        originals = rng.sample([str(p) for p in cat_files], args.limit)
        jobs = [(k, o, e.name, rng.sample(outsiders, 5))
                for k, (o, e) in enumerate((o, e) for o in originals for e in EDITS
                                           if e.tier in args.tiers)]
        log(f"retrieval: {len(jobs)} edited copies")
        copies = _pool(analyse_copy, jobs, "copies", args.workers)
        unrelated = [str(p) for p in clothing_files("clothing") + appliance_files()]
        log(f"retrieval: {len(unrelated)} unrelated queries")
        unrel = _pool(analyse_unrelated, unrelated, "unrelated", args.workers)
        if args.cache:
            args.cache.write_bytes(pickle.dumps((key, (rows, originals, copies, unrel))))
    matcher = CatalogMatcher()
    stored: dict[int, Analysis] = {}
    t0 = time.perf_counter()
    for pid, (_, fp, feats) in enumerate(rows, start=1):
        matcher.add_stored(pid, fp, feats)
        stored[pid] = Analysis.from_stored(fp, feats)
    t_build = time.perf_counter() - t0
    pid_of = {path: pid for pid, (path, _, _) in enumerate(rows, start=1)}
    mem = matcher.memory_bytes()

    hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    times: list[float] = []
    for _, path, edit, fp, feats, _ in copies:
        q = Analysis.from_stored(fp, feats)
        t = time.perf_counter()
        found = matcher.query(q)
        times.append(time.perf_counter() - t)
        pid = pid_of[path]
        via_index = any(p == pid and r.kind == "copy" for p, r in found)
        pairwise = compare(stored[pid], q).kind == "copy"
        hits[edit].append((via_index, pairwise))
    false_alerts, dup_skipped, unrel_times = [], 0, []
    for path, fp, feats, _ in unrel:
        q = Analysis.from_stored(fp, feats)
        t = time.perf_counter()
        found = matcher.query(q)
        unrel_times.append(time.perf_counter() - t)
        for pid, r in found:
            if hamming64(stored[pid].fingerprint.phash, q.fingerprint.phash) <= SAME_PHOTO_PHASH:
                dup_skipped += 1  # the same photo is in both dataset folders
            else:
                false_alerts.append((Path(path).name, pid, r.kind, r.details.get("inliers")))

    print(f"Retrieval against a catalog of {len(matcher):,} photos "
          f"(built in {t_build:.1f} s from stored blobs)")
    print(f"\n{'tier':4} {'edit':30} {'n':>4} {'index':>8} {'pairwise':>9}")
    tier_vals: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for e in EDITS:
        rs = hits.get(e.name, [])
        if not rs:
            continue
        n, vi, pw = len(rs), sum(r[0] for r in rs), sum(r[1] for r in rs)
        tier_vals[e.tier].append((vi / n, pw / n))
        print(f"{e.tier:4} {e.name:30} {n:4d} {pct(vi, n)} {pct(pw, n):>9}")
    print("\nRecall per tier (mean over its edits): index vs pairwise")
    for t in TIERS:
        if tier_vals[t]:
            vi = statistics.mean(v[0] for v in tier_vals[t])
            pw = statistics.mean(v[1] for v in tier_vals[t])
            print(f"  tier {t}: index {100 * vi:6.2f}%  pairwise {100 * pw:6.2f}%  "
                  f"gap {100 * (pw - vi):5.2f} points")
    print(f"\nFalse alerts over {len(unrel)} unrelated queries: {len(false_alerts)}"
          f" (copy {sum(f[2] == 'copy' for f in false_alerts)}, similar "
          f"{sum(f[2] == 'similar' for f in false_alerts)}); dataset duplicates skipped: "
          f"{dup_skipped}")
    for f in false_alerts[:10]:
        print(f"    {f}")
    print("\nQuery time (one core, the query's analysis excluded):")
    for label, ts in (("all queries", times + unrel_times), ("edited copies", times),
                      ("unrelated photos", unrel_times)):
        ts = sorted(ts)
        print(f"  {label:17} median {1000 * statistics.median(ts):6.1f} ms, "
              f"p95 {1000 * ts[int(0.95 * len(ts))]:6.1f} ms  ({len(ts)} queries)")
    per_photo = mem / len(matcher)
    print(f"Index memory: {mem / 2**20:.0f} MB for {len(matcher):,} photos "
          f"({per_photo / 1024:.1f} KB a photo) -> ~{per_photo * 10_000 / 2**30:.2f} GB at 10,000")
    rss = resident_growth([(fp, feats) for _, fp, feats in rows])
    print(f"  measured: the process grows by {rss / 2**20:.0f} MB (resident) loading the catalog "
          f"and answering one query -> ~{rss / len(rows) * 10_000 / 2**30:.2f} GB at 10,000")

    # Reverse: a newly registered photo against every competitor thumbnail seen so far.
    rev = originals[: args.reverse]
    thumbs = [(("copy", path, edit), thumb) for _, path, edit, _, _, thumb in copies
              if path in rev]
    thumbs += [(("unrelated", path, ""), th) for path, _, _, th in unrel[:150]]
    cands = []
    for key, th in thumbs:
        try:
            cands.append((key, Analysis.from_thumbnail(th)))
        except ValueError:
            continue
    got: dict[str, list[bool]] = defaultdict(list)
    fa_rev, t_rev = 0, []
    for o in rev:
        t = time.perf_counter()
        found = {k for k, r in match_against(stored[pid_of[o]], cands) if r.kind == "copy"}
        t_rev.append(time.perf_counter() - t)
        for key, _ in cands:
            if key[0] == "copy" and key[1] == o:
                got[next(e.tier for e in EDITS if e.name == key[2])].append(key in found)
        fa_rev += sum(1 for k in found if k[0] == "unrelated")
    print(f"\nReverse direction (match_against over {len(cands)} stored thumbnails, "
          f"{len(rev)} originals): " + ", ".join(
              f"tier {t} {100 * sum(v) / len(v):.1f}%" for t, v in sorted(got.items()) if v)
          + f"; false alerts {fa_rev}; {1000 * statistics.median(t_rev) / len(cands):.2f} ms"
          " a candidate thumbnail (analysed once beforehand)")


if __name__ == "__main__":
    main()
