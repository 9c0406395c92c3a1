"""Every competitor image seen, in one persistent index: `check` and reverse matching as queries.

Per image only what candidate generation needs is kept: its 64-bit pHash (Hamming index)
and its first KEEP ORB descriptors (the spread order of features.py, so they cover the
frame) in a faiss binary inverted file. A query (a catalog photo, or a photo being
checked) votes with all its descriptors, straight and mirrored; the few most voted images
are then verified by the caller with the pairwise rule (compare.compare), their features
re-extracted from the stored thumbnail. Design and figures: docs/MATCHING.md.

On disk (a directory in the data dir):
- records.bin: a header (format, matcher version, KEEP) then one fixed-size record per
  image added (id, pHash, descriptor count, descriptors), appended as images are fetched;
- ivf-<records>.faiss + ivf.json: a snapshot of the trained inverted file and how many
  records it holds, so a restart reads it instead of assigning every descriptor again;
  records after the snapshot are replayed.
A different format or matcher version empties the directory; the owner re-adds every
image from its thumbnail (see daemon/monitor/pipeline.py sync_competitor_index).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from daemon.files import atomic_write
from daemon.matching.compare import HASH_PHASH_MAX, MATCHER_VERSION, Analysis
from daemon.matching.hamming import HammingIndex

log = logging.getLogger(__name__)

FORMAT = 1
MAGIC = b"PGCI"
# Descriptors kept per competitor image (chosen on bench/competitor_index.py: see
# docs/MATCHING.md). The query side keeps all of its 1,000 (and the mirrored ones).
KEEP = 128
ID_SHIFT = 8  # faiss id = image id << ID_SHIFT | descriptor number (KEEP < 256)
QUERY_DESCRIPTORS = 1000
# A vote: one of the image's descriptors is among a query descriptor's VOTE_NEIGHBOURS
# nearest and within VOTE_DISTANCE bits (each image counted once per query descriptor).
# Not the nearest only (the catalog side's rule): one photo copied by many stores must get
# all its copies voted. Not every descriptor within reach either: descriptors of plain
# backdrops are near hundreds of images, and a range count ranked unrelated images above
# cropped copies. 8 neighbours within 36 bits, 2 lists probed: the best of 8 settings
# measured on 2,000 images (docs/MATCHING.md).
VOTE_NEIGHBOURS = 8
VOTE_DISTANCE = 36
# Verified: every image with SURE_VOTES or more (a copy, almost always; at most
# MAX_CANDIDATES), then the WEAK_CANDIDATES most voted of those with MIN_VOTES or more.
# Each verification re-extracts a thumbnail's features (~25 ms), so an unrelated query
# must stay at a handful; a photo copied by many stores gets all its copies verified.
MIN_VOTES = 6
SURE_VOTES = 20
WEAK_CANDIDATES = 8
MAX_CANDIDATES = 64
# Exact (flat) search until TRAIN_FROM descriptors, then a trained inverted file of NLIST
# lists (never retrained: lists grow linearly, 10^6 images x 128 = 62k entries a list),
# NPROBE of them probed per query descriptor. Training is binary k-means over a sample of
# TRAIN_PER_LIST x NLIST descriptors, TRAIN_ITERATIONS rounds: 4,096 lists on 164k
# descriptors and faiss's 25 rounds took minutes of one core, once; this is ~8x less.
NLIST = 2048
TRAIN_PER_LIST = 39  # faiss asks for at least 39 points a list
TRAIN_FROM = NLIST * TRAIN_PER_LIST
TRAIN_ITERATIONS = 10
NPROBE = 2
# A snapshot is written when this share of the records is newer than the last one
# (and at close()).
SNAPSHOT_SHARE = 0.2
SNAPSHOT_MIN = 2000

_HEADER = 16


def _record_dtype(keep: int) -> np.dtype:
    return np.dtype([("id", "<i8"), ("phash", "<u8"), ("n", "<u2"), ("pad", "V6"),
                     ("desc", "u1", (keep, 32))])


@dataclass(frozen=True, slots=True)
class Candidate:
    """An indexed image worth verifying: its votes, orientation that voted, close pHash."""

    image_id: int
    votes: int
    mirrored: bool
    near: bool


def _ids(image_id: int, n: int) -> np.ndarray:
    return (np.int64(image_id) << ID_SHIFT) | np.arange(n, dtype=np.int64)


class CompetitorIndex:
    """Competitor images' pHash and descriptors, persisted in `directory` (thread-safe).

    Loaded lazily (first use), so building one costs nothing for commands that never
    query it. `directory=None` keeps it in memory only (tests, benches).
    """

    def __init__(self, directory: Path | None, keep: int = KEEP,
                 version: int = MATCHER_VERSION) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.keep, self.version = keep, version
        self._dtype = _record_dtype(keep)
        self._lock = threading.RLock()
        self._loaded = False
        self._phash = HammingIndex(64)
        self._count: dict[int, int] = {}  # image id -> descriptors indexed
        self._records = 0  # records in records.bin (including replaced ones)
        self._snapshot_records = 0
        self._flat: Any = None
        self._ivf: Any = None
        self.reset_on_load = False  # True when a version change emptied the directory

    # ---- files -------------------------------------------------------------------------

    @property
    def _records_path(self) -> Path | None:
        return self.directory / "records.bin" if self.directory else None

    def _header(self) -> bytes:
        return MAGIC + np.array([FORMAT, self.version, self.keep], "<u4").tobytes()

    def _clear_files(self) -> None:
        assert self.directory is not None
        for p in self.directory.glob("*"):
            if p.name == "records.bin" or p.name.startswith("ivf"):
                p.unlink(missing_ok=True)

    def _load(self) -> None:
        """Read the records (and the snapshot) once; a version change empties the files."""
        if self._loaded:
            return
        self._loaded = True
        self._flat = faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(256))
        path = self._records_path
        if path is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
        if path.exists():
            with open(path, "rb") as f:
                head = f.read(_HEADER)
            if head != self._header():
                log.warning("the competitor index in %s was built by another version; "
                            "it is rebuilt from the stored thumbnails", self.directory)
                self._clear_files()
                self.reset_on_load = True
        if not path.exists():
            with atomic_write(path) as f:
                f.write(self._header())
            return
        n = (path.stat().st_size - _HEADER) // self._dtype.itemsize
        if n <= 0:
            return
        mm = np.memmap(path, dtype=self._dtype, mode="r", offset=_HEADER, shape=(n,))
        try:
            ids = np.array(mm["id"])
            self._phash.add(ids, np.array(mm["phash"]))
            counts = np.array(mm["n"])
            last = {int(i): r for r, i in enumerate(ids.tolist())}  # the last record wins
            self._count = {i: int(counts[r]) for i, r in last.items()}
            self._records = n
            start = self._load_snapshot(n)
            if self._ivf is None and self._total() >= TRAIN_FROM:
                self._train(mm, last)
                start = n
            for r in range(start, n):
                rid = int(ids[r])
                if last[rid] == r:
                    self._faiss_add(rid, mm["desc"][r][: counts[r]], replace=start > 0)
        finally:
            del mm

    def _load_snapshot(self, n: int) -> int:
        """Load the saved inverted file if it matches; returns the records it holds."""
        meta_path = self.directory / "ivf.json"  # type: ignore[operator]
        try:
            meta = json.loads(meta_path.read_text())
            if (meta.get("format"), meta.get("version"), meta.get("keep")) != (
                    FORMAT, self.version, self.keep) or int(meta["records"]) > n:
                return 0
            ivf = faiss.read_index_binary(str(self.directory / meta["file"]))  # type: ignore[operator]
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            if meta_path.exists():
                log.warning("ignoring the competitor index snapshot (%s); rebuilding it", exc)
            return 0
        ivf.nprobe = NPROBE
        self._ivf, self._flat = ivf, None
        self._snapshot_records = int(meta["records"])
        return self._snapshot_records

    def _save_snapshot(self) -> None:
        if self.directory is None or self._ivf is None:
            return
        name = f"ivf-{self._records}.faiss"
        tmp = self.directory / (name + ".tmp")
        try:
            faiss.write_index_binary(self._ivf, str(tmp))
            os.replace(tmp, self.directory / name)
            with atomic_write(self.directory / "ivf.json", "w", encoding="utf-8") as f:
                json.dump({"format": FORMAT, "version": self.version, "keep": self.keep,
                           "records": self._records, "file": name}, f)
        except (OSError, RuntimeError) as exc:  # a full disk costs a replay at next start
            log.warning("could not save the competitor index snapshot: %s", exc)
            tmp.unlink(missing_ok=True)
            return
        for old in self.directory.glob("ivf-*.faiss"):
            if old.name != name:
                old.unlink(missing_ok=True)
        self._snapshot_records = self._records

    # ---- building ----------------------------------------------------------------------

    def _total(self) -> int:
        return sum(self._count.values())

    def _faiss_add(self, image_id: int, desc: np.ndarray, replace: bool) -> None:
        index = self._ivf if self._ivf is not None else self._flat
        if replace:
            index.remove_ids(faiss.IDSelectorRange(image_id << ID_SHIFT,
                                                   (image_id + 1) << ID_SHIFT))
        if len(desc):
            index.add_with_ids(np.ascontiguousarray(desc, np.uint8), _ids(image_id, len(desc)))

    def _train(self, mm: np.ndarray, last: dict[int, int]) -> None:
        """Train the inverted file on a sample of the records and file every descriptor."""
        rows = np.array(sorted(last.values()), dtype=np.int64)
        counts = mm["n"][rows].astype(np.int64)
        rng = np.random.default_rng(0)
        total = int(counts.sum())
        pick = np.sort(rng.choice(total, min(total, NLIST * TRAIN_PER_LIST), replace=False))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        which = np.searchsorted(starts, pick, side="right") - 1
        sample = np.ascontiguousarray(mm["desc"][rows[which], pick - starts[which]])
        quantizer = faiss.IndexBinaryFlat(256)
        ivf = faiss.IndexBinaryIVF(quantizer, 256, NLIST)
        ivf.cp.niter = TRAIN_ITERATIONS
        ivf.train(sample)
        ivf.own_fields = True
        quantizer.this.disown()
        ivf.nprobe = NPROBE
        for lo in range(0, len(rows), 2000):
            part = rows[lo:lo + 2000]
            desc = np.concatenate([mm["desc"][r][: mm["n"][r]] for r in part])
            ids = np.concatenate([_ids(int(mm["id"][r]), int(mm["n"][r])) for r in part])
            ivf.add_with_ids(desc, ids)
        self._ivf, self._flat = ivf, None

    def add(self, image_id: int, phash: int, descriptors: np.ndarray) -> None:
        """Index one fetched competitor image (again: its new content replaces the old)."""
        desc = np.ascontiguousarray(descriptors[: self.keep], dtype=np.uint8)
        rec = np.zeros(1, self._dtype)
        rec["id"], rec["phash"], rec["n"] = image_id, phash, len(desc)
        rec["desc"][0][: len(desc)] = desc
        with self._lock:
            self._load()
            if self._records_path is not None:
                with open(self._records_path, "ab") as f:
                    f.write(rec.tobytes())
            self._records += 1
            replace = image_id in self._count
            self._phash.add([image_id], np.array([phash], np.uint64))
            self._count[image_id] = len(desc)
            self._faiss_add(image_id, desc, replace)
            if self._ivf is None and self._total() >= TRAIN_FROM:
                self._retrain_from_file()
            if (self._ivf is not None and self._records - self._snapshot_records
                    >= max(SNAPSHOT_MIN, SNAPSHOT_SHARE * self._records)):
                self._save_snapshot()

    def _retrain_from_file(self) -> None:
        if self._records_path is None:
            # in memory only: the flat index holds every descriptor; train from it
            flat = faiss.downcast_IndexBinary(self._flat.index)
            codes = faiss.vector_to_array(flat.xb).reshape(-1, 32)
            ids = faiss.vector_to_array(self._flat.id_map)
            quantizer = faiss.IndexBinaryFlat(256)
            ivf = faiss.IndexBinaryIVF(quantizer, 256, NLIST)
            ivf.cp.niter = TRAIN_ITERATIONS
            pick = np.random.default_rng(0).choice(
                len(codes), min(len(codes), NLIST * TRAIN_PER_LIST), replace=False)
            ivf.train(np.ascontiguousarray(codes[np.sort(pick)]))
            ivf.own_fields = True
            quantizer.this.disown()
            ivf.nprobe = NPROBE
            ivf.add_with_ids(codes, ids)
            self._ivf, self._flat = ivf, None
            return
        n = self._records
        mm = np.memmap(self._records_path, dtype=self._dtype, mode="r", offset=_HEADER,
                       shape=(n,))
        try:
            last = {int(i): r for r, i in enumerate(np.array(mm["id"]).tolist())}
            self._train(mm, last)
        finally:
            del mm
        self._save_snapshot()

    def close(self) -> None:
        """Write a snapshot if records were added since the last one."""
        with self._lock:
            if self._loaded and self._records > self._snapshot_records:
                self._save_snapshot()

    # ---- queries -----------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            self._load()
            return len(self._count)

    def __contains__(self, image_id: object) -> bool:
        with self._lock:
            self._load()
            return image_id in self._count

    def missing(self, image_ids: Iterable[int]) -> list[int]:
        """The given image ids that are not indexed yet (to add them from thumbnails)."""
        with self._lock:
            self._load()
            return [i for i in image_ids if i not in self._count]

    @property
    def approximate(self) -> bool:
        """True once the descriptors are searched through the trained inverted file."""
        with self._lock:
            self._load()
            return self._ivf is not None

    def _votes(self, desc: np.ndarray | None) -> dict[int, int]:
        """Image id -> votes (query descriptors with one of its descriptors among their
        VOTE_NEIGHBOURS nearest, within VOTE_DISTANCE bits), for images with MIN_VOTES+."""
        if desc is None or not len(desc):
            return {}
        q = np.ascontiguousarray(desc[:QUERY_DESCRIPTORS], dtype=np.uint8)
        with self._lock:
            index = self._ivf if self._ivf is not None else self._flat
            if index.ntotal == 0:
                return {}
            dist, labels = index.search(q, VOTE_NEIGHBOURS)
        ok = (labels >= 0) & (dist <= VOTE_DISTANCE)
        which = np.broadcast_to(np.arange(len(q), dtype=np.int64)[:, None], labels.shape)[ok]
        images = labels[ok] >> ID_SHIFT
        # one vote per (query descriptor, image): an image's several near descriptors count once
        pairs = np.unique(which * (1 << 40) + images)
        uniq, counts = np.unique(pairs % (1 << 40), return_counts=True)
        keep = counts >= MIN_VOTES
        return dict(zip(uniq[keep].tolist(), counts[keep].tolist(), strict=True))

    def candidates(self, analysis: Analysis, limit: int = MAX_CANDIDATES) -> list[Candidate]:
        """Indexed images to verify against `analysis`: close pHash first, then most voted."""
        with self._lock:
            self._load()
            fp = analysis.fingerprint
            near = {iid for h in (fp.phash, fp.phash_mirror)
                    for iid, _ in self._phash.query(h, HASH_PHASH_MAX)}
        straight = self._votes(analysis.features.descriptors)
        mirrored = self._votes(analysis.features_mirror.descriptors
                               if analysis.features_mirror is not None else None)
        best: dict[int, tuple[int, bool]] = {i: (v, False) for i, v in straight.items()}
        for i, v in mirrored.items():
            if v > best.get(i, (0, False))[0]:
                best[i] = (v, True)
        out = [Candidate(i, best.get(i, (0, False))[0], best.get(i, (0, False))[1], True)
               for i in sorted(near)]
        ranked = sorted(((-v, i, m) for i, (v, m) in best.items() if i not in near))
        sure = [r for r in ranked if -r[0] >= SURE_VOTES][:limit]
        weak = [r for r in ranked if -r[0] < SURE_VOTES][:WEAK_CANDIDATES]
        out += [Candidate(i, -nv, m, False) for nv, i, m in sure + weak]
        return out

    def memory_bytes(self) -> int:
        """Approximate bytes held: faiss codes and ids, centroids, pHash index, id map."""
        with self._lock:
            self._load()
            total = self._total() * 40 + len(self._count) * (16 + 100)
            if self._ivf is not None:
                total += NLIST * 32
            return total
