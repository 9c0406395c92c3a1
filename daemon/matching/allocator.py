"""glibc told to map large blocks on their own, so a growing index is resident at its size.

faiss keeps each inverted list in a std::vector that doubles its capacity as it grows and
frees the old block. glibc serves a block over its mmap threshold with its own mapping:
only the pages written are resident and a free returns them to the system. Below the
threshold blocks come from the heap, where the unused half of a doubled list is resident
and freed blocks' pages stay with the process. The threshold starts at 128 KB but rises
to the size of any mapped block freed (up to 32 MB), so soon after the first lists grow
every list lives on the heap. Measured on 8,192 lists grown to 20M entries (763 MB of
codes and ids, 10^5 images): 1,086 MB resident by default, 838 MB with the threshold
fixed at 16 KB, 773 MB for the same lists read from a file (docs/MATCHING.md).
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

log = logging.getLogger(__name__)

# Lists at 10^5 images: ~80 KB of codes and ~20 KB of ids on average, so both mapped (16k
# mappings, well under Linux's 65,530 a process). 32 KB measured 866 MB, 64 KB 911 MB.
MMAP_THRESHOLD = 16 * 1024
# Outside the index's growth, blocks under this size come from the heap again: with 16 KB
# every image-sized temporary of a verification (a 640 px frame is 1.2 MB) was a new
# mapping, zero-filled page by page: 3,400 page faults and 15 ms of system time per
# verified candidate (of ~55 ms). glibc's own sliding threshold stops here on 64-bit
# (its maximum), and like it the heap keeps that much free at its top instead of giving
# it back after each verification, only to fault it in again.
HEAP_THRESHOLD = 32 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>


@cache
def _glibc(name: str, *argtypes: Any) -> Any:
    """A glibc function returning int, looked up once (every index add calls mallopt
    twice and malloc_trim once); None where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = getattr(ctypes.CDLL(None), name)  # the C library the process uses
    except (OSError, AttributeError):
        return None
    function.argtypes, function.restype = argtypes, ctypes.c_int
    return function


def _mallopt(param: int, value: int) -> bool:
    """glibc's mallopt; False where the C library is not glibc or refuses the value."""
    mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
    return mallopt is not None and bool(mallopt(param, value))


def map_large_blocks(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix the C allocator's mmap threshold at `threshold` bytes (process-wide, idempotent).

    False where the C library is not glibc or refuses: the index then works as before,
    with the heap's overhead on its lists."""
    done = _mallopt(_M_MMAP_THRESHOLD, threshold)
    if not done:
        log.info("the C library kept its mmap threshold; the index's lists stay on the heap")
    return done


def release_free_pages() -> bool:
    """Give the heap's free pages back to the system (glibc's malloc_trim(0)); False where
    the C library is not glibc."""
    trim = _glibc("malloc_trim", ctypes.c_size_t)
    if trim is None:
        return False
    trim(0)  # 1 when it gave pages back, 0 when there were none: both are fine
    return True


@contextmanager
def mapped_while_growing(threshold: int = MMAP_THRESHOLD) -> Iterator[bool]:
    """Blocks over `threshold` mapped on their own while the body grows the index's lists
    (or reads them back), HEAP_THRESHOLD after it. Process-wide: the caller holds the
    index's lock, and another thread allocating meanwhile is only slower. Yields whether
    the C library took the setting."""
    done = map_large_blocks(threshold)
    # glibc maps a block only when no free chunk of the heap fits it: a list that doubles
    # takes a freed block (a verification's temporary, another list's old block) whose
    # pages are all resident, its unused half too. Freed pages given back first, only
    # what the list writes is resident again. A daemon restarted on 10^5 images then
    # adding 5,000: +191 MB resident without, +119 MB with; 1.2-1.6 ms an add (MATCHING.md).
    release_free_pages()
    try:
        yield done
    finally:
        if done:
            _mallopt(_M_MMAP_THRESHOLD, HEAP_THRESHOLD)
            _mallopt(_M_TRIM_THRESHOLD, HEAP_THRESHOLD)
