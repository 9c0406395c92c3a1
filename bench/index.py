"""Hamming index speed at a million stored hashes, against a pure-Python imagehash loop.

    python -m bench.index              # 1,000,000 hashes, 200 queries
    python -m bench.index --quick      # 200,000 hashes, 50 queries

Naive = `[(i, h - q) for i, h in items if h - q <= r]` over imagehash.ImageHash
objects: timed on a subset and scaled linearly to the full size (it is O(n)).
Targets: at most 5 ms a query, at least 100x faster than naive.
"""

from __future__ import annotations

import argparse
import statistics
import time

import imagehash
import numpy as np

from bench.robustness import log
from daemon.matching.hamming import HammingIndex

RADIUS = 10


def random_hashes(rng: np.random.Generator, n: int, words: int) -> np.ndarray:
    return rng.integers(0, 2**63, size=(n, words), dtype=np.uint64) * 2 + rng.integers(
        0, 2, size=(n, words), dtype=np.uint64)


def plant(rng: np.random.Generator, codes: np.ndarray, queries: np.ndarray, bits: int) -> None:
    """Hide, for each query, 5 stored hashes within a few bits of it (so queries find things)."""
    for q in range(len(queries)):
        for k in range(5):
            row = codes[rng.integers(len(codes))]
            row[:] = queries[q]
            for b in rng.choice(bits, size=k + 1, replace=False):
                row[b // 64] ^= np.uint64(1) << np.uint64(b % 64)


def timed(fn, queries) -> list[float]:
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append(time.perf_counter() - t)
    return out


def bench_bits(bits: int, n: int, nq: int, naive_n: int) -> None:
    rng = np.random.default_rng(bits)
    words = bits // 64
    codes = random_hashes(rng, n, words)
    queries = random_hashes(rng, nq, words)
    plant(rng, codes, queries, bits)
    ix = HammingIndex(bits)
    t = time.perf_counter()
    ix.add(np.arange(n), codes if words > 1 else codes[:, 0])
    t_add = time.perf_counter() - t
    qs = [q if words > 1 else q[0] for q in queries]
    radius = RADIUS if bits == 64 else 4 * RADIUS
    t_r = timed(lambda q: ix.query(q, radius), qs)
    t_k = timed(lambda q: ix.knn(q, 5), qs)
    found = statistics.mean(len(ix.query(q, radius)) for q in qs[:20])
    # Naive: imagehash objects and a Python loop, on a subset.
    side = int(np.sqrt(bits))
    items = [(i, imagehash.ImageHash(np.unpackbits(codes[i].astype(">u8").view(np.uint8))
                                     .astype(bool).reshape(side, side))) for i in range(naive_n)]
    nqs = [imagehash.ImageHash(np.unpackbits(q.astype(">u8").view(np.uint8)).astype(bool)
                               .reshape(side, side)) for q in queries[:5]]
    t_naive = [x * n / naive_n for x in timed(
        lambda q: [(i, h - q) for i, h in items if h - q <= radius], nqs)]
    ours, naive = statistics.median(t_r), statistics.median(t_naive)
    print(f"  {bits}-bit, {n:,} hashes (add {t_add:.2f} s), radius {radius}: "
          f"{1000 * ours:.2f} ms/query (p95 {1000 * sorted(t_r)[int(0.95 * len(t_r))]:.2f}), "
          f"knn(5) {1000 * statistics.median(t_k):.2f} ms; ~{found:.1f} hits a query")
    print(f"    naive imagehash loop: {1000 * naive:.0f} ms/query (timed on {naive_n:,}, scaled)"
          f"  ->  {naive / ours:,.0f}x faster")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.size, args.queries = 200_000, 50
    print("Hamming index (numpy bitwise_count, one thread)")
    for bits in (64, 256):
        log(f"index: {bits}-bit")
        bench_bits(bits, args.size, args.queries, naive_n=min(args.size, 20_000))


if __name__ == "__main__":
    main()
