"""Registering the seller's originals: walk files, hash, read EXIF, fingerprint, store.

The original file is only ever read: its bytes, SHA-256 and path are the evidence.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from daemon.exif import read_exif
from daemon.imageio import ImageError
from daemon.ledger import note_registration
from daemon.matcher import MATCHER_VERSION, analyse
from daemon.store import Store

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".avif", ".heic", ".heif",
                  ".gif", ".tif", ".tiff", ".bmp"}
# Originals straight from a camera are rarely above 60 MB; a larger file is refused up front
# rather than read into memory.
MAX_ORIGINAL_BYTES = 200 * 1024 * 1024


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
    }


def register_file(store: Store, path: Path, shoot: str | None = None) -> tuple[str, dict]:
    """Register one original. Returns ('added'|'duplicate'|'failed', info)."""
    try:
        size = path.stat().st_size
        if size > MAX_ORIGINAL_BYTES:
            return "failed", {"path": str(path), "reason": (
                f"file is {size // 2**20} MB, over the {MAX_ORIGINAL_BYTES // 2**20} MB limit; "
                "register a smaller export of the photo")}
        data = path.read_bytes()
    except OSError as exc:
        return "failed", {"path": str(path), "reason": f"cannot read the file: {exc.strerror}"}
    sha = hashlib.sha256(data).hexdigest()
    known = store.photo_by_sha(sha)
    if known:
        return "duplicate", {"path": str(path), "id": known["id"], "same_as": known["path"]}
    try:
        photo = describe_photo(path, data)
        analysis = analyse(data)
    except ImageError as exc:
        return "failed", {"path": str(path), "reason": str(exc)}
    photo_id, created = store.add_photo(
        photo, analysis.fingerprint.to_bytes(), analysis.features_bytes(), MATCHER_VERSION,
        shoot=shoot,
    )
    if not created:  # registered concurrently by another process
        return "duplicate", {"path": str(path), "id": photo_id, "same_as": photo["path"]}
    note_registration(store, photo_id)  # provenance ledger entry (catalog.register)
    return "added", {"path": str(path), "id": photo_id, "sha256": sha,
                     "taken_at": photo["taken_at"], "has_gps": photo["has_gps"]}


def register(store: Store, paths: Iterable[Path], shoot: str | None = None,
             progress: Callable[[Iterable[Path]], Iterable[Path]] | None = None
             ) -> RegisterReport:
    """Register every image under `paths`; one bad file is reported and the rest go on."""
    report = RegisterReport()
    files = list(iter_image_files(paths))
    for path in progress(files) if progress else files:
        outcome, info = register_file(store, path, shoot)
        {"added": report.added, "duplicate": report.duplicates,
         "failed": report.failed}[outcome].append(info)
    return report
