"""Storage faults told apart from bugs: a full (or failing) disk, and a damaged database file.

A full disk is the seller's to fix, so it gets a plain message, not a traceback; SQLite's
transactions guarantee that what failed was rolled back whole and what was committed stays.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

# SQLite reports SQLITE_FULL as "database or disk is full"; a WAL or journal that cannot
# grow (or be created) on a full disk comes back as SQLITE_IOERR, "disk I/O error".
_FULL_MESSAGES = ("database or disk is full", "disk i/o error")


def is_disk_full(exc: BaseException) -> bool:
    """True for the errors a full disk produces, from SQLite or from a plain file write."""
    if isinstance(exc, sqlite3.OperationalError):
        return any(m in str(exc).lower() for m in _FULL_MESSAGES)
    # EDQUOT (quota exceeded) is POSIX-only: Windows reports a full disk as ENOSPC
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC,
                                                      getattr(errno, "EDQUOT", errno.ENOSPC))


def disk_full_message(data_dir: Path | str, exc: BaseException) -> str:
    """What happened and what to do, in one line."""
    return (f"the disk holding {data_dir} is full or failing ({exc}); nothing was half-written: "
            "free some space, then run the command again and it carries on where it stopped")


def quick_check(db_path: Path | str) -> str | None:
    """None when the database file is sound; else what SQLite's `PRAGMA quick_check` found.

    Read-only: opened with mode=ro so a damaged file is never "repaired" into a worse state.
    """
    path = Path(db_path)
    if not path.exists():
        return None  # a new data dir: the database is created on first use
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    problems = [r[0] for r in rows if r[0] != "ok"]
    return "; ".join(problems[:5]) if problems else None


def damaged_message(db_path: Path | str, problem: str) -> str:
    """Why `serve` refuses a damaged database, and the way back: `picguard restore`."""
    return (f"the database {db_path} is damaged ({problem}); PicGuard will not run on it, so "
            "nothing more is lost. Restore your latest backup into a new, empty data dir with "
            "`picguard restore BACKUP --data-dir NEW_DIR` and start from there (keep the "
            "damaged file: it may still be needed)")
