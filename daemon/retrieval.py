"""Catalog-scale matching: one image against every catalog photo without pairwise comparisons.

The seller's photos' ORB descriptors live in a faiss binary index; a query's
descriptors (straight and mirrored) vote for catalog photos, a Hamming index over
pHash adds near-exact candidates, and only the few best are verified with the
pairwise rule (daemon.matcher.compare). The reverse direction (a new catalog photo
against competitor images already seen) verifies stored thumbnails the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import faiss
import numpy as np

from daemon.features import Features, feature_frame, features_of_frame, mirror_frame
from daemon.fingerprint import Fingerprint
from daemon.imageio import ImageError, load_image
from daemon.index import HammingIndex
from daemon.matcher import (
    HASH_PHASH_MAX,
    MIN_INLIERS,
    Analysis,
    MatchResult,
    compare,
    hash_distances,
)

# Descriptors per catalog photo put in the index: all of them. Indexing only the first
# 500 lost every collage and screenshot (their matches are the photo's coarse-scale
# keypoints); measured in bench/retrieval.py.
INDEX_DESCRIPTORS = 1000
# Catalog photos verified per query (the most voted), and votes needed to be verified.
VERIFY_TOP = 4
MIN_VOTES = 6
RATIO = 0.8
# Keypoint ids in faiss are photo_id << ID_SHIFT | keypoint number.
ID_SHIFT = 12
# Flat (exact) search below this many descriptors; an inverted-file index above.
IVF_FROM = 200_000
NPROBE = 8
TRAIN_PER_LIST = 16
# Query descriptors searched, straight and mirrored each (the first ones: spread).
QUERY_DESCRIPTORS = 600


class DescriptorIndex:
    """ORB descriptors of many photos in one faiss binary index, with per-photo removal."""

    def __init__(self) -> None:
        self._flat = faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(256))
        self._ivf: faiss.IndexBinaryIVF | None = None
        self._trained_on = 0
        # The photos' own descriptor arrays (views, not copies), kept to retrain the IVF.
        self._desc: dict[int, np.ndarray] = {}
        self.count = 0

    @property
    def index(self) -> Any:
        return self._ivf if self._ivf is not None else self._flat

    def add(self, photo_id: int, desc: np.ndarray) -> None:
        desc = np.ascontiguousarray(desc[: 1 << ID_SHIFT], dtype=np.uint8)
        if not len(desc):
            return
        ids = (np.int64(photo_id) << ID_SHIFT) | np.arange(len(desc), dtype=np.int64)
        self._desc[photo_id] = desc
        self.index.add_with_ids(desc, ids)
        self.count += len(desc)

    def _maybe_rebuild(self) -> None:
        """Train the IVF lazily (first query after a bulk load), again at 4x the size."""
        if self.count >= IVF_FROM and self.count >= 4 * max(self._trained_on, IVF_FROM // 4):
            self._rebuild()

    def remove(self, photo_id: int) -> None:
        desc = self._desc.pop(photo_id, None)
        if desc is None:
            return
        sel = faiss.IDSelectorRange(photo_id << ID_SHIFT, (photo_id + 1) << ID_SHIFT)
        self.index.remove_ids(sel)
        self.count -= len(desc)

    def _rebuild(self) -> None:
        """(Re)train an IVF index on the current descriptors: flat search is O(n) a query."""
        all_desc = np.concatenate(list(self._desc.values()))
        nlist = int(min(4096, max(256, 4 * np.sqrt(len(all_desc)))))
        quantizer = faiss.IndexBinaryFlat(256)
        ivf = faiss.IndexBinaryIVF(quantizer, 256, nlist)
        rng = np.random.default_rng(0)
        pick = rng.choice(len(all_desc), min(len(all_desc), TRAIN_PER_LIST * nlist), replace=False)
        sample = all_desc[pick]
        ivf.train(sample)
        ivf.nprobe = NPROBE
        ivf.own_fields = True
        quantizer.this.disown()
        for pid, desc in self._desc.items():
            ids = (np.int64(pid) << ID_SHIFT) | np.arange(len(desc), dtype=np.int64)
            ivf.add_with_ids(desc, ids)
        self._ivf, self._trained_on = ivf, len(all_desc)

    def memory_bytes(self) -> int:
        """Approximate bytes held by faiss: codes and ids, IVF centroids (descriptors are
        views of the photos' features, counted there)."""
        total = self.count * (32 + 8)
        if self._ivf is not None:
            total += self._ivf.nlist * 32
        return total

    def votes(self, desc: np.ndarray, ratio: float = RATIO) -> dict[int, int]:
        """Photo id -> how many query descriptors chose it (nearest, ratio-tested)."""
        if self.count < 2 or not len(desc):
            return {}
        self._maybe_rebuild()
        dist, ids = self.index.search(np.ascontiguousarray(desc, dtype=np.uint8), 2)
        ok = (ids[:, 0] >= 0) & (dist[:, 0] < ratio * np.where(ids[:, 1] >= 0, dist[:, 1], 256))
        photos = ids[ok, 0] >> ID_SHIFT
        uniq, counts = np.unique(photos, return_counts=True)
        return dict(zip(uniq.tolist(), counts.tolist(), strict=True))


class CatalogMatcher:
    """The seller's catalog in memory, queried by competitor images (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._photos: dict[int, Analysis] = {}
        self._phash = HammingIndex(64)
        self._desc = DescriptorIndex()

    def __len__(self) -> int:
        return len(self._photos)

    def __contains__(self, photo_id: object) -> bool:
        return photo_id in self._photos

    def add(self, photo_id: int, analysis: Analysis) -> None:
        """Add (or replace) a catalog photo; only straight features are kept in memory."""
        photo_id = int(photo_id)
        stored = Analysis(analysis.sha256, analysis.width, analysis.height,
                          analysis.fingerprint, analysis.features, None)
        with self._lock:
            self.remove(photo_id)
            self._photos[photo_id] = stored
            self._phash.add([photo_id], [analysis.fingerprint.phash])
            self._desc.add(photo_id, analysis.features.descriptors[:INDEX_DESCRIPTORS])

    def add_stored(self, photo_id: int, fingerprint: bytes, features: bytes,
                   sha256: str = "") -> None:
        """Add a catalog photo from stored blobs (Fingerprint.to_bytes, Analysis.features_bytes)."""
        self.add(photo_id, Analysis.from_stored(fingerprint, features, sha256))

    def memory_bytes(self) -> int:
        """Approximate bytes held for the catalog (features, fingerprints, indexes)."""
        with self._lock:
            feats = sum(a.features.points.nbytes + a.features.descriptors.nbytes
                        + a.features.colours.nbytes + a.features.thumb.nbytes + 1000
                        for a in self._photos.values())
            return feats + self._desc.memory_bytes() + 24 * len(self._photos)

    def remove(self, photo_id: int) -> None:
        with self._lock:
            if self._photos.pop(int(photo_id), None) is not None:
                self._phash.remove([int(photo_id)])
                self._desc.remove(int(photo_id))

    def candidates(self, q: Analysis, top: int = VERIFY_TOP) -> list[int]:
        """Catalog photos worth verifying: near hashes first, then the most voted."""
        fp = q.fingerprint
        with self._lock:
            near = {pid for h in (fp.phash, fp.phash_mirror)
                    for pid, _ in self._phash.query(h, HASH_PHASH_MAX)}
            votes: dict[int, int] = {}
            for f in (q.features, q.features_mirror):
                if f is not None:
                    for pid, n in self._desc.votes(f.descriptors[:QUERY_DESCRIPTORS]).items():
                        votes[pid] = max(votes.get(pid, 0), n)
        ranked = [pid for pid, n in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
                  if n >= MIN_VOTES and pid not in near][:top]
        return sorted(near) + ranked

    def query(self, analysis: Analysis, top: int = VERIFY_TOP) -> list[tuple[int, MatchResult]]:
        """Catalog photos that `analysis` copies or resembles, best first (matches only)."""
        out = []
        for pid in self.candidates(analysis, top):
            with self._lock:
                photo = self._photos.get(pid)
            if photo is None:
                continue
            res = compare(photo, analysis)
            if res.match:
                out.append((pid, res))
        out.sort(key=lambda pr: (pr[1].kind != "copy", -pr[1].score, pr[0]))
        return out


Candidate = Analysis | bytes | Mapping[str, Any]


def _candidate_analysis(c: Candidate) -> Analysis:
    """An Analysis for a competitor image given as Analysis, thumbnail bytes or a store row."""
    if isinstance(c, Analysis):
        return c
    if isinstance(c, bytes | bytearray):
        return Analysis.from_thumbnail(bytes(c))
    return Analysis.from_thumbnail(c["thumb"], c.get("data"), c.get("sha256") or "")


def match_against(original: Analysis, candidates: Iterable[tuple[Any, Candidate]]
                  ) -> Iterator[tuple[Any, MatchResult]]:
    """Yield (id, result) for each candidate that copies or resembles `original`.

    Candidates are competitor images as Analysis, stored thumbnail bytes, or store rows
    ({"thumb", "data" (fingerprint blob), "sha256"}); thumbnails are verified with local
    features. Unreadable candidates are skipped.
    """
    for cid, cand in candidates:
        try:
            other = _candidate_analysis(cand)
        except (ImageError, ValueError, KeyError):
            continue
        res = compare(original, other)
        if res.match:
            yield cid, res


def thumbnail_features(thumb: bytes) -> tuple[Features, Features]:
    """Straight and mirrored features of a stored thumbnail."""
    frame = feature_frame(load_image(thumb))
    return features_of_frame(frame), features_of_frame(mirror_frame(frame))


__all__ = ["CatalogMatcher", "DescriptorIndex", "match_against", "thumbnail_features",
           "Fingerprint", "MIN_INLIERS", "hash_distances"]
