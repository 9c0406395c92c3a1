"""The competitor index at scale: `check` and reverse matching as queries of 10^4-10^5 images.

    python -m bench.competitor_set --size 10000     # build the set first (resumable, cached)
    python -m bench.competitor_index --size 10000
    python -m bench.competitor_index --quick        # 2,000 images, 10 originals, 100 queries
    python -m bench.competitor_index --size 10000 --pad-to 100000   # then at 10^5, padded

The set (bench/competitor_set.py): real photos, the 36 tier A-D edits of ORIGINALS of
them, and distractors of real content (crops, collages, edits of other photos). Queried
by the originals (as registered catalog photos: analysed with mirrored features):
recall per tier through the index (candidates verified with compare() on the stored
thumbnail) beside compare() on every copy (the pairwise scan); false matches over
unrelated photos none of which is in the set; query time (median, p95, one core; the
query photo's own analysis is timed apart); index build time, resident memory and disk
per image; extrapolation to 10^6. Analyses of the queries are cached under /tmp.

--pad-to N then grows the index to N images with perturbed copies of the real images'
descriptors (pad_index: building a real 10^5 set takes ~15 h here) and measures again:
query time and memory at N, recall of the real copies among N images.
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.competitor_growth import pad_index, restart_figures, rss
from bench.competitor_set import (
    CACHE_DIR,
    EDITS_AD,
    chunk_path,
    index_chunks,
    load_chunks,
    make_plan,
)
from bench.robustness import SAME_PHOTO_PHASH, log, one_core
from daemon.matching.compare import ANALYSIS_VERSION, Analysis, analyse, compare
from daemon.matching.competitor_index import CompetitorIndex
from daemon.matching.competitor_shortlist import hash_only
from daemon.matching.competitor_verify import (
    AnalysisCache,
    thumbnail_analysis,
    thumbnail_descriptors,
    verify,
)
from daemon.matching.fingerprint import compute_fingerprint, fingerprint_image, hamming64
from daemon.matching.imageio import load_image

TIER = {e.name: e.tier for e in EDITS_AD}


def _query_analyses(paths: list[str], cache: Path) -> dict[str, Analysis]:
    """analyse() of each path (as stored blobs, cached between runs)."""
    saved: dict[str, tuple[bytes, bytes, str]] = {}
    if cache.exists():
        saved = pickle.loads(cache.read_bytes())  # noqa: S301 (written by this bench)
    todo = [p for p in paths if p not in saved]
    for k, p in enumerate(todo, start=1):
        a = analyse(p)
        saved[p] = (a.fingerprint.to_bytes(), a.features_bytes(), a.sha256)
        if k % 100 == 0:
            log(f"  query analyses: {k}/{len(todo)}")
    if todo:
        cache.write_bytes(pickle.dumps(saved))
    return {p: Analysis.from_stored(*saved[p]) for p in paths}


class Thumbs:
    """The set's thumbnails and fingerprint blobs on disk, read back by image id."""

    def __init__(self, path: Path, reuse: bool = False) -> None:
        """reuse: append to the thumbnails a kept workdir holds (their offsets saved by
        save())."""
        offsets = path.with_suffix(".idx")
        self.path, self._at = path, {}
        if reuse and offsets.exists():
            self._at = pickle.loads(offsets.read_bytes())  # noqa: S301 (written by save())
        self._f = open(path, "ab" if self._at else "wb")  # noqa: SIM115

    def save(self) -> None:
        self._f.flush()
        self.path.with_suffix(".idx").write_bytes(pickle.dumps(self._at))

    def __len__(self) -> int:
        return len(self._at)

    def put(self, image_id: int, thumb: bytes, blob: bytes | None, sha: str) -> None:
        raw = pickle.dumps((thumb, blob, sha))
        self._at[image_id] = (self._f.tell(), len(raw))
        self._f.write(raw)

    def rows_as_stored(self, ids: list[int]) -> list[dict]:
        """rows(), each with a fingerprint: the set stores none for distractors (to halve
        its build), the daemon one for every fetched image; made from the thumbnail here
        (outside the timed query: the daemon reads it from SQLite)."""
        out = self.rows(ids)
        for row in out:
            if not row["data"]:
                row["data"] = fingerprint_image(load_image(row["thumb"])).to_bytes()
        return out

    def rows(self, ids: list[int]) -> list[dict]:
        self._f.flush()
        out = []
        with open(self.path, "rb") as f:
            for i in ids:
                if i in self._at:
                    off, n = self._at[i]
                    f.seek(off)
                    thumb, blob, sha = pickle.loads(f.read(n))  # noqa: S301 (ours)
                    out.append({"id": i, "thumb": thumb, "data": blob, "sha256": sha})
        return out


def build_index(size: int, directory: Path, thumbs: Thumbs,
                workers: int = 1) -> tuple[CompetitorIndex, dict]:
    """The index over the first `size` images, with its build time, memory and disk.

    Each image is indexed with the descriptors the daemon indexes it with (made from its
    thumbnail: cached by bench.competitor_set.index_chunks, timed apart in run())."""
    index = CompetitorIndex(directory)
    base, t_index = rss(), 0.0
    for chunk, idesc in zip(load_chunks(size), index_chunks(size, workers=workers), strict=True):
        for image_id, phash, blob, _desc, thumb, sha in chunk:
            thumbs.put(image_id, thumb, blob, sha)
            t = time.perf_counter()
            desc, pts = idesc[image_id]
            index.add(image_id, phash, np.frombuffer(desc, np.uint8).reshape(-1, 32),
                      np.frombuffer(pts, "<f4").reshape(-1, 2))
            t_index += time.perf_counter() - t
        del chunk
    t = time.perf_counter()
    index.close()
    t_index += time.perf_counter() - t
    disk = sum(p.stat().st_size for p in directory.iterdir())
    return index, {"build_s": t_index, "rss": rss() - base, "disk": disk,
                   "memory_bytes": index.memory_bytes()}


def run(size: int, originals: int, unrelated: int, workdir: Path, workers: int = 1,
        pad_to: int = 0) -> dict:
    plan = make_plan(size)
    have = sum(1 for c in range((size + 999) // 1000) if chunk_path(CACHE_DIR, c).exists())
    if have * 1000 < size:
        raise SystemExit(f"only {have * 1000:,} of {size:,} images are built; run "
                         f"python -m bench.competitor_set --size {size} first")
    thumbs = Thumbs(workdir / "thumbs.bin", reuse=True)
    saved = workdir / f"build-{size}.json"
    if saved.exists() and len(thumbs) == size:
        # a kept workdir (--workdir): the index there is loaded, not built again
        log(f"competitor index: reusing the index over {size:,} images in {workdir}")
        index, figures = CompetitorIndex(workdir / "index"), json.loads(saved.read_text())
    else:
        log(f"competitor index: building over {size:,} images")
        index, figures = build_index(size, workdir / "index", thumbs, workers)
        thumbs.save()
        saved.write_text(json.dumps(figures))
    sample = thumbs.rows(list(range(1, min(size, 100) + 1)))
    t = time.perf_counter()
    for row in sample:
        thumbnail_descriptors(row["thumb"])
    figures["entry_ms"] = 1000 * (time.perf_counter() - t) / len(sample)
    log(f"  built in {figures['build_s']:.1f} s; approximate={index.approximate}")
    copies: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for k, item in enumerate(plan.items):
        if item[0] == "copy":
            copies[item[1]].append((k + 1, TIER[item[2]]))
    origs = list(copies)[:originals]
    # keyed by the analysis version: analyses of another version would be compared wrongly
    qa = _query_analyses(origs + plan.unrelated[:unrelated],
                         CACHE_DIR / f"query-analyses-{ANALYSIS_VERSION}.pkl")

    res = {"size": size, **figures, **measure(index, thumbs, plan, copies, origs, qa,
                                              unrelated)}
    index.close()
    res["restart"] = restart_figures(workdir / "index", size)
    if pad_to > size:
        log(f"competitor index: padding to {pad_to:,} images")
        t = time.perf_counter()
        base = rss()
        pad_index(index, size, pad_to)
        index.analyses = AnalysisCache()  # the queries again: none verified from memory
        res["padded"] = {"size": pad_to, "pad_s": time.perf_counter() - t,
                         "rss": res["rss"] + rss() - base,
                         "memory_bytes": index.memory_bytes(),
                         **measure(index, thumbs, plan, copies, origs, qa, unrelated)}
        index.close()
        res["padded"]["disk"] = sum(p.stat().st_size for p in (workdir / "index").iterdir())
        res["padded"]["restart"] = restart_figures(workdir / "index", size)
    return res


def measure(index: CompetitorIndex, thumbs: Thumbs, plan, copies: dict, origs: list[str],
            qa: dict[str, Analysis], unrelated: int) -> dict:
    """Recall of the originals' copies through the index vs pairwise, and the unrelated
    queries' false matches and times."""
    recall: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    t_orig: list[float] = []
    dump: list[dict] = []  # per copy and per unrelated query (--dump)
    for o in origs:
        a = qa[o]
        t = time.perf_counter()
        shortlisted = index.candidates(a)
        cands = [c.image_id for c in shortlisted]
        t_search = time.perf_counter() - t
        rows = thumbs.rows_as_stored(cands)
        t = time.perf_counter()
        found = {i for i, r in verify(a, rows, index.analyses, hash_only(shortlisted))
                 if r.kind == "copy"}
        t_orig.append(t_search + time.perf_counter() - t)
        by_id = {c.image_id: c for c in shortlisted}
        for image_id, tier in copies[o]:
            [row] = thumbs.rows([image_id])
            pairwise = compare(a, thumbnail_analysis(row, mirror=False)).kind == "copy"
            recall[tier].append((image_id in found, pairwise))
            c = by_id.get(image_id)
            dump.append({"original": Path(o).name, "image": image_id, "tier": tier,
                         "found": image_id in found, "pairwise": pairwise,
                         "rank": cands.index(image_id) if c else None,
                         "inliers": c.inliers if c else None, "votes": c.votes if c else None})
    false, dups, t_un, n_cands, t_cand = [], 0, [], [], []
    for u in plan.unrelated[:unrelated]:
        a = qa[u]
        t = time.perf_counter()
        shortlisted = index.candidates(a)
        cands = [c.image_id for c in shortlisted]
        t_cand.append(time.perf_counter() - t)
        rows = thumbs.rows_as_stored(cands)
        looked = index.analyses.hits + index.analyses.misses
        t = time.perf_counter()
        hits = list(verify(a, rows, index.analyses, hash_only(shortlisted)))
        t_un.append(t_cand[-1] + time.perf_counter() - t)
        # verified: every candidate verify() did not rule out by its stored fingerprint
        n_cands.append(index.analyses.hits + index.analyses.misses - looked)
        dump.append({"unrelated": Path(u).name, "ms": round(1000 * t_un[-1], 1),
                     "search_ms": round(1000 * t_cand[-1], 1), "candidates": len(cands),
                     "verified": n_cands[-1],
                     "near": sum(c.near for c in shortlisted),
                     "inliers": [c.inliers for c in shortlisted],
                     "hits": [[i, r.kind, r.details.get("inliers")] for i, r in hits]})
        for image_id, r in hits:
            item = plan.items[image_id - 1]
            srcs = [item[1]] if isinstance(item[1], str) else list(item[1])
            if any(hamming64(compute_fingerprint(s).phash, a.fingerprint.phash)
                   <= SAME_PHOTO_PHASH for s in srcs):
                dups += 1  # the same photo is in both dataset folders (SOURCES.md)
            else:
                false.append((Path(u).name, image_id, item[0], r.kind, r.details.get("inliers")))
    return {"recall": recall, "false": false, "dups": dups, "t_orig": t_orig, "t_un": t_un,
            "t_cand": t_cand, "cands": n_cands, "unrelated": unrelated, "dump": dump,
            "approximate": index.approximate,
            "cache": (index.analyses.hits, index.analyses.misses)}


def report(res: dict) -> None:
    n = res["size"]
    print(f"\n== {n:,} competitor images (inverted file: {res['approximate']}) ==")
    print(f"Build (index only, from analysed images): {res['build_s']:.1f} s "
          f"({1000 * res['build_s'] / n:.2f} ms an image)")
    print(f"Index entry of one image (descriptors from its thumbnail, at fetch): "
          f"{res['entry_ms']:.1f} ms")
    print(f"Memory: resident growth {res['rss'] / 2**20:.0f} MB "
          f"({res['rss'] / n / 1024:.2f} KB an image); memory_bytes() "
          f"{res['memory_bytes'] / 2**20:.0f} MB")
    print(f"Disk: {res['disk'] / 2**20:.1f} MB ({res['disk'] / n / 1024:.2f} KB an image; "
          "the thumbnail the store already keeps comes on top)")
    report_restart(res["restart"])
    report_queries(res)
    if "padded" in res:
        p = res["padded"]
        print(f"\n== padded to {p['size']:,} images (the {n:,} real ones plus perturbed copies "
              "of their descriptors: bench.competitor_index.pad_index) ==")
        print(f"Padding took {p['pad_s']:.0f} s; memory: resident growth {p['rss'] / 2**20:.0f} MB "
              f"({p['rss'] / p['size'] / 1024:.2f} KB an image); memory_bytes() "
              f"{p['memory_bytes'] / 2**20:.0f} MB")
        print(f"Disk: {p['disk'] / 2**20:.0f} MB ({p['disk'] / p['size'] / 1024:.2f} KB an image)")
        report_restart(p["restart"])
        report_queries(p)


def report_restart(r: dict) -> None:
    print(f"After a restart (a new process loading the saved index): {r['images']:,} images "
          f"in {r['load_s']:.1f} s, resident {r['rss'] / 2**20:.0f} MB "
          f"({r['rss'] / r['images'] / 1024:.2f} KB an image); after adding {r['adds']:,} "
          f"more one at a time, as the daemon does: {r['rss_after_adds'] / 2**20:.0f} MB")


def report_queries(res: dict) -> None:
    """Recall per tier, false matches and query times of one measure()."""
    print("Recall (copy) per tier: through the index vs pairwise compare() on the same copies")
    for tier in sorted(res["recall"]):
        v = res["recall"][tier]
        vi, pw = sum(x for x, _ in v) / len(v), sum(y for _, y in v) / len(v)
        print(f"  tier {tier}: index {100 * vi:6.2f}%  pairwise {100 * pw:6.2f}%  "
              f"gap {100 * (pw - vi):5.2f} points  ({len(v)} copies)")
    f = res["false"]
    print(f"False matches over {res['unrelated']} unrelated queries: {len(f)} (copy "
          f"{sum(x[3] == 'copy' for x in f)}, similar {sum(x[3] == 'similar' for x in f)}); "
          f"dataset duplicates skipped {res['dups']}")
    for x in sorted(f, key=lambda x: x[3] != "copy")[:8]:  # false copies first
        print(f"    {x}")
    for label, ts in (("unrelated photo", res["t_un"]), ("original (has copies)", res["t_orig"])):
        ts = sorted(ts)
        print(f"Query time, {label}: median {1000 * statistics.median(ts):.0f} ms, "
              f"p95 {1000 * ts[int(0.95 * (len(ts) - 1))]:.0f} ms ({len(ts)} queries, one core, "
              "candidates + verification; the query's own analysis excluded)")
    print(f"Index search alone (candidates, both orientations), unrelated photo: median "
          f"{1000 * statistics.median(res['t_cand']):.0f} ms")
    print(f"Candidates verified per unrelated query: median {statistics.median(res['cands']):.0f}"
          f", max {max(res['cands'])}")
    hits, misses = res["cache"]
    print(f"Candidate analyses reused from the index's cache: {hits} of {hits + misses} "
          f"({100 * hits / max(1, hits + misses):.0f}%; queries run one after another)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, nargs="+", default=[10_000])
    ap.add_argument("--originals", type=int, default=60)
    ap.add_argument("--unrelated", type=int, default=1000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pad-to", type=int, default=0, metavar="N",
                    help="then pad the index to N images (pad_index) and measure again")
    ap.add_argument("--workers", type=int, default=1,
                    help="processes making the (cached) index descriptors of the set")
    ap.add_argument("--workdir", type=Path, metavar="DIR",
                    help="keep the built index here and reuse it on the next run of the same "
                    "size (query-side changes only: a change to what is indexed needs a new DIR)")
    ap.add_argument("--dump", type=Path, metavar="FILE",
                    help="write each copy's and each unrelated query's outcome here (JSON lines)")
    args = ap.parse_args(argv)
    if args.quick:
        args.size, args.originals, args.unrelated = [2000], 10, 100
    one_core()
    results = []
    for size in args.size:
        if args.workdir:
            (args.workdir / str(size)).mkdir(parents=True, exist_ok=True)
            res = run(size, args.originals, args.unrelated, args.workdir / str(size),
                      args.workers, args.pad_to)
        else:
            with tempfile.TemporaryDirectory(prefix="pg-competitor-bench-") as d:
                res = run(size, args.originals, args.unrelated, Path(d), args.workers,
                          args.pad_to)
        report(res)
        results.append(res)
        if args.dump:
            with args.dump.open("a") as f:
                for row in res["dump"] + res.get("padded", {}).get("dump", []):
                    f.write(json.dumps({"size": size, **row}) + "\n")
    if len(results) >= 2:
        # Linear in images: disk, and memory by memory_bytes() (resident growth in one
        # process is dominated by the training sample and allocator reuse). Query time is
        # given per size measured, not extrapolated, when the machine's load moved it.
        b = results[-1]
        print(f"\nExtrapolated to 10^6 images: disk ~{b['disk'] / b['size'] * 1e6 / 2**30:.1f} GB,"
              f" index memory ~{b['memory_bytes'] / b['size'] * 1e6 / 2**30:.1f} GB; unrelated "
              "query median by size: " + ", ".join(
                  f"{r['size']:,}: {1000 * statistics.median(r['t_un']):.0f} ms" for r in results))

if __name__ == "__main__":
    main()
