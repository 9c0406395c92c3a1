"""How an inverted file's lists keep the descriptor pairs a copy is found by.

A copy is voted for through the descriptor pairs it shares with its original; the
inverted file only sees a pair when the copy's descriptor sits in a list the query
probes. For the tier C and D copies of the 10^4 set (bench/competitor_set.py) that
compare() calls `copy`, the pairs compare()'s RANSAC would keep (nearest within 64 bits
of the copy's indexed descriptors, one similarity transform, 6 px) are found by brute
force; then for each quantizer: the share of those pairs in a probed list, the copies
left with 6+ of them (what the geometric check needs), and the entries scanned per query
descriptor (the search cost). The naive rule, LSH on sampled bits, is measured beside.

    python -m bench.ivf_lists            # 2,048 x 2 (before), 4,096 x 4, 8,192 x 8, ...
    python -m bench.ivf_lists --quick    # 15 originals, 2,048 and 4,096 lists only
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import cv2
import faiss
import numpy as np

from bench.competitor_index import TIER, _query_analyses
from bench.competitor_set import CACHE_DIR, index_chunks, load_chunks, make_plan
from bench.robustness import log, one_core
from daemon.matching.compare import ANALYSIS_VERSION, compare
from daemon.matching.competitor_ivf import new_ivf
from daemon.matching.competitor_verify import thumbnail_analysis

SIZE = 10_000


def copy_pairs(originals: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(query descriptors, copy descriptors, copy number, tier of each copy) of the pairs
    kept by RANSAC between each original and its tier C/D copies compare() calls copy."""
    plan = make_plan(SIZE)
    copies: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for k, item in enumerate(plan.items):
        if item[0] == "copy" and TIER[item[2]] in "CD":
            copies[item[1]].append((k + 1, TIER[item[2]]))
    origs = list(copies)[:originals]
    qa = _query_analyses(origs, CACHE_DIR / f"query-analyses-{ANALYSIS_VERSION}.pkl")
    wanted = {i for o in origs for i, _ in copies[o]}
    rows, desc = {}, {}
    for chunk, idesc in zip(load_chunks(SIZE), index_chunks(SIZE), strict=True):
        for image_id, _ph, blob, _d, thumb, sha in chunk:
            if image_id in wanted:
                rows[image_id] = {"id": image_id, "thumb": thumb, "data": blob, "sha256": sha}
                d, p = idesc[image_id]
                desc[image_id] = (np.frombuffer(d, np.uint8).reshape(-1, 32),
                                  np.frombuffer(p, "<f4").reshape(-1, 2))
    q_all, c_all, t_all, tiers = [], [], [], []
    for o in origs:
        for image_id, tier in copies[o]:
            if compare(qa[o], thumbnail_analysis(rows[image_id], mirror=False)).kind != "copy":
                continue
            d, pts = desc[image_id]
            best = None
            for f in (qa[o].features, qa[o].features_mirror):
                q = np.ascontiguousarray(f.descriptors[:1000])
                flat = faiss.IndexBinaryFlat(256)
                flat.add(d)
                dist, lab = flat.search(q, 1)
                ok = np.flatnonzero(dist[:, 0] <= 64)
                if len(ok) < 4:
                    continue
                _, mask = cv2.estimateAffinePartial2D(
                    pts[lab[ok, 0]], f.points[ok].astype(np.float32), method=cv2.RANSAC,
                    ransacReprojThreshold=6, maxIters=2000)
                if mask is not None and (best is None or mask.sum() > len(best[0])):
                    keep = ok[mask.ravel().astype(bool)]
                    best = (q[keep], d[lab[keep, 0]])
            if best is not None:
                q_all.append(best[0])
                c_all.append(best[1])
                t_all.append(np.full(len(best[0]), len(tiers)))
                tiers.append(tier)
    return np.concatenate(q_all), np.concatenate(c_all), np.concatenate(t_all), tiers


def all_codes() -> np.ndarray:
    """Every indexed descriptor of the 10^4 set (what the lists hold)."""
    return np.concatenate([np.frombuffer(d, np.uint8).reshape(-1, 32)
                           for idesc in index_chunks(SIZE) for d, _ in idesc.values()])


def report(name: str, hit: np.ndarray, cost: float, copy_of: np.ndarray,
           tiers: np.ndarray) -> None:
    per_copy = np.bincount(copy_of, weights=hit, minlength=len(tiers))
    share = {t: 100 * float((per_copy[tiers == t] >= 6).mean()) for t in "CD"}
    print(f"  {name:34s} scanned {cost:7.0f} a query descriptor | pairs in a probed list "
          f"{100 * hit.mean():5.1f}% | copies with 6+: C {share['C']:5.1f}% "
          f"D {share['D']:5.1f}%", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="15 originals, two quantizers")
    args = ap.parse_args()
    one_core()
    q, c, copy_of, tier_list = copy_pairs(15 if args.quick else 60)
    tiers = np.array(tier_list)
    codes = all_codes()
    log(f"{len(q):,} pairs of {len(tiers)} copies; {len(codes):,} indexed descriptors")
    rng = np.random.default_rng(0)
    configs = [(2048, (1, 2, 8)), (4096, (2, 4))] if args.quick else [
        (1024, (1, 2)), (2048, (1, 2, 4, 8)), (4096, (2, 4, 8)), (8192, (4, 8, 16))]
    for nlist, probes in configs:
        t = time.perf_counter()
        sample = codes[np.sort(rng.choice(len(codes), nlist * 39, replace=False))]
        ivf = new_ivf(sample, nlist, 10, 1)  # owns its quantizer: kept alive while used
        quant = faiss.downcast_IndexBinary(ivf.quantizer)
        log(f"{nlist} lists trained in {time.perf_counter() - t:.0f} s")
        sizes = np.bincount(quant.search(codes, 1)[1][:, 0], minlength=nlist)
        copy_list = quant.search(c, 1)[1][:, 0]
        query_lists = quant.search(q, max(probes))[1]
        for p in probes:
            hit = (query_lists[:, :p] == copy_list[:, None]).any(1)
            report(f"k-means {nlist:,} lists x {p}", hit, sizes[query_lists[:, :p]].sum(1).mean(),
                   copy_of, tiers)
    # the naive alternative: LSH on 12 balanced, weakly correlated bits, with each 1-bit
    # neighbour bucket probed too
    bits = np.unpackbits(codes[:200_000], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):  # constant bits have no correlation
        corr = np.nan_to_num(np.corrcoef(bits[:50_000].T.astype(np.float32)))
    chosen: list[int] = []
    for b in np.argsort(abs(bits.mean(0) - 0.5)):
        if all(abs(corr[b, x]) < 0.2 for x in chosen):
            chosen.append(int(b))
        if len(chosen) == 12:
            break
    weights = 1 << np.arange(12)

    def key(x: np.ndarray) -> np.ndarray:
        return (np.unpackbits(x, axis=1)[:, chosen] * weights).sum(1)

    kq, kc = key(q), key(c)
    sizes = np.bincount(key(codes), minlength=1 << 12)
    flips = kq[:, None] ^ weights[None, :]
    hit = (kq == kc) | (flips == kc[:, None]).any(1)
    report("LSH 12 bits + 1-bit neighbours", hit,
           sizes[kq].mean() + sizes[flips].sum(1).mean(), copy_of, tiers)


if __name__ == "__main__":
    main()
