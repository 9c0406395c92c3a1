"""The competitor index's faiss inverted file: training it, and searching it list by list.

Kept apart from competitor_index.py (records, persistence, candidates): what is here only
talks to faiss.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np


def new_ivf(sample: np.ndarray, nlist: int, iterations: int, nprobe: int) -> Any:
    """A binary inverted file of `nlist` lists trained on `sample` (k-means), empty."""
    quantizer = faiss.IndexBinaryFlat(256)
    ivf = faiss.IndexBinaryIVF(quantizer, 256, nlist)
    ivf.cp.niter = iterations
    # fewer than faiss's 39 a list is a choice (competitor_index.TRAIN_PER_LIST): no warning
    ivf.cp.min_points_per_centroid = max(1, min(39, len(sample) // nlist))
    ivf.train(np.ascontiguousarray(sample, np.uint8))
    ivf.own_fields = True
    quantizer.this.disown()
    ivf.nprobe = nprobe
    return ivf


def training_sample(desc: list[np.ndarray], size: int) -> np.ndarray:
    """A fixed random sample of `size` of the given descriptors (all of them when fewer),
    in their order: the same index contents always train the same lists."""
    allv = np.concatenate(desc) if desc else np.zeros((0, 32), np.uint8)
    pick = np.random.default_rng(0).choice(len(allv), min(len(allv), size), replace=False)
    return allv[np.sort(pick)]


def flat_contents(flat: Any) -> tuple[np.ndarray, np.ndarray]:
    """(codes (n, 32), ids) held by an IndexBinaryIDMap over an IndexBinaryFlat."""
    codes = faiss.vector_to_array(faiss.downcast_IndexBinary(flat.index).xb)
    return codes.reshape(-1, 32), faiss.vector_to_array(flat.id_map)


def ivf_contents(ivf: Any) -> tuple[np.ndarray, np.ndarray]:
    """(codes (n, 32), ids) held by a binary inverted file, list by list (copies)."""
    inv = ivf.invlists
    codes, ids = [np.zeros((0, 32), np.uint8)], [np.zeros(0, np.int64)]
    for lst in range(ivf.nlist):
        n = inv.list_size(lst)
        if n:
            codes.append(faiss.rev_swig_ptr(inv.get_codes(lst), n * 32).reshape(n, 32).copy())
            ids.append(faiss.rev_swig_ptr(inv.get_ids(lst), n).copy())
    return np.concatenate(codes), np.concatenate(ids)


def probes_for(ivf: Any, nlist: int, nprobe: int) -> int:
    """Lists to probe in `ivf` for the share of the data that `nprobe` of `nlist` lists
    covers: an inverted file saved with another number of lists (an older PicGuard) keeps
    its search cost, and works until it is rebuilt."""
    return max(1, round(nprobe * ivf.nlist / nlist))


def search_by_list(ivf: Any, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest of each query descriptor, as ivf.search gives them, with the query
    descriptors searched in the order of the lists they probe.

    A list is then read from memory once for all the descriptors that probe it, instead
    of once each: the search is bound by memory, not by the Hamming distances (2,000
    query descriptors at 10^5 images: 289 -> 252 ms of one core, same answers).
    faiss's own per_invlist_search does this but asserts or corrupts memory in 1.15.
    """
    near_dist, lists = ivf.quantizer.search(q, ivf.nprobe)
    order = np.lexsort(lists.T[::-1])
    dist, labels = ivf.search_preassigned(q[order], k, lists[order], near_dist[order])
    back = np.empty_like(order)
    back[order] = np.arange(len(order))
    return dist[back], labels[back]
