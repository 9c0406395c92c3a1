"""A stored competitor thumbnail for the index: its entry (index_descriptors), and verifying
a candidate against one photo with compare().

The index (competitor_index.py) only proposes; every finding is the pairwise rule's
answer on the photo and the candidate's thumbnail, exactly as the old full scan gave it.
Index entries come from the thumbnail too (at fetch and in a catch-up alike), so what
is indexed is what is verified.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Container, Hashable, Iterable, Iterator, Mapping
from typing import Any

import cv2
import numpy as np
from PIL import Image

from daemon.matching.compare import (
    EXACT_PDQ_MAX,
    EXACT_PHASH_MAX,
    Analysis,
    MatchResult,
    compare,
    hash_distances,
)

# The ORB detector and the grid spread of features.py: the index's descriptors must be
# the ones the query's features are made of, only chosen otherwise.
from daemon.matching.features import (
    FEATURE_SIDE,
    N_FEATURES,
    QUERY_DETECT_FACTOR,
    feature_frame,
    features_of_frame,
    mirror_frame,
    orb_detector,
    spread_keypoints,
)
from daemon.matching.fingerprint import Fingerprint, fingerprint_image
from daemon.matching.imageio import ImageError, load_image


def _stored(row: Mapping[str, Any]) -> Fingerprint | None:
    """The row's stored fingerprint (of the full image), None when it has none of this
    version."""
    if not row.get("data"):
        return None
    try:
        return Fingerprint.from_bytes(row["data"])
    except ValueError:
        return None  # another version


def stored_fingerprint(row: Mapping[str, Any], im: Image.Image) -> Fingerprint:
    """The row's stored fingerprint (of the full image) when it is of this version, else
    one computed from the thumbnail `im`."""
    fp = _stored(row)
    return fp if fp is not None else fingerprint_image(im)


def thumbnail_analysis(row: Mapping[str, Any], mirror: bool = True) -> Analysis:
    """A competitor image's analysis from its stored row ({thumb, data, sha256}).

    The stored fingerprint (of the full image) is used when it is of this version, else it
    is computed from the thumbnail. Mirrored features are only needed when the photo it is
    compared with has none (compare() flips one side, never both). ImageError/ValueError
    when the thumbnail is unreadable.
    """
    im = load_image(row["thumb"], max_side=FEATURE_SIDE)
    fp = stored_fingerprint(row, im)
    frame = feature_frame(im)
    # detected as every competitor image is (compare.analyse with product=False)
    return Analysis(row.get("sha256") or "", im.width, im.height, fp,
                    features_of_frame(frame, detect=QUERY_DETECT_FACTOR),
                    features_of_frame(mirror_frame(frame), detect=QUERY_DETECT_FACTOR)
                    if mirror else None)


# Of the KEEP descriptors an image is indexed with, this share comes from keypoints
# found COARSE_OCTAVE or more pyramid levels up (strongest first within each grid cell,
# as features.py spreads them), the rest from the whole spread order. A crop shown at
# 640 px is enlarged: its finest keypoints have no counterpart in the original, its
# coarse ones do. A collage or a screenshot shrinks the photo: its fine keypoints match
# the original's coarse ones, so they are not dropped. Chosen on bench/competitor_index.py
# (docs/MATCHING.md): with the spread order alone (the features' first 200) tier C
# reached the candidates 69% of the time, coarse keypoints only 96% but tier D 51-56%.
COARSE_SHARE = 1 / 3
COARSE_OCTAVE = 2

# Descriptors kept per competitor image (chosen on bench/competitor_index.py: see
# docs/MATCHING.md). 40 bytes each in memory (code + faiss id): 200 is 0.8 GB at 10^5
# images. The query side keeps all of its 1,000 (and the mirrored ones).
KEEP = 200

# Verifying a candidate re-extracts its thumbnail's features (~25 ms of a core). The same
# images come back as candidates query after query (busy backdrops collect votes from
# many photos), so the last ANALYSES_KEPT are kept (~45 KB each: ~23 MB).
ANALYSES_KEPT = 512


class AnalysisCache:
    """The analyses of the images verified last, by (image id, content key) (thread-safe)."""

    def __init__(self, size: int = ANALYSES_KEPT) -> None:
        self.size, self.hits, self.misses = size, 0, 0
        self._items: OrderedDict[tuple[int, Hashable], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, image_id: int, key: Hashable) -> Any:
        """The cached value, or None (counted as a miss)."""
        with self._lock:
            value = self._items.get((image_id, key))
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end((image_id, key))
            self.hits += 1
            return value

    def put(self, image_id: int, key: Hashable, value: Any) -> None:
        """Keep `value`, forgetting the least recently used beyond `size`."""
        with self._lock:
            self._items[(image_id, key)] = value
            self._items.move_to_end((image_id, key))
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def drop(self, image_id: int) -> None:
        """Forget an image (its content changed)."""
        with self._lock:
            for k in [k for k in self._items if k[0] == image_id]:
                del self._items[k]


def index_descriptors(im: Image.Image, keep: int = KEEP) -> tuple[np.ndarray, np.ndarray]:
    """The `keep` ORB descriptors a competitor image is indexed with, and their keypoints'
    positions (pixels of its feature frame), for the index's votes and geometric check."""
    frame = feature_frame(im)
    grey = cv2.cvtColor(np.asarray(frame.convert("RGB")), cv2.COLOR_RGB2GRAY)
    # detected from the competitor side's wider pool, as its verification will be: a
    # watermark's letters take most of the strongest corners (1.7x the copy's matching
    # descriptors on crop+watermark copies; MATCHING.md)
    orb = orb_detector(N_FEATURES * QUERY_DETECT_FACTOR)
    kps = spread_keypoints(orb.detect(grey, None), frame.width, frame.height, N_FEATURES)
    kps, desc = orb.compute(grey, kps) if kps else ((), None)
    if desc is None or not len(kps):
        return np.zeros((0, 32), np.uint8), np.zeros((0, 2), np.float32)
    octave = np.array([k.octave for k in kps])
    coarse = np.flatnonzero(octave >= COARSE_OCTAVE)[: int(keep * COARSE_SHARE)]
    rest = np.setdiff1d(np.arange(len(kps)), coarse)  # sorted: the spread order
    order = np.concatenate([coarse, rest])[:keep]
    points = np.array([kps[i].pt for i in order], np.float32).reshape(-1, 2)
    return np.ascontiguousarray(desc[order]), points


