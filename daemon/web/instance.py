"""One daemon per data dir: a lock file taken by `serve`, and who holds it.

Two daemons on one database would both fetch, match and notify, and both append to the
ledger. `serve` takes an OS file lock (`filelock`: fcntl on POSIX, msvcrt on Windows) on
DATA_DIR/daemon.lock for its whole life; the OS drops it when the process dies, so a crash
never leaves a stale lock. Beside it, daemon.json says which process holds it and where it
listens, so a second `serve` can say so. CLI commands do not take the lock: they share the
database safely through SQLite's WAL and busy timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from filelock import FileLock, Timeout

from daemon.files import write_text_atomic
from daemon.timeutil import now_iso

LOCK_FILE = "daemon.lock"
INFO_FILE = "daemon.json"


class AlreadyRunning(RuntimeError):
    """Another daemon holds this data dir; the message says which and where."""


def running_daemon(data_dir: Path) -> dict | None:
    """What daemon.json says about the daemon holding `data_dir` (None when unknown)."""
    try:
        info = json.loads((Path(data_dir) / INFO_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


class DataDirLock:
    """The data dir's daemon lock: `acquire` or fail with AlreadyRunning, `release` at exit."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self._lock = FileLock(str(self.data_dir / LOCK_FILE), timeout=0)

    def acquire(self) -> DataDirLock:
        """Take the lock now (never waits)."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            info = running_daemon(self.data_dir) or {}
            where = (f" at http://{info.get('host', '127.0.0.1')}:{info['port']}/"
                     if info.get("port") else "")
            who = f"process {info['pid']}" if info.get("pid") else "another process"
            raise AlreadyRunning(
                f"PicGuard is already running on {self.data_dir}: {who}{where} holds "
                f"{self.data_dir / LOCK_FILE}. Use that daemon, stop it first, or give "
                "another --data-dir") from None
        return self

    def describe(self, host: str, port: int) -> None:
        """Write who holds the lock and where it listens (daemon.json beside the lock)."""
        write_text_atomic(self.data_dir / INFO_FILE, json.dumps({
            "pid": os.getpid(), "host": host, "port": port, "started_at": now_iso()}))

    def release(self) -> None:
        """Remove daemon.json and drop the lock (the OS drops it too if the process dies)."""
        if self._lock.is_locked:
            with contextlib.suppress(OSError):
                (self.data_dir / INFO_FILE).unlink()
            self._lock.release()
