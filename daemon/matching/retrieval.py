"""Catalog-scale matching: one image against every catalog photo without pairwise comparisons.

The seller's photos' ORB descriptors live in a faiss binary index; a query's
descriptors (straight and mirrored) vote for catalog photos, a Hamming index over
pHash adds near-exact candidates, and only the few best are verified with the
pairwise rule (daemon.matching.compare.compare). The reverse direction (a new catalog photo
against competitor images already seen) verifies stored thumbnails the same way.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from daemon.files import atomic_write
from daemon.matching.compare import (
    ANALYSIS_VERSION,
    HASH_PHASH_MAX,
    MIN_INLIERS,
    SURE_INLIERS,
    Analysis,
    MatchResult,
    compare,
    hash_distances,
)
from daemon.matching.features import Features
from daemon.matching.fingerprint import Fingerprint
from daemon.matching.hamming import HammingIndex
from daemon.matching.imageio import ImageError

log = logging.getLogger(__name__)

# Descriptors per catalog photo put in the index: all of them. Indexing only the first
# 500 lost every collage and screenshot (their matches are the photo's coarse-scale
# keypoints); measured in bench/retrieval.py.
INDEX_DESCRIPTORS = 1000
# Catalog photos verified per query (the most voted), and votes needed to be verified.
VERIFY_TOP = 4
MIN_VOTES = 6
VOTE_DISTANCE = 48
# Keypoint ids in faiss are photo_id << ID_SHIFT | keypoint number.
ID_SHIFT = 12
# Flat (exact) search below this many descriptors (20 photos); an inverted-file index
# above, with about 1.2 sqrt(n) lists of which NPROBE are searched. Measured on the
# 3,068-photo catalog (bench/retrieval.py): 2,048 lists found as many candidates as
# 4,096 at half the cost of assigning a descriptor; probing 2 lists instead of 1 found
# at most 3 more of 360 tier-D copies but made an unrelated photo's query 52 ms instead
# of 34 (median); probing more than 2 found nothing. docs/MATCHING.md has the runs.
IVF_FROM = 20_000
NPROBE = 1
MIN_LISTS, MAX_LISTS = 64, 8192
TRAIN_PER_LIST = 40  # faiss asks for at least 39 points a list
# Query descriptors searched, straight and mirrored each: all of them. With the first
# 600 only, tier C/D copies had their photo among the candidates 95.6%/95.0% of the
# time, against 98.9%/98.3% with all 1,000.
QUERY_DESCRIPTORS = 1000


def _ids(photo_id: int, n: int) -> np.ndarray:
    """faiss ids of a photo's n descriptors: photo_id << ID_SHIFT | keypoint number."""
    return (np.int64(photo_id) << ID_SHIFT) | np.arange(n, dtype=np.int64)


def _id_range(photo_id: int) -> Any:
    return faiss.IDSelectorRange(photo_id << ID_SHIFT, (photo_id + 1) << ID_SHIFT)


