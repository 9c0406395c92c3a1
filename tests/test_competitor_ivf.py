"""The competitor index's inverted file: the list-ordered search answers as faiss's own."""

from __future__ import annotations

import numpy as np

from daemon.matching.competitor_ivf import new_ivf, search_by_list
from daemon.matching.features import feature_frame, features_of_frame
from daemon.matching.imageio import load_image


def _descriptors(paths) -> np.ndarray:
    return np.concatenate([features_of_frame(feature_frame(load_image(p))).descriptors
                           for p in paths])


def test_search_by_list_answers_as_the_plain_search(photos_dir) -> None:
    files = sorted((photos_dir / "clothing").rglob("*.jpg"))
    stored, query = _descriptors(files[:8]), _descriptors(files[8:10])
    ivf = new_ivf(stored, nlist=16, iterations=5, nprobe=3)
    ivf.add_with_ids(stored, np.arange(len(stored), dtype=np.int64) * 7)
    plain_dist, plain_labels = ivf.search(query, 16)
    dist, labels = search_by_list(ivf, query, 16)
    # the same neighbours at the same distances, row by row (ties may come in any order)
    assert (dist == plain_dist).all()
    for row in range(len(query)):
        for d in np.unique(dist[row]):
            assert set(labels[row][dist[row] == d]) == set(plain_labels[row][plain_dist[row] == d])
    assert (labels >= 0).all() and len(query) >= 1500  # the lists held 16 for every query
