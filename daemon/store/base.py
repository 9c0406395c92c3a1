"""Connections, transactions, migrations and meta: the base every store mixin builds on."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from daemon.store.schema import MIGRATIONS


class StoreError(RuntimeError):
    """The database cannot be opened or is from a newer PicGuard."""


def dicts(rows: Iterable[sqlite3.Row]) -> list[dict]:
    return [dict(r) for r in rows]


class StoreBase:
    """Connection handling shared by the store mixins. Thread-safe: a connection per thread."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        # Writers of this process queue here, woken the moment the writer before them
        # commits; SQLite's own busy handler (kept for other processes) sleeps-and-polls in
        # steps of up to 100 ms, which was most of the p95/p99 of concurrent pushes.
        self._write_lock = threading.Lock()
        self.migrate()

    # ---- connections and transactions -------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(
                    self.path, timeout=30, isolation_level=None, check_same_thread=False
                )
            except sqlite3.Error as exc:
                raise StoreError(
                    f"cannot open the database {self.path}: {exc}; check the data dir "
                    "exists and is writable"
                ) from exc
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE: writers queue instead of failing midway)."""
        conn = self._conn()
        if conn.in_transaction:  # nested use joins the outer transaction
            yield conn
            return
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # SQLite may already have rolled back (SQLITE_FULL does), and a failed COMMIT
                # leaves the transaction open: without this the thread's connection stayed in
                # it and every later tx() silently "joined" a transaction never committed.
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise

    def _q(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        return dicts(self._conn().execute(sql, tuple(params)))

    def _one(self, sql: str, params: Iterable[Any] = ()) -> dict | None:
        row = self._conn().execute(sql, tuple(params)).fetchone()
        return dict(row) if row else None

    def close(self) -> None:
        """Close every thread's connection (at shutdown)."""
        with self._conns_lock:
            for conn in self._conns:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._conns.clear()
        self._local = threading.local()

    # ---- schema -------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return self._conn().execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        """Apply every migration newer than the database, each in its own transaction."""
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StoreError(
                f"the database {self.path} is from a newer PicGuard (schema {current}, this "
                f"version knows {len(MIGRATIONS)}); upgrade PicGuard"
            )
        conn = self._conn()
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            # executescript commits implicitly, so the version bump goes in the same script
            conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")

    # ---- meta ---------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return row["value"] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.tx() as c:
            c.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )
