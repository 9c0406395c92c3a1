"""Which voted competitor images are worth verifying: a geometric check on the votes.

A vote pairs one of the query's descriptors with one of an image's indexed descriptors,
whose position the index keeps (a byte per coordinate). A copy's votes agree on one
similarity transform (crop, scale, rotation, paste at another size; mirrored copies vote
through the query's mirrored features); votes a busy backdrop or a shared texture
collects do not. Fitting that transform to the votes costs well under a millisecond, a
full verification (re-analysing the stored thumbnail, then compare()) tens of
milliseconds, so the check decides which images compare() sees: more of the voted images
can be looked at (copies that drew few votes among many) and fewer are verified for a
photo nobody copied. Chosen on bench/competitor_index.py (docs/MATCHING.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from daemon.matching.features import FEATURE_SIDE

# Positions are stored as one byte per coordinate of the FEATURE_SIDE frame (2.5 px).
POINT_STEP = FEATURE_SIDE / 255
# The most voted images checked (beyond those with SURE_VOTES, which always are).
GEO_POOL = 96
# A vote agrees with the transform when it lands within this many pixels (of 640): the
# byte positions are 2.5 px apart; 9 or 12 px let more chance agreements through for the
# same recall (bench/competitor_index.py, MATCHING.md).
GEO_TOLERANCE = 6.0
# Verified when at least this many distinct keypoints of the image agree.
GEO_MIN_INLIERS = 6
RANSAC_ITERATIONS = 500
# Checked: every image with SURE_VOTES or more and the GEO_POOL most voted of those with
# MIN_VOTES or more; verified: those whose votes agree on one geometry, most agreeing
# first, at most MAX_CANDIDATES. Each verification re-extracts a thumbnail's features
# (~25 ms), so an unrelated query must stay at a handful; a photo copied by many stores
# gets all its copies verified.
MIN_VOTES = 6
SURE_VOTES = 20
MAX_CANDIDATES = 64
# Of those, every image with STRONG_INLIERS or more agreeing keypoints is verified, and
# only the WEAK_BUDGET best of the others. A busy photo draws dozens of images whose votes
# agree by chance on 6-11 keypoints (p95 of an unrelated query at 7x10^4: 28 verified,
# 40-55 ms each); a copy this weak among the votes is rare (5% of 2,128 copies) and is
# nearly always among the few best of them: on bench/competitor_index.py (80 originals,
# 1,000 unrelated photos) 12 and 8 cost one tier C copy of 354, ranked 28th of 54 weak
# candidates, and took the p95 to 10 verified (MATCHING.md, "A budget for weak votes").
STRONG_INLIERS = 12
WEAK_BUDGET = 8


@dataclass(frozen=True, slots=True)
class Candidate:
    """An indexed image worth verifying: its votes, the orientation that voted, a close
    pHash, and how many of its keypoints agree on one geometry with the query's."""

    image_id: int
    votes: int
    mirrored: bool
    near: bool
    inliers: int = 0


