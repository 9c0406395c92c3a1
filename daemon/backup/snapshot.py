"""`picguard backup DEST`: a consistent snapshot of a data dir, written atomically.

The database is copied with SQLite's online backup API, so the daemon can keep running
(WAL readers and writers are not stopped; the copy is one consistent point in time). With
it go the ledger key, settings, the pairing token, the catalog index cache, trusted TSA
roots, and `catalog.json` (every original's SHA-256 and path). Originals themselves are
copied only when asked (`--originals`): they can be large and usually have their own copy.

Layout (a folder, or the same inside a ZIP): the files above, `originals/<sha256><ext>`
when included, and `manifest.json` with the SHA-256 and size of every other file.
Atomic: everything goes to a temp name beside DEST, is fsynced, then renamed, so a crash
or a full disk never leaves a half backup under DEST's name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from daemon import __version__
from daemon.config import Settings
from daemon.provenance.chain import KEY_FILE
from daemon.provenance.tsa import TSA_ROOTS_DIR
from daemon.store import Store
from daemon.timeutil import now_iso

BACKUP_FORMAT = "picguard-backup/1"
DB_NAME = "picguard.sqlite3"
# Whole files copied from the data dir when present (the database goes through SQLite).
PLAIN_FILES = (KEY_FILE, "settings.json", "token", "catalog-index.npz")


class BackupError(RuntimeError):
    """A backup, restore or check that cannot be done; the message says what to do."""


@dataclass
class BackupResult:
    """What a backup wrote: where, its files, the ledger head it holds."""

    path: Path
    files: list[dict] = field(default_factory=list)
    photos: int = 0
    originals: int = 0
    missing_originals: list[str] = field(default_factory=list)
    head: dict | None = None

    def to_dict(self) -> dict:
        return {"path": str(self.path), "files": len(self.files),
                "bytes": sum(f["bytes"] for f in self.files), "photos": self.photos,
                "originals": self.originals, "missing_originals": self.missing_originals,
                "ledger_head": self.head}


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_database(src: Path, dest: Path) -> None:
    """One consistent copy of a live SQLite database (the online backup API)."""
    source = sqlite3.connect(src, timeout=30)
    target = sqlite3.connect(dest)
    try:
        source.execute("PRAGMA busy_timeout=30000")
        # One step: a single read transaction. Under WAL the daemon's writers go on meanwhile;
        # copying in small steps would restart each time another process writes.
        source.backup(target, pages=-1)
    finally:
        target.close()
        source.close()


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder (Windows)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _stage(settings: Settings, store: Store, stage: Path, originals: bool) -> BackupResult:
    """Write the snapshot's files into the empty folder `stage`."""
    data_dir = settings.data_dir
    result = BackupResult(stage)
    copy_database(settings.db_path, stage / DB_NAME)
    for name in PLAIN_FILES:
        if (data_dir / name).is_file():
            shutil.copy2(data_dir / name, stage / name)
    roots = data_dir / TSA_ROOTS_DIR
    if roots.is_dir():
        (stage / TSA_ROOTS_DIR).mkdir()
        for pem in sorted(roots.glob("*.pem")):
            shutil.copy2(pem, stage / TSA_ROOTS_DIR / pem.name)
    # The catalog as it stands in the copied database (not the live one, which moves on).
    snap = Store(stage / DB_NAME)
    try:
        photos = snap.list_photos()
        head = snap.ledger_head()
    finally:
        snap.close()
    single = sqlite3.connect(stage / DB_NAME)
    try:  # one self-contained file in the backup: no -wal/-shm beside it
        single.execute("PRAGMA journal_mode=DELETE")
    finally:
        single.close()
    result.head = {"seq": head["seq"], "entry_hash": head["entry_hash"]} if head else None
    result.photos = len(photos)
    catalog = []
    for photo in photos:
        item = {"id": photo["id"], "sha256": photo["sha256"], "path": photo["path"],
                "file_name": photo["file_name"], "size_bytes": photo["size_bytes"],
                "shoot": photo["shoot"], "backup_file": None}
        if originals:
            src = Path(photo["path"])
            try:
                ok = src.is_file() and sha256_file(src) == photo["sha256"]
            except OSError:
                ok = False
            if ok:
                rel = f"originals/{photo['sha256']}{src.suffix.lower()}"
                (stage / "originals").mkdir(exist_ok=True)
                shutil.copy2(src, stage / rel)
                item["backup_file"] = rel
                result.originals += 1
            else:
                result.missing_originals.append(photo["path"])
        catalog.append(item)
    (stage / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False, indent=1),
                                        "utf-8")
    for path in sorted(p for p in stage.rglob("*") if p.is_file()):
        result.files.append({"path": path.relative_to(stage).as_posix(),
                             "sha256": sha256_file(path), "bytes": path.stat().st_size})
    manifest = {"format": BACKUP_FORMAT, "picguard": __version__, "created_at": now_iso(),
                "data_dir": str(data_dir), "ledger_head": result.head, "photos": result.photos,
                "originals_included": originals, "missing_originals": result.missing_originals,
                "files": result.files}
    (stage / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                         "utf-8")
    return result


def _zip_folder(folder: Path, out) -> None:  # noqa: ANN001 - a binary file object
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            kind = zipfile.ZIP_STORED if name.startswith("originals/") else zipfile.ZIP_DEFLATED
            zf.write(path, name, compress_type=kind)


def make_backup(settings: Settings, store: Store, dest: Path,
                originals: bool = False) -> BackupResult:
    """Write a backup to `dest`: a ZIP when it ends in .zip, else a new folder.

    Raises BackupError when `dest` exists (a backup never overwrites) or cannot be written.
    """
    dest = Path(dest).expanduser().absolute()
    if dest.exists() and not (dest.is_dir() and not any(dest.iterdir())):
        raise BackupError(f"{dest} already exists; give a new name (a backup never "
                          "overwrites another)")
    if not settings.db_path.is_file():
        raise BackupError(f"there is no database in {settings.data_dir} to back up; check "
                          "--data-dir")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp"))
    except OSError as exc:
        raise BackupError(f"cannot write into {dest.parent}: {exc.strerror or exc}; choose "
                          "another place") from exc
    try:
        result = _stage(settings, store, stage, originals)
        if dest.suffix.lower() == ".zip":
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as out:
                    _zip_folder(stage, out)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, dest)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        else:
            for path in stage.rglob("*"):
                if path.is_file():
                    with open(path, "rb") as f:
                        os.fsync(f.fileno())
            if dest.is_dir():
                dest.rmdir()  # the empty folder the seller named
            os.replace(stage, dest)
        _fsync_dir(dest.parent)
    except (OSError, sqlite3.Error) as exc:
        raise BackupError(f"the backup to {dest} failed ({exc}); nothing was left under that "
                          "name. Check free space and permissions, then retry") from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    result.path = dest
    return result