def thumbnail_descriptors(thumb: bytes) -> tuple[np.ndarray, np.ndarray]:
    """index_descriptors of a stored thumbnail; ImageError when it is unreadable."""
    return index_descriptors(load_image(thumb, max_side=FEATURE_SIDE))


def index_entry(row: Mapping[str, Any]) -> tuple[int, np.ndarray, np.ndarray]:
    """(pHash, index descriptors, their positions) of a stored image ({thumb, data}), for a
    catch-up."""
    im = load_image(row["thumb"], max_side=FEATURE_SIDE)
    return (stored_fingerprint(row, im).phash, *index_descriptors(im))


def _hash_exact(original: Analysis, row: Mapping[str, Any]) -> bool:
    """Close enough for compare()'s hash layer to call it a copy (pHash and PDQ), from the
    row's stored fingerprint; True when there is none of this version (compare() tells)."""
    fp = _stored(row)
    if fp is None:
        return True
    d = hash_distances(original.fingerprint, fp)
    return d["phash"] <= EXACT_PHASH_MAX and d["pdq"] <= EXACT_PDQ_MAX


def verify(original: Analysis, rows: Iterable[Mapping[str, Any]],
           cache: AnalysisCache | None = None,
           hash_only: Container[int] = frozenset()) -> Iterator[tuple[int, MatchResult]]:
    """(image id, result) for each candidate row that copies or resembles `original`.

    Unreadable thumbnails are skipped (they cannot be verified; the fetch records them).
    `cache` (the index's) keeps the thumbnails' analyses between queries, keyed by
    content (sha256), so a re-fetched image with new content is analysed again.
    `hash_only`: ids shortlisted for a close pHash alone (competitor_shortlist.hash_only),
    verified only when their stored fingerprint is close enough for the hash layer.
    """
    need_mirror = original.features_mirror is None
    for row in rows:
        if int(row["id"]) in hash_only and not _hash_exact(original, row):
            continue
        key = (row.get("sha256") or "", need_mirror)
        other = cache.get(int(row["id"]), key) if cache is not None else None
        if other is None:
            try:
                other = thumbnail_analysis(row, mirror=need_mirror)
            except (ImageError, ValueError):
                continue
            if cache is not None:
                cache.put(int(row["id"]), key, other)
        res = compare(original, other)
        if res.match:
            yield int(row["id"]), res
