"""Registering the seller's originals: walk files, hash, read EXIF, fingerprint, store.

The original file is only ever read: its bytes, SHA-256 and path are the evidence.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from daemon.catalog.c2pa import read_credentials
from daemon.matching.compare import ANALYSIS_VERSION, analyse
from daemon.matching.exif import read_exif
from daemon.matching.fingerprint import preload as preload_fingerprints
from daemon.matching.imageio import MAX_FILE_BYTES, ImageError
from daemon.provenance.ledger import note_registration
from daemon.store import Store

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".avif", ".heic", ".heif",
                  ".gif", ".tif", ".tiff", ".bmp"}
# The decoder's own limit: a larger file is refused up front rather than read into memory
# only to be refused by the decoder with another message.
MAX_ORIGINAL_BYTES = MAX_FILE_BYTES
# From this many files on, analysis runs in worker processes: spawning them costs about
# 1.2 s on 2 cores (an interpreter plus numpy, OpenCV and faiss each), which only a large
# batch pays back. Smaller batches run on threads in this process, which start at once:
# JPEG decoding, hashing and ORB release the GIL (bench/register.py: 16 photos of 12 MP).
PROCESSES_FROM = 64
Prepared = tuple[str, dict, bytes | None, bytes | None]


@dataclass
class RegisterReport:
    """What `catalog add` did, file by file."""

    added: list[dict] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"added": self.added, "duplicates": self.duplicates, "failed": self.failed}


def iter_image_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files given directly, and image files under given folders (recursive, sorted).

    A file named directly is always tried (its content decides); inside folders only
    known image suffixes are taken, so sidecar files (.xmp, .json) are skipped silently.
    """
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if Path(name).suffix.lower() in IMAGE_SUFFIXES and not name.startswith("."):
                        yield Path(root) / name
        else:
            yield path


def describe_photo(path: Path, data: bytes) -> dict:
    """Facts of one original: SHA-256, size, format, dimensions and the EXIF summary."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            facts = read_exif(im)
            fmt, (width, height) = im.format, im.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(f"not a readable image ({exc})") from exc
    return {
        "sha256": hashlib.sha256(data).hexdigest(),
        "path": str(path.resolve()),
        "file_name": path.name,
        "size_bytes": len(data),
        "format": fmt,
        "width": width,
        "height": height,
        **facts,
        "c2pa": read_credentials(data, fmt),  # content credentials, when the file has them
    }


def prepare_file(path: Path, known: frozenset[str] = frozenset()) -> Prepared:
    """Read, hash, describe and analyse one original (no database: runs in worker processes).

    Returns ('ready', photo facts, fingerprint blob, features blob), or ('duplicate'|'failed',
    info, None, None). Files whose SHA-256 is in `known` skip the costly analysis.
    """
    try:
        size = path.stat().st_size
        if size > MAX_ORIGINAL_BYTES:
            return "failed", {"path": str(path), "reason": (
                f"file is {size // 2**20} MB, over the {MAX_ORIGINAL_BYTES // 2**20} MB limit; "
                "register a smaller export of the photo")}, None, None
        data = path.read_bytes()
    except OSError as exc:
        return "failed", {"path": str(path),
                          "reason": f"cannot read the file: {exc.strerror}"}, None, None
    sha = hashlib.sha256(data).hexdigest()
    if sha in known:
        return "duplicate", {"path": str(path), "sha256": sha}, None, None
    try:
        photo = describe_photo(path, data)
        analysis = analyse(data)
    except ImageError as exc:
        return "failed", {"path": str(path), "reason": str(exc)}, None, None
    return "ready", photo, analysis.fingerprint.to_bytes(), analysis.features_bytes()


def _store_prepared(store: Store, prepared: Prepared, shoot: str | None) -> tuple[str, dict]:
    """Write one prepared original (the database side of registration)."""
    outcome, info, fingerprint, features = prepared
    if outcome == "duplicate":
        known = store.photo_by_sha(info["sha256"])
        return "duplicate", {"path": info["path"], "id": known["id"], "same_as": known["path"]}
    if outcome == "failed":
        return "failed", info
    photo_id, created = store.add_photo(info, fingerprint, features, ANALYSIS_VERSION,
                                        shoot=shoot)
    if not created:  # the same bytes twice in one batch, or another process was quicker
        return "duplicate", {"path": info["path"], "id": photo_id, "same_as": info["path"]}
    if info.get("c2pa"):
        store.set_photo_c2pa(photo_id, info["c2pa"])
    note_registration(store, photo_id)  # provenance ledger entry (catalog.register)
    return "added", {"path": info["path"], "id": photo_id, "sha256": info["sha256"],
                     "taken_at": info["taken_at"], "has_gps": info["has_gps"]}


def register_file(store: Store, path: Path, shoot: str | None = None) -> tuple[str, dict]:
    """Register one original. Returns ('added'|'duplicate'|'failed', info)."""
    return _store_prepared(store, prepare_file(path, store.photo_shas()), shoot)


def register(store: Store, paths: Iterable[Path], shoot: str | None = None,
             progress: Callable[[Iterable, int], Iterable] | None = None,
             workers: int | None = None) -> RegisterReport:
    """Register every image under `paths`; one bad file is reported and the rest go on.

    Analysis (decode, hashes, features) runs in a process pool for larger batches, since it
    is CPU-bound; all writes stay in this process, one transaction per photo.
    """
    report = RegisterReport()
    files = list(iter_image_files(paths))
    known = frozenset(store.photo_shas())
    workers = workers or min(4, os.cpu_count() or 1)
    pool: Executor | None
    if workers > 1 and len(files) >= PROCESSES_FROM:
        # spawn, not fork: the parent may hold threads (SQLite, OpenMP) a fork would copy
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        results: Iterable[Prepared] = pool.map(prepare_file, files, itertools.repeat(known),
                                               chunksize=4)
    elif workers > 1 and len(files) > 1:
        threading.Thread(target=preload_fingerprints, name="picguard-preload", daemon=True).start()
        pool = ThreadPoolExecutor(min(workers, os.cpu_count() or 1),
                                  thread_name_prefix="picguard-register")
        results = pool.map(prepare_file, files, itertools.repeat(known))
    else:
        pool = None
        results = (prepare_file(path, known) for path in files)
    try:
        for prepared in progress(results, len(files)) if progress else results:
            outcome, info = _store_prepared(store, prepared, shoot)
            {"added": report.added, "duplicate": report.duplicates,
             "failed": report.failed}[outcome].append(info)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return report
