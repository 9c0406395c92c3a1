"""Automatic backups: a ZIP in the folder the seller picked, keeping the last N.

Settings (`picguard config set KEY VALUE`): `backup_dir` (a USB drive, a synced cloud
folder; empty = off), `backup_keep` (how many to keep, default 7), `backup_interval_s`
(default a day). The scheduler checks hourly; what happened last is kept in the store's
meta table and shown in `GET /api/v1/status` under `backup`.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from daemon.backup.snapshot import BackupError, make_backup
from daemon.config import Settings
from daemon.store import Store
from daemon.timeutil import now_iso, parse_iso, utcnow

META_KEY = "backup.last"
NAME_RE = re.compile(r"^picguard-backup-\d{8}T\d{9}Z\.zip$")


def backups_in(folder: Path) -> list[Path]:
    """The automatic backups in `folder`, oldest first (only our own file names)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if NAME_RE.match(p.name))


def scheduled_backup(settings: Settings, store: Store, force: bool = False) -> dict:
    """Write a backup into `backup_dir` when the last one is older than the interval, then
    prune to `backup_keep`. Failures are recorded (and retried at the next check)."""
    if not settings.backup_dir:
        return {"done": False, "reason": "automatic backups are off (set backup_dir)"}
    folder = Path(settings.backup_dir).expanduser()
    last = last_backup(store)
    # Recent enough only if it is still there, in the folder now chosen (a new folder, or a
    # drive whose backup was deleted, gets one at once).
    if not force and last and last.get("ok") and Path(last["path"]).parent == folder \
            and Path(last["path"]).is_file() \
            and utcnow() - parse_iso(last["at"]) < timedelta(seconds=settings.backup_interval_s):
        return {"done": False, "reason": "backed up recently", "last": last["path"]}
    now = utcnow()  # milliseconds in the name: two backups never collide
    name = f"picguard-backup-{now.strftime('%Y%m%dT%H%M%S')}{now.microsecond // 1000:03d}Z.zip"
    record: dict = {"at": now_iso(), "path": str(folder / name)}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        result = make_backup(settings, store, folder / name)
    except (BackupError, OSError) as exc:
        record.update(ok=False, error=str(exc))
    else:
        info = result.to_dict()
        record.update(ok=True, bytes=info["bytes"], photos=info["photos"],
                      ledger_head=info["ledger_head"])
        kept = backups_in(folder)
        for old in kept[:max(0, len(kept) - max(1, settings.backup_keep))]:
            old.unlink(missing_ok=True)
    store.set_meta(META_KEY, json.dumps(record, ensure_ascii=False))
    return {"done": record["ok"], **record}


def last_backup(store: Store) -> dict | None:
    """The last automatic backup attempt (ok or not), as recorded."""
    text = store.get_meta(META_KEY)
    return json.loads(text) if text else None


def backup_status(settings: Settings, store: Store) -> dict:
    """The `backup` section of the status: where, how many kept, the last attempt."""
    folder = Path(settings.backup_dir).expanduser() if settings.backup_dir else None
    present = backups_in(folder) if folder else []
    return {"enabled": bool(folder), "dir": str(folder) if folder else None,
            "keep": settings.backup_keep, "interval_s": settings.backup_interval_s,
            "count": len(present), "newest": present[-1].name if present else None,
            "last": last_backup(store)}
