"""In-memory Hamming-distance index over fixed-size binary hashes (64-bit pHash/dHash, 256-bit PDQ).

A brute-force scan with numpy's popcount (np.bitwise_count) over packed uint64
words: about 1-3 ms a query at a million hashes, exact, and trivially updatable,
which a tree or faiss would only beat well beyond catalog sizes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np

HashLike = int | bytes | bytearray | np.ndarray


class HammingIndex:
    """Ids mapped to `bits`-bit hashes; exact radius and top-k queries by Hamming distance."""

    def __init__(self, bits: int = 64) -> None:
        if bits <= 0 or bits % 64:
            raise ValueError("bits must be a positive multiple of 64")
        self.bits = bits
        self.words = bits // 64
        # Word-major (words, capacity): each word is one contiguous column, so a query is
        # `words` vectorised xor+popcount passes with no (n, words) temporary.
        self._codes = np.zeros((self.words, 0), dtype=np.uint64)
        self._ids = np.zeros(0, dtype=np.int64)
        self._n = 0
        self._row: dict[int, int] = {}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return self._n

    def __contains__(self, id_: object) -> bool:
        return id_ in self._row

    # -- conversion -------------------------------------------------------------

    def _one(self, h: HashLike) -> np.ndarray:
        """One hash as a (words,) uint64 row."""
        nbytes = self.bits // 8
        if isinstance(h, np.ndarray):
            if h.dtype == np.uint64 and h.size == self.words:
                return h.reshape(self.words)
            if h.dtype == np.uint8 and h.size == nbytes:
                return np.frombuffer(h.tobytes(), dtype=">u8").astype(np.uint64)
            if h.dtype == bool and h.size == self.bits:
                return self._one(np.packbits(h.ravel()))
            raise ValueError(f"array hash of shape {h.shape} {h.dtype} is not {self.bits} bits")
        if isinstance(h, bytes | bytearray):
            if len(h) != nbytes:
                raise ValueError(f"hash has {len(h)} bytes, expected {nbytes}")
            return np.frombuffer(bytes(h), dtype=">u8").astype(np.uint64)
        if isinstance(h, int | np.integer):
            v = int(h)
            if v < 0 or v >> self.bits:
                raise ValueError(f"hash {v} does not fit in {self.bits} unsigned bits")
            return np.frombuffer(v.to_bytes(nbytes, "big"), dtype=">u8").astype(np.uint64)
        raise TypeError(f"unsupported hash type {type(h).__name__}")

    def _many(self, hashes: Iterable[HashLike] | np.ndarray) -> np.ndarray:
        if isinstance(hashes, np.ndarray) and hashes.dtype == np.uint64:
            if self.words == 1 and hashes.ndim == 1:
                return hashes.reshape(-1, 1)
            if hashes.ndim == 2 and hashes.shape[1] == self.words:
                return hashes
        if isinstance(hashes, np.ndarray) and hashes.dtype == np.uint8 and hashes.ndim == 2:
            if hashes.shape[1] != self.bits // 8:
                raise ValueError(f"rows of {hashes.shape[1]} bytes, expected {self.bits // 8}")
            return np.ascontiguousarray(hashes).view(">u8").astype(np.uint64)
        rows = [self._one(h) for h in hashes]
        return np.stack(rows) if rows else np.zeros((0, self.words), dtype=np.uint64)

    # -- updates ----------------------------------------------------------------

    def add(self, ids: Sequence[int] | np.ndarray, hashes: Iterable[HashLike] | np.ndarray) -> None:
        """Add (or replace) hashes under the given ids."""
        ids_arr = np.asarray(ids, dtype=np.int64).ravel()
        codes = self._many(hashes)
        if len(ids_arr) != len(codes):
            raise ValueError(f"{len(ids_arr)} ids for {len(codes)} hashes")
        with self._lock:
            known = [i for i in ids_arr.tolist() if i in self._row]
            if known:
                self.remove(known)
            # Duplicate ids inside one call: the last hash wins.
            _, last = np.unique(ids_arr[::-1], return_index=True)
            keep = np.sort(len(ids_arr) - 1 - last)
            ids_arr, codes = ids_arr[keep], codes[keep]
            need = self._n + len(ids_arr)
            if need > len(self._ids):
                cap = max(need, 2 * len(self._ids), 1024)
                grown = np.zeros((self.words, cap), dtype=np.uint64)
                grown[:, : self._n] = self._codes[:, : self._n]
                self._codes = grown
                self._ids = np.resize(self._ids, cap)
            self._codes[:, self._n:need] = codes.T
            self._ids[self._n:need] = ids_arr
            for k, i in enumerate(ids_arr.tolist()):
                self._row[i] = self._n + k
            self._n = need

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ids (unknown ones are ignored); returns how many were removed."""
        removed = 0
        with self._lock:
            for i in ids:
                r = self._row.pop(int(i), None)
                if r is None:
                    continue
                last = self._n - 1
                if r != last:  # move the last row into the hole
                    self._codes[:, r] = self._codes[:, last]
                    moved = int(self._ids[last])
                    self._ids[r] = moved
                    self._row[moved] = r
                self._n = last
                removed += 1
        return removed

    def get(self, id_: int) -> np.ndarray | None:
        """The stored hash of id_ as uint64 words, or None."""
        with self._lock:
            r = self._row.get(int(id_))
            return None if r is None else self._codes[:, r].copy()

    # -- queries ----------------------------------------------------------------

    def _dist(self, q: np.ndarray) -> np.ndarray:
        """Distances of all stored rows to q (call under the lock)."""
        n = self._n
        d = np.bitwise_count(self._codes[0, :n] ^ q[0])
        if self.words > 1:
            d = d.astype(np.uint16)
            for w in range(1, self.words):
                d += np.bitwise_count(self._codes[w, :n] ^ q[w])
        return d

    def distances(self, h: HashLike) -> tuple[np.ndarray, np.ndarray]:
        """(ids, distances) of every stored hash, in storage order (copies)."""
        q = self._one(h)
        with self._lock:
            return self._ids[: self._n].copy(), self._dist(q)

    def query(self, h: HashLike, radius: int) -> list[tuple[int, int]]:
        """(id, distance) of every hash within `radius` bits, nearest first (ties by id)."""
        q = self._one(h)
        with self._lock:
            d = self._dist(q)
            hit = np.flatnonzero(d <= radius)
            ids = self._ids[hit]
        return _sorted(ids, d[hit])

    def knn(self, h: HashLike, k: int) -> list[tuple[int, int]]:
        """The k nearest (id, distance), nearest first (ties by id)."""
        if k <= 0:
            return []
        q = self._one(h)
        with self._lock:
            d = self._dist(q)
            # The k-th smallest distance from a histogram (O(n), no sort), then every
            # hash at or under it, so tie-breaking by id is exact.
            counts = np.bincount(d, minlength=self.bits + 1)
            kth = int(np.searchsorted(np.cumsum(counts), min(k, len(d))))
            hit = np.flatnonzero(d <= kth)
            ids = self._ids[hit]
        return _sorted(ids, d[hit])[:k]


def _sorted(ids: np.ndarray, d: np.ndarray) -> list[tuple[int, int]]:
    order = np.lexsort((ids, d))
    return list(zip(ids[order].tolist(), d[order].astype(int).tolist(), strict=True))
