"""The allocator setting that keeps a growing inverted file resident at its size."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from daemon.matching.allocator import map_large_blocks, mapped_while_growing

ROOT = Path(__file__).resolve().parents[1]

# Grows an inverted file of 512 lists by 200 entries at a time (one image's descriptors)
# to 2M entries, ~150 KB of codes and ids a list; prints resident growth over the data.
GROW = textwrap.dedent("""
    import os, sys
    import faiss, numpy as np
    from daemon.matching.allocator import map_large_blocks
    if sys.argv[1] == "mapped":
        assert map_large_blocks()
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    rng = np.random.default_rng(0)
    pool = rng.integers(0, 256, (100_000, 32), dtype=np.uint8)
    lists = rng.integers(0, 512, len(pool)).astype(np.int64)
    quantizer = faiss.IndexBinaryFlat(256)
    ivf = faiss.IndexBinaryIVF(quantizer, 256, 512)
    ivf.is_trained = True
    base = rss()
    for image in range(10_000):
        at = int(rng.integers(0, len(pool) - 200))
        x, a = pool[at:at + 200], lists[at:at + 200]
        ids = (np.int64(image) << 8) | np.arange(200, dtype=np.int64)
        ivf.add_core(200, faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(a))
    print((rss() - base) / (ivf.ntotal * 40))
""")


def _growth(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", GROW, mode], cwd=ROOT, capture_output=True,
                         text=True, timeout=300, check=True)
    return float(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_map_large_blocks_keeps_growing_lists_resident_at_their_size() -> None:
    assert map_large_blocks() and map_large_blocks()  # idempotent
    heap, mapped = _growth("heap"), _growth("mapped")
    # default: the doubled lists' unused halves and freed blocks stay resident
    assert heap > 1.25, heap
    assert mapped < 1.1, mapped


# Allocates and fills a 1 MB array 200 times (an image-sized temporary) inside or after
# mapped_while_growing(); prints the page faults it took.
TEMPORARIES = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from daemon.matching.allocator import mapped_while_growing
    def faults():
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    def churn():
        before = faults()
        for _ in range(200):
            np.ones(1 << 20, np.uint8)
        return faults() - before
    with mapped_while_growing() as done:
        assert done
        inside = churn()
    print(inside, churn())
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_temporaries_come_from_the_heap_again_once_the_lists_have_grown() -> None:
    """Only the index's growth maps blocks on their own: a verification's image-sized
    temporaries would each be a fresh mapping, faulted in page by page."""
    with mapped_while_growing() as done:
        assert done
    out = subprocess.run([sys.executable, "-c", TEMPORARIES], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    inside, after = map(int, out.stdout.split())
    assert inside > 200 * 200, inside  # 256 pages a fresh 1 MB mapping
    assert after < 2_000, after  # the freed block is reused


# Frees every other of 800 filled 64 KB blocks (holes in the heap, 25 MB), then enters
# mapped_while_growing(); prints the resident bytes it gave back.
HOLES = textwrap.dedent("""
    import os
    import numpy as np
    from daemon.matching.allocator import mapped_while_growing
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    with mapped_while_growing():
        pass  # the heap threshold from here on, as between two adds
    blocks = [np.ones(64 * 1024, np.uint8) for _ in range(800)]
    del blocks[::2]
    before = rss()
    with mapped_while_growing():
        given_back = before - rss()
    print(given_back)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_growing_gives_the_heaps_free_pages_back_first() -> None:
    """A list that doubles into a freed heap block would make all its pages resident."""
    out = subprocess.run([sys.executable, "-c", HOLES], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    assert int(out.stdout.split()[-1]) > 20 * 2**20, out.stdout
