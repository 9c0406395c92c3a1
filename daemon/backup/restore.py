"""`picguard restore SRC`: a verified backup into an empty data dir.

The backup is checked first (daemon.backup.verify); a damaged one restores nothing. Files
are put in place through a temp folder inside the data dir and moved in one by one, the
database last, so an interrupted restore leaves no database (and `serve` cannot start on
half a data dir). Originals included in the backup go to DATA_DIR/originals/ and the
catalog is pointed at them only where the registered file is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from daemon.backup.snapshot import DB_NAME, PLAIN_FILES, BackupError
from daemon.backup.verify import check_folder, opened
from daemon.provenance.tsa import TSA_ROOTS_DIR
from daemon.store import Store

# Files a fresh `picguard` command may already have made in a new data dir: not "data".
FRESH_FILES = {"settings.json", "token"}


@dataclass
class RestoreResult:
    """What a restore put in place."""

    data_dir: Path
    files: list[str] = field(default_factory=list)
    photos: int = 0
    relocated: list[dict] = field(default_factory=list)
    head: dict | None = None

    def to_dict(self) -> dict:
        return {"data_dir": str(self.data_dir), "files": self.files, "photos": self.photos,
                "relocated_originals": self.relocated, "ledger_head": self.head}


def _is_empty(data_dir: Path) -> bool:
    if not data_dir.exists():
        return True
    return all(p.name in FRESH_FILES or p.name.startswith(".") for p in data_dir.iterdir())


def restore(src: Path, data_dir: Path) -> RestoreResult:
    """Restore the backup at `src` into `data_dir`, which must hold no PicGuard data yet."""
    data_dir = Path(data_dir)
    if not _is_empty(data_dir):
        raise BackupError(f"{data_dir} already holds PicGuard data; restore into a new, empty "
                          "data dir (--data-dir NEW_FOLDER), never over a live one")
    with opened(src) as root:
        check = check_folder(root)
        if not check.ok:
            raise BackupError("the backup does not verify, nothing was restored: "
                              + "; ".join(check.problems[:3]))
        data_dir.mkdir(parents=True, exist_ok=True)
        result = RestoreResult(data_dir, head=check.manifest.get("ledger_head"),
                               photos=check.manifest.get("photos") or 0)
        stage = Path(tempfile.mkdtemp(dir=data_dir, prefix=".restore-"))
        try:
            names = [n for n in PLAIN_FILES if (root / n).is_file()]
            for name in names:
                shutil.copy2(root / name, stage / name)
            if (root / TSA_ROOTS_DIR).is_dir():
                shutil.copytree(root / TSA_ROOTS_DIR, stage / TSA_ROOTS_DIR)
            if (root / "originals").is_dir():
                shutil.copytree(root / "originals", stage / "originals")
            shutil.copy2(root / DB_NAME, stage / DB_NAME)
            for name in [*names, TSA_ROOTS_DIR, "originals"]:
                if (stage / name).exists():
                    if name in FRESH_FILES:
                        (data_dir / name).unlink(missing_ok=True)
                    os.replace(stage / name, data_dir / name)
                    result.files.append(name)
            if (data_dir / "ledger-ed25519.pem").is_file():
                os.chmod(data_dir / "ledger-ed25519.pem", 0o600)
            if (data_dir / "token").is_file():
                os.chmod(data_dir / "token", 0o600)
            os.replace(stage / DB_NAME, data_dir / DB_NAME)  # last: its presence means "done"
            result.files.append(DB_NAME)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        result.relocated = _relocate(root, data_dir)
    return result


def _relocate(root: Path, data_dir: Path) -> list[dict]:
    """Point catalog rows at the restored copies of originals whose file is gone."""
    import json

    catalog = json.loads((root / "catalog.json").read_text("utf-8"))
    moves = [(item["id"], str(data_dir / item["backup_file"]))
             for item in catalog if item.get("backup_file") and not Path(item["path"]).is_file()]
    if not moves:
        return []
    store = Store(data_dir / DB_NAME)
    try:
        for photo_id, path in moves:
            store.relocate_photo(photo_id, path)
    finally:
        store.close()
    return [{"id": pid, "path": path} for pid, path in moves]
