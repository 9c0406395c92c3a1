"""Verifying index candidates: a stored competitor thumbnail against one photo, by compare().

The index (competitor_index.py) only proposes; every finding is the pairwise rule's
answer on the photo and the candidate's thumbnail, exactly as the old full scan gave it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from daemon.matching.compare import Analysis, MatchResult, compare
from daemon.matching.features import FEATURE_SIDE, feature_frame, features_of_frame, mirror_frame
from daemon.matching.fingerprint import Fingerprint, fingerprint_image
from daemon.matching.imageio import ImageError, load_image


def thumbnail_analysis(row: Mapping[str, Any], mirror: bool = True) -> Analysis:
    """A competitor image's analysis from its stored row ({thumb, data, sha256}).

    The stored fingerprint (of the full image) is used when it is of this version, else it
    is computed from the thumbnail. Mirrored features are only needed when the photo it is
    compared with has none (compare() flips one side, never both). ImageError/ValueError
    when the thumbnail is unreadable.
    """
    im = load_image(row["thumb"], max_side=FEATURE_SIDE)
    fp = None
    if row.get("data"):
        try:
            fp = Fingerprint.from_bytes(row["data"])
        except ValueError:
            fp = None
    fp = fp or fingerprint_image(im)
    frame = feature_frame(im)
    return Analysis(row.get("sha256") or "", im.width, im.height, fp, features_of_frame(frame),
                    features_of_frame(mirror_frame(frame)) if mirror else None)


def index_entry(row: Mapping[str, Any]) -> tuple[int, np.ndarray]:
    """(pHash, straight descriptors) to index a stored image with (a rebuild or catch-up)."""
    a = thumbnail_analysis(row, mirror=False)
    return a.fingerprint.phash, a.features.descriptors


def verify(original: Analysis, rows: Iterable[Mapping[str, Any]]
           ) -> Iterator[tuple[int, MatchResult]]:
    """(image id, result) for each candidate row that copies or resembles `original`.

    Unreadable thumbnails are skipped (they cannot be verified; the fetch records them).
    """
    need_mirror = original.features_mirror is None
    for row in rows:
        try:
            other = thumbnail_analysis(row, mirror=need_mirror)
        except (ImageError, ValueError):
            continue
        res = compare(original, other)
        if res.match:
            yield int(row["id"]), res
