"""SQL for RFC 3161 timestamps of the ledger's head: the tokens and the heads still waiting.

The protocol (requests, responses, verification) lives in `daemon.provenance.timestamps`;
this mixin only stores rows. A head waits in `ledger_stamp_queue` once per TSA until that
TSA answers; a newer head makes older waiting ones pointless (it covers them), so queueing
a head drops the older ones.
"""

from __future__ import annotations

from daemon.store.base import StoreBase
from daemon.timeutil import now_iso


class TimestampStore(StoreBase):
    """Timestamp tokens over ledger heads, and the retry queue for unreachable TSAs."""

    def add_ledger_stamp(self, seq: int, head_hash: str, tsa_url: str, token: bytes,
                         gen_time: str, serial: str) -> int | None:
        """Store one TSA token (None when this TSA already stamped this head); the head's
        queue row for that TSA is done."""
        with self.tx() as c:
            c.execute("DELETE FROM ledger_stamp_queue WHERE head_hash = ? AND tsa_url = ?",
                      (head_hash, tsa_url))
            cur = c.execute(
                "INSERT OR IGNORE INTO ledger_stamps(seq, head_hash, tsa_url, token, gen_time, "
                "serial, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (seq, head_hash, tsa_url, token, gen_time, serial, now_iso()),
            )
            return cur.lastrowid if cur.rowcount else None

    def ledger_stamps(self, first_seq: int = 0, last_seq: int | None = None) -> list[dict]:
        """Tokens over heads with first_seq <= seq <= last_seq, oldest head first."""
        return self._q(
            "SELECT * FROM ledger_stamps WHERE seq >= ? AND (? IS NULL OR seq <= ?) "
            "ORDER BY seq, id",
            (first_seq, last_seq, last_seq),
        )

    def last_ledger_stamp(self) -> dict | None:
        """The token over the newest stamped head."""
        return self._one("SELECT * FROM ledger_stamps ORDER BY seq DESC, id DESC LIMIT 1")

    def count_ledger_stamps(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM ledger_stamps").fetchone()[0]

    # ---- the queue --------------------------------------------------------------------

    def queue_ledger_stamp(self, seq: int, head_hash: str, tsa_urls: list[str]) -> int:
        """Queue `head_hash` for every TSA that has not stamped it; older waiting heads are
        dropped (this one covers them). Returns the number of rows queued."""
        now = now_iso()
        queued = 0
        with self.tx() as c:
            c.execute("DELETE FROM ledger_stamp_queue WHERE seq < ?", (seq,))
            for url in tsa_urls:
                done = c.execute("SELECT 1 FROM ledger_stamps WHERE head_hash = ? AND tsa_url = ?",
                                 (head_hash, url)).fetchone()
                if done:
                    continue
                cur = c.execute(
                    "INSERT OR IGNORE INTO ledger_stamp_queue(head_hash, seq, tsa_url, attempts, "
                    "next_attempt_at, created_at) VALUES (?, ?, ?, 0, ?, ?)",
                    (head_hash, seq, url, now, now),
                )
                queued += cur.rowcount
        return queued

    def due_ledger_stamps(self, now: str, limit: int = 20) -> list[dict]:
        """Queued (head, TSA) pairs whose next attempt is due."""
        return self._q(
            "SELECT * FROM ledger_stamp_queue WHERE next_attempt_at <= ? "
            "ORDER BY seq DESC, tsa_url LIMIT ?",
            (now, limit),
        )

    def ledger_stamp_failed(self, head_hash: str, tsa_url: str, error: str,
                            next_attempt_at: str) -> None:
        """Record a failed attempt and when to try this TSA again."""
        with self.tx() as c:
            c.execute(
                "UPDATE ledger_stamp_queue SET attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ? WHERE head_hash = ? AND tsa_url = ?",
                (error, next_attempt_at, head_hash, tsa_url),
            )

    def forget_queued_stamp(self, head_hash: str) -> None:
        """Drop a queued head that is not in the chain any more (stamping it proves nothing)."""
        with self.tx() as c:
            c.execute("DELETE FROM ledger_stamp_queue WHERE head_hash = ?", (head_hash,))

    def ledger_stamp_queue(self) -> list[dict]:
        """Everything still waiting for a TSA (for status and `ledger stamp`)."""
        return self._q("SELECT * FROM ledger_stamp_queue ORDER BY seq DESC, tsa_url")

    def drop_stamp_queue_except(self, tsa_urls: list[str]) -> None:
        """Forget waiting rows for TSAs the seller removed from the settings."""
        marks = ", ".join("?" * len(tsa_urls)) or "''"
        with self.tx() as c:
            c.execute(f"DELETE FROM ledger_stamp_queue WHERE tsa_url NOT IN ({marks})",
                      tuple(tsa_urls))
