"""The competitor index's record files: their layouts, and reading them after a crash.

records.bin and pending.bin are a HEADER (magic, format, analysis version, descriptors
kept per image) followed by fixed-size records, appended one per image added, so a
crash can only tear the last one (cut off on read).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MAGIC = b"PGCI"
HEADER = 16


def record_dtype(keep: int) -> np.dtype:
    """One image added: id, pHash, descriptor count and the keypoints' packed positions."""
    return np.dtype([("id", "<i8"), ("phash", "<u8"), ("n", "<u2"), ("pad", "V6"),
                     ("pts", "u1", (keep, 2))])


def pending_dtype(keep: int) -> np.dtype:
    """The descriptors of one record no snapshot holds yet (record number, id, count)."""
    return np.dtype([("seq", "<i8"), ("id", "<i8"), ("n", "<u2"), ("pad", "V6"),
                     ("desc", "u1", (keep, 32))])


def header(fmt: int, version: int, keep: int) -> bytes:
    """The first HEADER bytes of both files."""
    return MAGIC + np.array([fmt, version, keep], "<u4").tobytes()


def read_head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEADER)


def read_records(path: Path, dtype: np.dtype) -> np.ndarray:
    """The whole records of a file (memory-mapped); a torn last record (a crash
    mid-append) is cut off, so the next append starts on a record boundary."""
    size = path.stat().st_size
    n = (size - HEADER) // dtype.itemsize
    if size != HEADER + n * dtype.itemsize:
        log.warning("dropping a partly written record at the end of %s", path)
        with open(path, "r+b") as f:
            f.truncate(HEADER + n * dtype.itemsize)
    if n <= 0:
        return np.zeros(0, dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=HEADER, shape=(n,))


def append_image(directory: Path, record: np.dtype, pending: np.dtype, seq: int,
                 image_id: int, phash: int, desc: np.ndarray, pts: np.ndarray) -> None:
    """Append one added image: its descriptors to pending.bin (as record number `seq`),
    then its record to records.bin."""
    rec = np.zeros(1, record)
    rec["id"], rec["phash"], rec["n"] = image_id, phash, len(desc)
    rec["pts"][0][: len(pts)] = pts
    pend = np.zeros(1, pending)
    pend["seq"], pend["id"], pend["n"] = seq, image_id, len(desc)
    pend["desc"][0][: len(desc)] = desc
    # descriptors first: a crash in between leaves an unused pending row
    for name, data in (("pending.bin", pend), ("records.bin", rec)):
        with open(directory / name, "ab") as f:
            f.write(data.tobytes())
