"""The competitor index's inverted file: the list-ordered search answers as faiss's own,
and compacted lists hold the same entries."""

from __future__ import annotations

import faiss
import numpy as np

from daemon.matching.competitor_ivf import compact_lists, ivf_contents, new_ivf, search_by_list
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


def test_compacted_lists_hold_the_same_entries_and_still_take_adds(photos_dir) -> None:
    """The memory it frees is measured by bench.competitor_index --pad-to (faiss's
    vectors expose no capacity)."""
    files = sorted((photos_dir / "clothing").rglob("*.jpg"))
    stored, query = _descriptors(files[:8]), _descriptors(files[8:10])
    ivf = new_ivf(stored, nlist=16, iterations=5, nprobe=3)
    for start in range(0, len(stored), 200):  # grown image by image, as the daemon adds
        part = stored[start:start + 200]
        ivf.add_with_ids(part, np.arange(start, start + len(part), dtype=np.int64))
    inv = faiss.downcast_InvertedLists(ivf.invlists)
    sizes = [inv.list_size(lst) for lst in range(16)]
    before = ivf_contents(ivf), ivf.search(query, 16)
    compact_lists(ivf)
    after = ivf_contents(ivf), ivf.search(query, 16)
    assert [inv.list_size(lst) for lst in range(16)] == sizes
    for a, b in zip(before[0] + before[1], after[0] + after[1], strict=True):
        assert (a == b).all()  # same entries in the same order: the same answers
    assert all(inv.codes.at(lst).is_owned for lst in range(16))
    ivf.add_with_ids(query[:5], np.arange(5, dtype=np.int64) + 10**6)  # still takes adds
    assert ivf.ntotal == len(stored) + 5
