"""Every competitor image seen, in one persistent index: `check` and reverse matching as queries.

Per image: its 64-bit pHash (Hamming index) and KEEP ORB descriptors chosen to survive
crops and collages (competitor_verify.index_descriptors) in a faiss binary inverted file,
with their keypoints' positions. A query votes with all its descriptors, straight and
mirrored; the most voted images whose votes agree on one geometry (competitor_shortlist)
are verified by the caller with compare() on the stored thumbnail (docs/MATCHING.md).

On disk (a directory in the data dir; layouts in competitor_files): records.bin, a record
per image added (id, pHash, positions); pending.bin, the descriptors of the records no
snapshot holds yet (emptied at each snapshot: on disk once); ivf-<records>.faiss +
ivf.json, the trained inverted file and how many records it holds (a restart reads it
and replays the pending records after it). Another format or analysis version empties
the directory, and a record whose descriptors are in neither file (a lost snapshot) is
dropped: the owner re-adds those images from their thumbnails (monitor/competitor_sync).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from daemon.files import atomic_write
from daemon.matching.allocator import mapped_while_growing
from daemon.matching.compare import ANALYSIS_VERSION, HASH_PHASH_MAX, Analysis
from daemon.matching.competitor_files import (
    append_image,
    header,
    pending_dtype,
    read_head,
    read_records,
    record_dtype,
)
from daemon.matching.competitor_ivf import (
    flat_contents,
    ivf_contents,
    new_ivf,
    probes_for,
    search_by_list,
    training_sample,
)
from daemon.matching.competitor_shortlist import (
    MAX_CANDIDATES,
    MIN_VOTES,
    Candidate,
    Votes,
    pack_points,
    shortlist,
)
from daemon.matching.competitor_verify import KEEP, AnalysisCache
from daemon.matching.hamming import HammingIndex

log = logging.getLogger(__name__)

# 2: descriptors chosen by competitor_verify.index_descriptors (a share of coarse-scale
# keypoints first), KEEP 200, descriptors in pending.bin until a snapshot holds them.
# 3: keypoint positions in the records, for the geometric check of the votes.
FORMAT = 3
ID_SHIFT = 8  # faiss id = image id << ID_SHIFT | descriptor number (KEEP < 256)
QUERY_DESCRIPTORS = 1000
# The mirrored side votes with fewer: flipped copies are rarer; on the 10^4 set 500 found
# every copy 700 did (8,192 lists; 700 every one 1,000 did with 2,048), 12% less search.
MIRROR_QUERY_DESCRIPTORS = 500
# A vote: one of the image's descriptors is among a query descriptor's VOTE_NEIGHBOURS
# nearest within VOTE_DISTANCE bits (an image counted once per query descriptor): a photo
# copied by many stores gets all its copies voted; a range count let plain backdrops, near
# hundreds of images, out-vote cropped copies. 32, not 16: at 7x10^4 real images the 16
# nearest were crowded by a photo's other copies and same-shoot images (tier C 3.06 points
# under pairwise; 1.39 with 32 or 64; search 196 / 214 / 259 ms; MATCHING.md).
VOTE_NEIGHBOURS = 32
VOTE_DISTANCE = 36
# Exact search until TRAIN_FROM descriptors, then an inverted file of NLIST lists, NPROBE
# probed: many small lists, many probed (8,192 x 8 put 53% of a copy's matching pairs in a
# probed list, 2,048 x 2 38%; 7 probes: 10% less search; MATCHING.md). Binary k-means,
# TRAIN_ITERATIONS rounds, outside the lock: on TRAIN_PER_LIST descriptors a list, then on
# RETRAIN_PER_LIST (faiss's advice) once there are that many, all re-filed; an older
# version's file of another size too, unless over RETRAIN_UNTIL (probed at the same share).
NLIST = 8192
TRAIN_PER_LIST = 10
TRAIN_FROM = NLIST * TRAIN_PER_LIST
RETRAIN_PER_LIST = 39
RETRAIN_UNTIL = 2_000_000
TRAIN_ITERATIONS = 10
NPROBE = 7
# A snapshot is written when this share of the records is newer than it (and at close()).
SNAPSHOT_SHARE = 0.2
SNAPSHOT_MIN = 2000

def _ids(image_id: int, n: int) -> np.ndarray:
    return (np.int64(image_id) << ID_SHIFT) | np.arange(n, dtype=np.int64)


class CompetitorIndex:
    """Competitor images' pHash and descriptors, persisted in `directory` (thread-safe).

    Loaded lazily (first use), so building one costs nothing for commands that never
    query it. `directory=None` keeps it in memory only (tests, benches).
    """

    def __init__(self, directory: Path | None, keep: int = KEEP,
                 version: int = ANALYSIS_VERSION) -> None:
        if not 0 < keep < 1 << ID_SHIFT:
            raise ValueError(f"keep must be 1-{(1 << ID_SHIFT) - 1} descriptors, not {keep}")
        self.directory = Path(directory) if directory is not None else None
        self.keep, self.version = keep, version
        self._pending, self._record = pending_dtype(keep), record_dtype(keep)
        self._lock = threading.RLock()
        self._loaded = False
        self._phash = HammingIndex(64)
        self._count: dict[int, int] = {}  # image id -> descriptors indexed
        self._points: dict[int, np.ndarray] = {}  # image id -> (n, 2) packed positions
        self._records = 0  # records in records.bin (including replaced ones)
        self._snapshot_records = 0
        self._flat: Any = None
        self._ivf: Any = None
        self._training = False  # a thread is training the inverted file (outside the lock)
        self._trained_on = 0  # descriptors its k-means ran on
        self.reset_on_load = False  # True when a version change emptied the directory
        self.analyses = AnalysisCache()  # candidates' analyses, for competitor_verify.verify

    # ---- files -------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        assert self.directory is not None
        return self.directory / name

    def _header(self) -> bytes:
        return header(FORMAT, self.version, self.keep)

    def _clear_files(self) -> None:
        assert self.directory is not None
        for p in self.directory.glob("*"):
            if p.name in ("records.bin", "pending.bin") or p.name.startswith("ivf"):
                p.unlink(missing_ok=True)

    def _load(self) -> None:
        """Read the records, snapshot and pending descriptors once (a version change or a
        foreign file empties the directory)."""
        if self._loaded:
            return
        self._loaded = True
        with mapped_while_growing():  # else the lists' doubling is resident (allocator.py)
            self._read()

    def _read(self) -> None:
        self._flat = faiss.IndexBinaryIDMap(faiss.IndexBinaryFlat(256))
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        names = ("records.bin", "pending.bin")
        heads = [read_head(self._path(name)) for name in names if self._path(name).exists()]
        if any(h != self._header() for h in heads) or len(heads) == 1:
            log.warning("the competitor index in %s was built by another version; "
                        "it is rebuilt from the stored thumbnails", self.directory)
            self._clear_files()
            self.reset_on_load = True
        for name in names:
            if not self._path(name).exists():
                with atomic_write(self._path(name)) as f:
                    f.write(self._header())
        recs = read_records(self._path("records.bin"), self._record)
        pend = read_records(self._path("pending.bin"), self._pending)
        try:
            self._restore(recs, pend)
        finally:
            del recs, pend

    def _restore(self, recs: np.ndarray, pend: np.ndarray) -> None:
        n = self._records = len(recs)
        if not n:
            return
        ids = np.array(recs["id"])
        last = {int(i): r for r, i in enumerate(ids.tolist())}  # the last record wins
        start = self._load_snapshot(n)
        # pending rows holding the last record of an image, after the snapshot
        rows = [p for p, s in enumerate(np.array(pend["seq"]).tolist())
                if s >= start and s < n and last.get(int(pend["id"][p])) == s]
        held = {int(pend["seq"][p]) for p in rows}
        lost = [i for i, r in last.items() if r >= start and r not in held]
        if lost:  # their descriptors were in a snapshot that is gone: re-added from thumbnails
            log.warning("%d competitor images lost their indexed descriptors", len(lost))
            for i in lost:
                del last[i]
                if self._ivf is not None:  # an older version of it may be in the snapshot
                    self._faiss_add(i, np.zeros((0, 32), np.uint8), replace=True)
        live = sorted(last.values())
        self._phash.add(ids[live], np.array(recs["phash"])[live])
        counts = np.array(recs["n"])
        self._count = {int(ids[r]): int(counts[r]) for r in live}
        self._points = {int(ids[r]): np.array(recs["pts"][r][: counts[r]]) for r in live}
        if self._ivf is None and self._total() >= TRAIN_FROM:
            sample = training_sample([pend["desc"][p][: pend["n"][p]] for p in rows],
                                     NLIST * RETRAIN_PER_LIST)
            self._ivf, self._flat = new_ivf(sample, NLIST, TRAIN_ITERATIONS, NPROBE), None
            self._trained_on = len(sample)
        for p in rows:
            self._faiss_add(int(pend["id"][p]), pend["desc"][p][: pend["n"][p]], start > 0)

    def _load_snapshot(self, n: int) -> int:
        """Load the saved inverted file if it matches; returns the records it holds."""
        meta_path = self._path("ivf.json")
        try:
            meta = json.loads(meta_path.read_text())
            if (meta.get("format"), meta.get("version"), meta.get("keep")) != (
                    FORMAT, self.version, self.keep) or int(meta["records"]) > n:
                return 0
            ivf = faiss.read_index_binary(str(self._path(meta["file"])))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            if meta_path.exists():
                log.warning("ignoring the competitor index snapshot (%s); rebuilding it", exc)
            return 0
        ivf.nprobe = probes_for(ivf, NLIST, NPROBE)
        self._ivf, self._flat = ivf, None
        self._snapshot_records = int(meta["records"])
        self._trained_on = int(meta.get("trained_on", 0))
        return self._snapshot_records

    def _save_snapshot(self) -> None:
        """Write the inverted file, then empty pending.bin (the snapshot now holds it all)."""
        if self.directory is None or self._ivf is None:
            return
        name = f"ivf-{self._records}.faiss"
        tmp = self._path(name + ".tmp")
        try:
            faiss.write_index_binary(self._ivf, str(tmp))
            os.replace(tmp, self._path(name))
            with atomic_write(self._path("ivf.json"), "w", encoding="utf-8") as f:
                json.dump({"format": FORMAT, "version": self.version, "keep": self.keep,
                           "records": self._records, "file": name,
                           "trained_on": self._trained_on}, f)
            # a crash before this leaves pending rows the snapshot holds: skipped on load
            with atomic_write(self._path("pending.bin")) as f:
                f.write(self._header())
        except (OSError, RuntimeError) as exc:  # a full disk costs a replay at next start
            log.warning("could not save the competitor index snapshot: %s", exc)
            tmp.unlink(missing_ok=True)
            return
        for old in self.directory.glob("ivf-*.faiss"):
            if old.name != name:
                old.unlink(missing_ok=True)
        self._snapshot_records = self._records

    def _total(self) -> int:
        return sum(self._count.values())

    def _faiss_add(self, image_id: int, desc: np.ndarray, replace: bool) -> None:
        index = self._ivf if self._ivf is not None else self._flat
        if replace:
            index.remove_ids(faiss.IDSelectorRange(image_id << ID_SHIFT,
                                                   (image_id + 1) << ID_SHIFT))
        if len(desc):
            index.add_with_ids(np.ascontiguousarray(desc, np.uint8), _ids(image_id, len(desc)))

    def _due_for_training(self) -> np.ndarray | None:
        """The k-means sample when the inverted file is due to be (re)trained and no other
        thread is training it (caller holds the lock); None otherwise."""
        total, full = self._total(), NLIST * RETRAIN_PER_LIST
        if self._training or total < TRAIN_FROM:
            return None
        if self._ivf is not None and (total < full or total > RETRAIN_UNTIL or (
                self._ivf.nlist == NLIST and self._trained_on >= full)):
            return None
        codes = (flat_contents(self._flat) if self._ivf is None else ivf_contents(self._ivf))[0]
        self._training = True
        return training_sample([codes], full)

    def _train(self, sample: np.ndarray) -> None:
        """Train the inverted file outside the lock (queries and adds go on with the index
        as it is meanwhile), then re-file every descriptor into it."""
        try:
            ivf = new_ivf(sample, NLIST, TRAIN_ITERATIONS, NPROBE)
            with self._lock, mapped_while_growing():
                codes, ids = (flat_contents(self._flat) if self._ivf is None
                              else ivf_contents(self._ivf))
                ivf.add_with_ids(codes, ids)
                self._ivf, self._flat, self._trained_on = ivf, None, len(sample)
                self._save_snapshot()
        finally:
            with self._lock:
                self._training = False

    def add(self, image_id: int, phash: int, descriptors: np.ndarray,
            points: np.ndarray) -> None:
        """Index one fetched image (again: new content replaces the old) with the
        competitor_verify.index_descriptors of its thumbnail and their positions."""
        desc = np.ascontiguousarray(descriptors[: self.keep], dtype=np.uint8).reshape(-1, 32)
        pts = pack_points(np.asarray(points).reshape(-1, 2)[: len(desc)])
        if len(pts) != len(desc):
            raise ValueError(f"{len(desc)} descriptors but {len(pts)} positions")
        with self._lock:
            self._load()
            sample = self._add(image_id, phash, desc, pts)
        if sample is not None:
            self._train(sample)

    def _add(self, image_id: int, phash: int, desc: np.ndarray,
             pts: np.ndarray) -> np.ndarray | None:
        """add() under the lock; the training sample when the inverted file is due."""
        if self.directory is not None:
            append_image(self.directory, self._record, self._pending, self._records,
                         image_id, phash, desc, pts)
        self._records += 1
        replace = image_id in self._count
        self.analyses.drop(image_id)
        self._phash.add([image_id], np.array([phash], np.uint64))
        self._count[image_id], self._points[image_id] = len(desc), pts
        with mapped_while_growing():
            self._faiss_add(image_id, desc, replace)
        sample = self._due_for_training()
        if (self._ivf is not None and self._records - self._snapshot_records
                >= max(SNAPSHOT_MIN, SNAPSHOT_SHARE * self._records)):
            self._save_snapshot()
        return sample

    def close(self) -> None:
        """Write a snapshot if records were added since the last one."""
        with self._lock:
            if self._loaded and self._records > self._snapshot_records:
                self._save_snapshot()

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

    def _votes_of(self, sides: list[np.ndarray | None]) -> list[Votes]:
        """Each side's votes (all searched at once): each query descriptor's vote for each
        image with one of its descriptors among the VOTE_NEIGHBOURS nearest within
        VOTE_DISTANCE bits (the nearest of them)."""
        none = np.zeros(0, np.int64)
        sizes = [0 if d is None else len(d) for d in sides]
        if not sum(sizes):
            return [Votes(none, none, none) for _ in sides]
        q = np.ascontiguousarray(np.concatenate([d for d in sides if d is not None]), np.uint8)
        with self._lock:
            if self._ivf is None and self._flat.ntotal == 0:
                return [Votes(none, none, none) for _ in sides]
            dist, labels = self._search(q)
        bounds = np.cumsum([0, *sizes])
        return [Votes.from_neighbours(dist[a:b], labels[a:b], VOTE_DISTANCE, ID_SHIFT)
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def _search(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The VOTE_NEIGHBOURS nearest of each query descriptor (caller holds the lock)."""
        if self._ivf is None:
            return self._flat.search(q, VOTE_NEIGHBOURS)
        return search_by_list(self._ivf, q, VOTE_NEIGHBOURS)

    def candidates(self, analysis: Analysis, limit: int = MAX_CANDIDATES) -> list[Candidate]:
        """Indexed images to verify against `analysis`: close pHash first, then the voted
        images whose votes agree on one geometry, most agreeing first."""
        with self._lock:
            self._load()
            fp = analysis.fingerprint
            near = {iid for h in (fp.phash, fp.phash_mirror)
                    for iid, _ in self._phash.query(h, HASH_PHASH_MAX)}
        feats = [(f, MIRROR_QUERY_DESCRIPTORS if m else QUERY_DESCRIPTORS, m)
                 for f, m in ((analysis.features, False), (analysis.features_mirror, True))
                 if f is not None]
        votes = self._votes_of([f.descriptors[:n] for f, n, _ in feats])
        sides = [(v, f.points[:n], m) for v, (f, n, m) in zip(votes, feats, strict=True)]
        with self._lock:
            points = {i: self._points.get(i) for v, _, _ in sides
                      for i in v.counts(MIN_VOTES)}
        return shortlist(near, sides, points, limit)

    def memory_bytes(self) -> int:
        """Approximate bytes held: faiss codes and ids, positions, centroids, id maps."""
        with self._lock:
            self._load()
            total = self._total() * 42 + len(self._count) * (16 + 200)
            if self._ivf is not None:
                total += self._ivf.nlist * 32
            return total
