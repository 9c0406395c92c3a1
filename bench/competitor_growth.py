"""A competitor index grown beyond the real set: padded with stand-in images, and a
daemon's restart followed by its adds (bench/competitor_index.py's memory figures).

Stand-ins are real images' index entries with ~40 of 256 bits flipped a descriptor: the
same list sizes, but beyond VOTE_DISTANCE of their source, so no copy gains or loses votes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bench.competitor_set import index_chunks
from bench.robustness import log
from daemon.matching.competitor_index import CompetitorIndex


def rss() -> int:
    """This process's resident bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def restart_figures(directory: Path, size: int, adds: int = 1000) -> dict:
    """Load time and resident memory of the saved index in a new process (a daemon
    restart), then after it added `adds` more images as a daemon does, one at a time (on
    a copy): the growing process's figure includes what the allocator kept."""
    code = ("import shutil, tempfile, time\n"
            "from pathlib import Path\n"
            "from daemon.matching.competitor_index import CompetitorIndex\n"
            "from bench.competitor_growth import rss, perturbed_images\n"
            f"with tempfile.TemporaryDirectory(dir={str(directory.parent)!r}) as tmp:\n"
            "    copy = Path(tmp) / 'index'\n"
            f"    shutil.copytree({str(directory)!r}, copy)\n"
            "    base = rss(); t = time.perf_counter()\n"
            "    index = CompetitorIndex(copy); n = len(index)\n"
            "    load_s, loaded = time.perf_counter() - t, rss() - base\n"
            f"    for k, (desc, pts) in enumerate(perturbed_images({size}, {adds})):\n"
            "        index.add(10_000_000 + k, k, desc, pts)\n"
            "    print(n, load_s, loaded, rss() - base)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1]).stdout.split()
    return {"images": int(out[0]), "load_s": float(out[1]), "rss": int(out[2]),
            "adds": adds, "rss_after_adds": int(out[3])}


def perturbed_images(size: int, count: int | None = None,
                     seed: int = 1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(descriptors, positions) of the first `size` images' index entries over and over,
    each descriptor with ~40 of its 256 bits flipped: images the set does not hold (the
    same list sizes) ~40+ bits from their source, beyond VOTE_DISTANCE."""
    rng = np.random.default_rng(seed)
    made = 0
    while count is None or made < count:
        for idesc in index_chunks(size):
            for desc, pts in idesc.values():
                if count is not None and made >= count:
                    return
                d = np.frombuffer(desc, np.uint8).reshape(-1, 32)
                flip = np.packbits(rng.random((len(d), 256)) < 40 / 256, axis=1)
                yield d ^ flip, np.frombuffer(pts, "<f4").reshape(-1, 2)
                made += 1


def pad_index(index: CompetitorIndex, size: int, target: int) -> None:
    """Add images up to `target`: each the indexed descriptors of one of the `size` real
    images with every bit flipped at chance 40/256, a random pHash, the same positions.

    They load the inverted lists as real images would (same descriptor distribution, so
    the same list sizes) but sit ~40+ bits from their source, beyond VOTE_DISTANCE, so
    they take no votes from the source's copies: query time and memory at `target`,
    while the recall measured is still that of the real copies among more images.
    They have no thumbnail; one reaching verification would be skipped (none did)."""
    rng = np.random.default_rng(2)  # the pHashes
    for k, (desc, pts) in enumerate(perturbed_images(size, target - len(index))):
        index.add(10_000_000 + k, int(rng.integers(0, 2**63)), desc, pts)
        if len(index) % 10_000 == 0:
            log(f"  padded to {len(index):,} images")
