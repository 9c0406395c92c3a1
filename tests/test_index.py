"""HammingIndex against brute force on random data, for 64-bit and 256-bit hashes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.matching.hamming import HammingIndex


def _brute(codes: dict[int, int], q: int) -> list[tuple[int, int]]:
    return sorted(((i, (h ^ q).bit_count()) for i, h in codes.items()), key=lambda t: (t[1], t[0]))


@pytest.mark.parametrize("bits", [64, 256])
def test_query_and_knn_equal_brute_force(bits: int) -> None:
    rng = np.random.default_rng(bits)
    base = int.from_bytes(rng.bytes(bits // 8), "big")
    codes = {}
    for i in range(3000):
        h = int.from_bytes(rng.bytes(bits // 8), "big")
        if i % 3 == 0:  # near neighbours of `base`, so radius queries find something
            flips = rng.choice(bits, size=int(rng.integers(0, bits // 4)), replace=False)
            h = base
            for f in flips:
                h ^= 1 << int(f)
        codes[i * 7 + 1] = h
    ix = HammingIndex(bits)
    ix.add(list(codes), list(codes.values()))
    assert len(ix) == len(codes)
    truth = _brute(codes, base)
    for radius in (0, 5, bits // 8, bits // 4, bits // 2):
        assert ix.query(base, radius) == [t for t in truth if t[1] <= radius]
    for k in (1, 10, 500, 5000):
        assert ix.knn(base, k) == truth[:k]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 2**64 - 1)), max_size=60),
       st.lists(st.integers(0, 50), max_size=20), st.integers(0, 2**64 - 1),
       st.integers(0, 64))
def test_add_remove_matches_a_dict(adds, removes, q, radius) -> None:
    ix = HammingIndex(64)
    model: dict[int, int] = {}
    for i, h in adds:
        ix.add([i], [h])
        model[i] = h
    assert ix.remove(removes) == len(set(removes) & set(model))
    for i in removes:
        model.pop(i, None)
    assert len(ix) == len(model)
    assert ix.query(q, radius) == [t for t in _brute(model, q) if t[1] <= radius]
    assert ix.knn(q, 5) == _brute(model, q)[:5]


def test_accepts_bytes_arrays_and_replaces_ids() -> None:
    ix = HammingIndex(256)
    a, b = bytes(32), bytes([255] * 32)
    ix.add([1, 2], [a, np.frombuffer(b, np.uint8)])
    assert ix.query(a, 0) == [(1, 0)]
    assert ix.knn(b, 2) == [(2, 0), (1, 256)]
    ix.add([1], [b])  # same id again: replaced, not duplicated
    assert len(ix) == 2 and ix.query(b, 0) == [(1, 0), (2, 0)]
    arr = np.zeros((3, 4), dtype=np.uint64)
    ix.add(np.array([5, 6, 7]), arr)
    assert [i for i, _ in ix.query(a, 0)] == [5, 6, 7]
    assert ix.get(99) is None and 5 in ix


def test_rejects_wrong_sizes() -> None:
    ix = HammingIndex(64)
    with pytest.raises(ValueError):
        ix.add([1], [bytes(32)])
    with pytest.raises(ValueError):
        ix.add([1], [2**64])
    with pytest.raises(ValueError):
        ix.add([1, 2], [3])
    with pytest.raises(ValueError):
        HammingIndex(100)


def test_empty_index() -> None:
    ix = HammingIndex(64)
    assert ix.query(0, 64) == [] and ix.knn(0, 3) == [] and len(ix) == 0