@dataclass(frozen=True, slots=True)
class Votes:
    """One orientation's votes: for each, the query descriptor's number, the image and the
    number of the image's indexed descriptor (its nearest among that image's)."""

    query: np.ndarray
    image: np.ndarray
    slot: np.ndarray

    @classmethod
    def from_neighbours(cls, dist: np.ndarray, labels: np.ndarray, max_distance: int,
                        id_shift: int) -> Votes:
        """One vote per (query descriptor, image) from each query descriptor's nearest
        indexed descriptors (faiss ids: image id << id_shift | descriptor number) within
        `max_distance` bits; the nearest of an image's descriptors is the one kept."""
        ok = (labels >= 0) & (dist <= max_distance)
        which = np.broadcast_to(np.arange(len(labels), dtype=np.int64)[:, None],
                                labels.shape)[ok]
        labels = labels[ok]
        # row-major order puts each query descriptor's nearest first
        _, first = np.unique(which * (1 << 40) + (labels >> id_shift), return_index=True)
        return cls(which[first], labels[first] >> id_shift, labels[first] & ((1 << id_shift) - 1))

    def counts(self, min_votes: int) -> dict[int, int]:
        """Image id -> votes, for images with at least `min_votes`."""
        uniq, counts = np.unique(self.image, return_counts=True)
        keep = counts >= min_votes
        return dict(zip(uniq[keep].tolist(), counts[keep].tolist(), strict=True))

    def of(self, image_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(query descriptor numbers, image descriptor numbers) of one image's votes."""
        pick = self.image == image_id
        return self.query[pick], self.slot[pick]


def pack_points(points: np.ndarray) -> np.ndarray:
    """Feature-frame positions as the index stores them: (n, 2) uint8."""
    return np.clip(np.round(np.asarray(points, np.float32) / POINT_STEP), 0, 255).astype(np.uint8)


def unpack_points(packed: np.ndarray) -> np.ndarray:
    return packed.astype(np.float32) * POINT_STEP


def geometric_inliers(query_points: np.ndarray, image_points: np.ndarray,
                      image_slots: np.ndarray) -> int:
    """Distinct image keypoints that agree with the similarity transform best fitting the
    votes (RANSAC; OpenCV seeds it, so the answer is the same every time)."""
    if len(query_points) < 3:
        return 0
    _, mask = cv2.estimateAffinePartial2D(
        np.ascontiguousarray(image_points, np.float32),
        np.ascontiguousarray(query_points, np.float32), method=cv2.RANSAC,
        ransacReprojThreshold=GEO_TOLERANCE, maxIters=RANSAC_ITERATIONS, confidence=0.995)
    if mask is None:
        return 0
    inl = mask.ravel().astype(bool)
    # a repeated texture pairs many query corners with one stored corner: counted once
    return min(len(np.unique(image_slots[inl])), int(inl.sum()))


def check(votes: Votes, query_points: np.ndarray, image_id: int,
          stored_points: np.ndarray) -> int:
    """Geometric inliers of one image's votes (query points in the query's frame)."""
    q, s = votes.of(image_id)
    ok = s < len(stored_points)
    q, s = q[ok], s[ok]
    return geometric_inliers(query_points[q], unpack_points(stored_points[s]), s)


def _to_check(counts: dict[int, int]) -> list[int]:
    """Every image with SURE_VOTES or more, and the GEO_POOL most voted others."""
    order = sorted(counts, key=lambda i: (-counts[i], i))
    sure = [i for i in order if counts[i] >= SURE_VOTES][:MAX_CANDIDATES]
    return sure + [i for i in order if counts[i] < SURE_VOTES][:GEO_POOL]


def shortlist(near: set[int], sides: list[tuple[Votes, np.ndarray, bool]],
              points: dict[int, np.ndarray | None],
              limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """The candidates: images with a close pHash, then the voted images whose votes agree
    on one geometry, most agreeing first. `sides`: (votes, query points, mirrored) per
    orientation; `points`: the voted images' stored positions."""
    best: dict[int, tuple[int, int, bool]] = {}  # id -> (inliers, votes, mirrored)
    for votes, query_points, mirrored in sides:
        counts = votes.counts(MIN_VOTES)
        for i in _to_check(counts):
            if points.get(i) is None:
                continue
            inl = check(votes, query_points, i, points[i])
            if (inl, counts[i]) > best.get(i, (0, 0, False))[:2]:
                best[i] = (inl, counts[i], mirrored)
    out = []
    for i in sorted(near):
        inl, v, m = best.get(i, (0, 0, False))
        out.append(Candidate(i, v, m, True, inl))
    ranked = sorted((-inl, -v, i, m) for i, (inl, v, m) in best.items()
                    if i not in near and inl >= GEO_MIN_INLIERS)
    weak = [r for r in ranked if -r[0] < STRONG_INLIERS][:WEAK_BUDGET]
    ranked = [r for r in ranked if -r[0] >= STRONG_INLIERS] + weak
    return out + [Candidate(i, -nv, m, False, -ni) for ni, nv, i, m in ranked[:limit]]


def hash_only(candidates: Iterable[Candidate]) -> set[int]:
    """Ids shortlisted for a close pHash alone, without GEO_MIN_INLIERS votes agreeing on a
    geometry: only the hash layer can make them a copy (competitor_verify.verify checks
    their stored fingerprint for it first). A plain or pale photo has a hundred such
    images at 7x10^4 (125 verified for one unrelated query, ~60-80 ms each, none a match);
    of the 2,160 copies there, the 6 found with fewer agreeing votes were all pHash 0-2,
    PDQ 16-32 (the hash layer's)."""
    return {c.image_id for c in candidates if c.near and c.inliers < GEO_MIN_INLIERS}