class DescriptorIndex:
    """ORB descriptors of many photos in one faiss binary index, with per-photo removal."""

    def __init__(self, cache: Path | None = None) -> None:
        # The exact index is only for small catalogs (under IVF_FROM): built on demand from
        # _desc, so a bulk load never holds every descriptor twice before the IVF exists.
        self._flat: Any = None
        self._ivf: faiss.IndexBinaryIVF | None = None
        self._trained_on = 0
        # The photos' own descriptor arrays (views, not copies), kept to retrain the IVF.
        self._desc: dict[int, np.ndarray] = {}
        self.count = 0
        # Where the trained IVF is saved, so a restart does not train it again (30 s of
        # one core for 3,000 photos).
        self.cache = cache

    @property
    def approximate(self) -> bool:
        """True once the descriptors are searched through the trained IVF index."""
        return self._ivf is not None

    @property
    def index(self) -> Any:
        if self._ivf is not None:
            return self._ivf
        if self._flat is None:
            self._flat = faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(256))
            for pid, desc in self._desc.items():
                self._flat.add_with_ids(desc, _ids(pid, len(desc)))
        return self._flat

    def add(self, photo_id: int, desc: np.ndarray) -> None:
        desc = np.ascontiguousarray(desc[: 1 << ID_SHIFT], dtype=np.uint8)
        if not len(desc):
            return
        self._desc[photo_id] = desc
        if self._ivf is not None:
            self._ivf.add_with_ids(desc, _ids(photo_id, len(desc)))
        self._flat = None
        self.count += len(desc)

    def _maybe_rebuild(self) -> None:
        """Train the IVF lazily (first query after a bulk load), again at 2x the size so
        the lists stay about sqrt(n) long."""
        if self._ivf is None and self.count >= IVF_FROM:
            self._load_cache()
        if self.count >= IVF_FROM and self.count >= 2 * max(self._trained_on, IVF_FROM // 2):
            self._rebuild()
            self._save_cache()

    def _manifest(self) -> np.ndarray:
        """(photo id, descriptor count, CRC-32 of the descriptors) of every indexed photo."""
        return np.array([(pid, len(d), zlib.crc32(d.tobytes())) for pid, d in self._desc.items()],
                        dtype=np.int64).reshape(-1, 3)

    def _save_cache(self) -> None:
        if self.cache is None or self._ivf is None:
            return
        try:
            with atomic_write(self.cache) as f:
                np.savez(f, index=faiss.serialize_index_binary(self._ivf),
                         photos=self._manifest(), trained_on=self._trained_on,
                         version=ANALYSIS_VERSION)
        except OSError as exc:  # a full disk costs a retraining at the next start, no more
            log.warning("could not save the catalog index to %s: %s", self.cache, exc)

    def _load_cache(self) -> None:
        """Reuse the IVF an earlier run saved (same analysis version), then bring it up to
        date: photos removed, added or changed since are taken out or put in."""
        if self.cache is None or not self.cache.exists():
            return
        try:
            with np.load(self.cache, allow_pickle=False) as saved:
                if int(saved["version"]) != ANALYSIS_VERSION:
                    return
                ivf = faiss.deserialize_index_binary(saved["index"])
                photos, trained_on = saved["photos"], int(saved["trained_on"])
        except Exception as exc:  # noqa: BLE001 - a damaged cache is retrained, not fatal
            log.warning("ignoring the saved catalog index %s (%s); training it again",
                        self.cache, exc)
            return
        old = {int(pid): (int(n), int(crc)) for pid, n, crc in photos}
        now = {int(pid): (int(n), int(crc)) for pid, n, crc in self._manifest()}
        for pid, sig in old.items():
            if now.get(pid) != sig:
                ivf.remove_ids(_id_range(pid))
        for pid, sig in now.items():
            if old.get(pid) != sig:
                ivf.add_with_ids(self._desc[pid], _ids(pid, len(self._desc[pid])))
        ivf.nprobe = NPROBE
        self._ivf, self._trained_on, self._flat = ivf, trained_on, None

    def remove(self, photo_id: int) -> None:
        desc = self._desc.pop(photo_id, None)
        if desc is None:
            return
        if self._ivf is not None:
            self._ivf.remove_ids(_id_range(photo_id))
        self._flat = None
        self.count -= len(desc)

    def _rebuild(self) -> None:
        """(Re)train an IVF index on the current descriptors: flat search is O(n) a query."""
        arrays = list(self._desc.values())
        total = sum(map(len, arrays))
        nlist = int(np.clip(1.2 * np.sqrt(total), MIN_LISTS, MAX_LISTS))
        quantizer = faiss.IndexBinaryFlat(256)
        ivf = faiss.IndexBinaryIVF(quantizer, 256, nlist)
        # A random sample drawn across the photos' arrays, without concatenating them all.
        pick = np.sort(np.random.default_rng(0).choice(
            total, min(total, TRAIN_PER_LIST * nlist), replace=False))
        starts = np.cumsum([0] + [len(a) for a in arrays[:-1]])
        which = np.searchsorted(starts, pick, side="right") - 1
        ivf.train(np.stack([arrays[w][i - starts[w]] for w, i in zip(which, pick, strict=True)]))
        ivf.nprobe = NPROBE
        ivf.own_fields = True
        quantizer.this.disown()
        for pid, desc in self._desc.items():
            ivf.add_with_ids(desc, _ids(pid, len(desc)))
        self._ivf, self._trained_on, self._flat = ivf, total, None

    def memory_bytes(self) -> int:
        """Approximate bytes held by faiss: codes and ids, IVF centroids (descriptors are
        views of the photos' features, counted there)."""
        total = self.count * (32 + 8)
        if self._ivf is not None:
            total += self._ivf.nlist * 32
        return total

    def votes(self, desc: np.ndarray, max_distance: int = VOTE_DISTANCE) -> dict[int, int]:
        """Photo id -> how many query descriptors have their nearest neighbour in it."""
        if self.count < 2 or not len(desc):
            return {}
        self._maybe_rebuild()
        dist, ids = self.index.search(np.ascontiguousarray(desc, dtype=np.uint8), 1)
        # A vote is a nearest neighbour within VOTE_DISTANCE bits. (A ratio test against
        # the IVF's approximate second neighbour lost more true votes: 88% vs 92% of hard
        # copies had their photo in the top 4 with >= 6 votes.)
        ok = (ids[:, 0] >= 0) & (dist[:, 0] <= max_distance)
        photos = ids[ok, 0] >> ID_SHIFT
        uniq, counts = np.unique(photos, return_counts=True)
        return dict(zip(uniq.tolist(), counts.tolist(), strict=True))


class CatalogMatcher:
    """The seller's catalog in memory, queried by competitor images (thread-safe)."""

    def __init__(self, index_cache: Path | None = None) -> None:
        """index_cache: a file to keep the trained descriptor index in between runs."""
        self._lock = threading.RLock()
        self._photos: dict[int, Analysis] = {}
        self._phash = HammingIndex(64)
        self._desc = DescriptorIndex(index_cache)

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

    def _near(self, q: Analysis) -> list[int]:
        fp = q.fingerprint
        with self._lock:
            return sorted({pid for h in (fp.phash, fp.phash_mirror)
                           for pid, _ in self._phash.query(h, HASH_PHASH_MAX)})

    def _voted(self, f: Features | None, top: int, skip: set[int]) -> list[int]:
        """The most voted catalog photos for one orientation's descriptors."""
        if f is None:
            return []
        with self._lock:
            votes = self._desc.votes(f.descriptors[:QUERY_DESCRIPTORS])
        # Filtered before sorting: a query touches hundreds of photos, few reach MIN_VOTES.
        ranked = sorted((-n, pid) for pid, n in votes.items()
                        if n >= MIN_VOTES and pid not in skip)
        return [pid for _, pid in ranked[:top]]

    def _verify(self, pids: list[int], q: Analysis, out: dict[int, MatchResult],
                mirrored: bool | None = None) -> bool:
        """compare() each candidate (in one orientation when given), keeping each photo's
        best result; True when one is a certain copy."""
        sure = False
        for pid in pids:
            if pid in out and out[pid].kind == "copy":
                continue
            with self._lock:
                photo = self._photos.get(pid)
            if photo is None:
                continue
            res = compare(photo, q, mirrored)
            if pid not in out or _better(res, out[pid]):
                out[pid] = res
            sure |= res.kind == "copy" and (res.details.get("layer") in ("sha256", "hash")
                                            or res.details.get("inliers", 0) >= SURE_INLIERS)
        return sure

    def compare_photo(self, photo_id: int, analysis: Analysis) -> MatchResult | None:
        """compare() one catalog photo with `analysis`, both orientations (None when the
        photo is not loaded): the re-check of a pair an alert rests on."""
        with self._lock:
            photo = self._photos.get(int(photo_id))
        return None if photo is None else compare(photo, analysis)

    def query(self, analysis: Analysis, top: int = VERIFY_TOP) -> list[tuple[int, MatchResult]]:
        """Catalog photos that `analysis` copies or resembles, best first (matches only).

        Near hashes are verified first, then the photos the straight descriptors vote
        for, in that orientation only; the mirrored descriptors (a flipped copy) are
        searched only when that found no certain copy.
        """
        results: dict[int, MatchResult] = {}
        near = self._near(analysis)
        sure = self._verify(near, analysis, results)
        for mirrored, f in ((False, analysis.features), (True, analysis.features_mirror)):
            if sure:
                break
            sure = self._verify(self._voted(f, top, set(near)), analysis, results, mirrored)
        out = [(pid, r) for pid, r in results.items() if r.match]
        out.sort(key=lambda pr: (pr[1].kind != "copy", -pr[1].score, pr[0]))
        return out


def _better(a: MatchResult, b: MatchResult) -> bool:
    """Is result a stronger finding than b (copy > similar > none, then score)?"""
    rank = {"copy": 2, "similar": 1, None: 0}
    return (rank[a.kind], a.score) > (rank[b.kind], b.score)

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


__all__ = ["CatalogMatcher", "DescriptorIndex", "match_against",
           "Fingerprint", "MIN_INLIERS", "hash_distances"]
