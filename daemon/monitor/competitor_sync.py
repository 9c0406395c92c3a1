"""Keeping the competitor index in step with the store, and querying it for one photo.

The index (daemon.matching.competitor_index) gets each image as it is fetched; this
module adds what it misses (images fetched before it existed, or every image after
an analysis version change emptied it) from the stored thumbnails, and answers "which
stored images copy or resemble this photo" as index candidates verified by compare().
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from daemon.matching.compare import Analysis, MatchResult
from daemon.matching.competitor_index import CompetitorIndex
from daemon.matching.competitor_shortlist import hash_only
from daemon.matching.competitor_verify import index_entry, verify
from daemon.matching.imageio import ImageError
from daemon.store import Store

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]
SYNC_BATCH = 200


def desc_none():
    """No descriptors nor positions (an image that could not be analysed stays out of the
    votes)."""
    import numpy as np

    return np.zeros((0, 32), np.uint8), np.zeros((0, 2), np.float32)


def sync_competitor_index(store: Store, index: CompetitorIndex,
                          progress: Progress | None = None, limit: int | None = None) -> dict:
    """Index every fetched image the index does not hold yet (from its thumbnail)."""
    missing = index.missing(store.fetched_image_ids())
    if limit is not None:
        missing = missing[:limit]
    added = failed = 0
    for lo in range(0, len(missing), SYNC_BATCH):
        for row in store.images_for_index(missing[lo:lo + SYNC_BATCH]):
            try:
                phash, desc, points = index_entry(row)
            except (ImageError, ValueError) as exc:
                # Indexed with no descriptors, so it is not retried on every run; the
                # fetch recorded the image, and the hash layer still sees its pHash.
                log.warning("cannot index image %s from its thumbnail: %s", row["id"], exc)
                index.add(row["id"], 0, *desc_none())
                failed += 1
                continue
            index.add(row["id"], phash, desc, points)
            added += 1
            if progress:
                progress("index", added + failed, len(missing))
    if missing:
        index.close()  # a snapshot, so the next start does not replay the whole catch-up
    return {"indexed": added, "failed": failed, "total": len(index)}


def query_competitors(store: Store, index: CompetitorIndex, analysis: Analysis,
                      rows_for: Callable[[list[int]], list[dict]] | None = None
                      ) -> list[tuple[int, MatchResult]]:
    """Stored competitor images that copy or resemble `analysis`, best first.

    Candidates: identical bytes (SHA-256), close pHash and the most voted images of the
    index; each verified with compare() on its stored thumbnail. `rows_for` fetches the
    candidate rows to verify (default: all of them; the reverse pass leaves out images
    the forward pass already compared with the photo).
    """
    cands = index.candidates(analysis)
    ids = [c.image_id for c in cands]
    if analysis.sha256:
        ids = list(dict.fromkeys(store.fetched_image_ids_by_sha(analysis.sha256) + ids))
    if not ids:
        return []
    rows = (rows_for or store.images_for_verify)(ids)
    found = list(verify(analysis, rows, index.analyses, hash_only(cands)))
    found.sort(key=lambda ir: (ir[1].kind != "copy", -ir[1].score, ir[0]))
    return found
