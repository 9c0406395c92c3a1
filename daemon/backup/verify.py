"""`picguard backup --verify SRC`: is this backup whole, and would it restore a sound ledger?

Checks, in order: the manifest's SHA-256 of every file, SQLite's integrity_check on the
database copy, the ledger chain (hashes, links, signatures) with the backed-up key matching
one of the ledger's keys, and every RFC 3161 token (trusted roots: certifi plus the
backup's tsa-roots/). Nothing in SRC is modified: a ZIP is read into a temp folder and
the database is checked on a copy (opening it applies migrations).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from daemon.backup.snapshot import BACKUP_FORMAT, DB_NAME, BackupError, sha256_file
from daemon.provenance.chain import KEY_FILE, key_id_of
from daemon.provenance.ledger import Ledger
from daemon.provenance.timestamps import verify_stamps
from daemon.store import Store, StoreError


@dataclass
class BackupCheck:
    """What `verify_backup` found; `problems` empty means the backup is sound."""

    manifest: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    ledger: dict | None = None
    timestamps: dict | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "problems": self.problems, "files_checked": self.files_checked,
                "created_at": self.manifest.get("created_at"),
                "photos": self.manifest.get("photos"), "ledger": self.ledger,
                "timestamps": self.timestamps}


@contextlib.contextmanager
def opened(src: Path) -> Iterator[Path]:
    """The backup as a folder: SRC itself, or a ZIP unpacked into a temp folder."""
    src = Path(src).expanduser()
    if src.is_dir():
        yield src
        return
    if not src.is_file():
        raise BackupError(f"{src} does not exist; give a backup folder or .zip")
    tmp = Path(tempfile.mkdtemp(prefix="picguard-backup-check-"))
    try:
        try:
            with zipfile.ZipFile(src) as zf:
                for name in zf.namelist():
                    target = (tmp / name).resolve()
                    if not target.is_relative_to(tmp.resolve()):
                        raise BackupError(f"{src} holds a file outside the backup ({name}); "
                                          "it is not a PicGuard backup")
                zf.extractall(tmp)
        except (zipfile.BadZipFile, OSError) as exc:
            raise BackupError(f"{src} is not a readable ZIP ({exc}); it may be damaged") from exc
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_manifest(root: Path) -> dict:
    """The backup's manifest.json (BackupError when there is none or it is not ours)."""
    try:
        manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{root} has no readable manifest.json: it is not a PicGuard "
                          "backup, or it is damaged") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{root}/manifest.json is not a {BACKUP_FORMAT} manifest")
    return manifest


def check_folder(root: Path) -> BackupCheck:
    """Every check on an unpacked backup folder."""
    check = BackupCheck(read_manifest(root))
    add = check.problems.append
    listed = set()
    for item in check.manifest.get("files", []):
        listed.add(item["path"])
        path = root / item["path"]
        check.files_checked += 1
        if not path.is_file():
            add(f"{item['path']}: missing")
        elif sha256_file(path) != item["sha256"]:
            add(f"{item['path']}: changed since the backup was made (SHA-256 differs)")
    if DB_NAME not in listed:
        add(f"{DB_NAME}: not in the manifest; the backup has no database")
        return check
    with tempfile.TemporaryDirectory(prefix="picguard-backup-db-") as tmp:
        db = Path(tmp) / DB_NAME
        shutil.copy2(root / DB_NAME, db)
        try:
            conn = sqlite3.connect(db)
            try:
                rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            finally:
                conn.close()
        except sqlite3.Error as exc:
            rows = [str(exc)]
        if rows != ["ok"]:
            add(f"{DB_NAME}: SQLite integrity check failed: {'; '.join(rows[:3])}")
            return check
        try:
            store = Store(db)
        except (StoreError, sqlite3.Error) as exc:
            add(f"{DB_NAME}: cannot be opened ({exc})")
            return check
        try:
            _check_ledger(root, store, check)
        finally:
            store.close()
    return check


def _check_ledger(root: Path, store: Store, check: BackupCheck) -> None:
    report = Ledger(store, root).verify()
    check.ledger = report.to_dict()
    for problem in report.problems:
        check.problems.append(f"ledger entry {problem.seq}: {problem.message}")
    keys = store.ledger_keys()
    key_path = root / KEY_FILE
    if keys and not key_path.is_file():
        check.problems.append(f"{KEY_FILE}: missing; a restored PicGuard would start a new key")
    elif key_path.is_file():
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            kid = key_id_of(key.public_key())  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            check.problems.append(f"{KEY_FILE}: not a readable key ({exc})")
        else:
            if keys and kid not in keys:
                check.problems.append(f"{KEY_FILE}: is not one of the ledger's signing keys")
    stamps = verify_stamps(store, root)
    check.timestamps = stamps.to_dict()
    for bad in stamps.bad:
        check.problems.append(f"timestamp of entry {bad['seq']} by {bad['tsa']}: "
                              f"{bad['message']}")


def verify_backup(src: Path) -> BackupCheck:
    """Check the backup at `src` (folder or ZIP)."""
    with opened(src) as root:
        return check_folder(root)
