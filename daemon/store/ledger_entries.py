"""SQL for the provenance ledger: the append-only chain, its signing keys and witness records.

The chain logic (canonical bodies, hashes, signatures) lives in `daemon.provenance`; this mixin
only stores rows. Appends run inside one IMMEDIATE transaction that reads the head and
inserts the next entry, so concurrent workers queue instead of forking the chain.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from daemon.store.base import StoreBase
from daemon.timeutil import now_iso

LEDGER_COLS = ("seq", "version", "time", "kind", "subject", "sha256", "fp_digest", "ref",
               "key_id", "prev_hash", "entry_hash", "signature")
# meta key holding "<seq>:<entry_hash>" of the last append: a deleted tail shows against it.
HEAD_META = "ledger.head"


class LedgerStore(StoreBase):
    """The provenance ledger's tables."""

    # ---- the chain ----------------------------------------------------------------------

    def ledger_append(self, build: Callable[[dict | None], dict],
                      once: tuple[str, str] | None = None) -> dict | None:
        """Append the entry `build(head)` makes from the current head, atomically.

        With `once=(kind, subject)`, nothing is appended (None returned) when an entry of
        that kind for that subject already exists: first sightings are recorded once.
        """
        with self.tx() as c:
            if once is not None:
                seen = c.execute(
                    "SELECT 1 FROM ledger WHERE subject = ? AND kind = ? LIMIT 1",
                    (once[1], once[0]),
                ).fetchone()
                if seen:
                    return None
            head = c.execute("SELECT * FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
            row = build(dict(head) if head else None)
            c.execute(
                f"INSERT INTO ledger({', '.join(LEDGER_COLS)}) "
                f"VALUES ({', '.join('?' * len(LEDGER_COLS))})",
                tuple(row[k] for k in LEDGER_COLS),
            )
            c.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (HEAD_META, f"{row['seq']}:{row['entry_hash']}"),
            )
            return row

    def ledger_head(self) -> dict | None:
        return self._one("SELECT * FROM ledger ORDER BY seq DESC LIMIT 1")

    def ledger_count(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM ledger").fetchone()[0]

    def ledger_entries(self, first_seq: int = 1, last_seq: int | None = None,
                       batch: int = 1000) -> Iterator[dict]:
        """Entries in seq order, streamed in batches (the ledger can be long)."""
        after = first_seq - 1
        while True:
            rows = self._q(
                "SELECT * FROM ledger WHERE seq > ? AND (? IS NULL OR seq <= ?) "
                "ORDER BY seq LIMIT ?",
                (after, last_seq, last_seq, batch),
            )
            if not rows:
                return
            yield from rows
            after = rows[-1]["seq"]

    def ledger_hash_index(self) -> dict[str, int]:
        """entry_hash -> seq for every entry (verify uses it to tell reordering from loss)."""
        return {r[0]: r[1] for r in self._conn().execute("SELECT entry_hash, seq FROM ledger")}

    def ledger_entries_for(self, subjects: list[str]) -> list[dict]:
        """Entries about these subjects ('photo:5', 'image:77'), in seq order."""
        if not subjects:
            return []
        marks = ", ".join("?" * len(subjects))
        return self._q(f"SELECT * FROM ledger WHERE subject IN ({marks}) ORDER BY seq", subjects)

    # ---- signing keys -------------------------------------------------------------------

    def ledger_keys(self) -> dict[str, str]:
        """key_id -> public key PEM of every key that ever signed this ledger."""
        return {r["key_id"]: r["public_pem"]
                for r in self._q("SELECT key_id, public_pem FROM ledger_keys")}

    def add_ledger_key(self, key_id: str, public_pem: str) -> None:
        with self.tx() as c:
            c.execute(
                "INSERT OR IGNORE INTO ledger_keys(key_id, public_pem, created_at) "
                "VALUES (?, ?, ?)",
                (key_id, public_pem, now_iso()),
            )

    # ---- what the ledger does not cover yet (backfill) ----------------------------------

    def photos_missing_from_ledger(self, limit: int = 1000) -> list[dict]:
        """Catalog photos with no registration entry (registered before the ledger existed,
        or whose append failed), with their fingerprint blob."""
        return self._q(
            "SELECT p.id, p.sha256, p.path, p.registered_at, f.data AS fingerprint "
            "FROM photos p LEFT JOIN fingerprints f ON f.photo_id = p.id "
            "WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.subject = 'photo:' || p.id "
            "AND l.kind = 'catalog.register') ORDER BY p.id LIMIT ?",
            (limit,),
        )

    def images_missing_from_ledger(self, limit: int = 1000) -> list[dict]:
        """Fetched competitor images with no first-sighting entry, with their fingerprint."""
        return self._q(
            "SELECT i.id, i.url, i.image_key, i.first_seen, i.fetched_at, i.sha256, "
            "f.data AS fingerprint FROM images i LEFT JOIN fingerprints f ON f.image_id = i.id "
            "WHERE i.status = 'fetched' AND i.sha256 IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM ledger l WHERE l.subject = 'image:' || i.id "
            "AND l.kind = 'image.first_seen') ORDER BY i.id LIMIT ?",
            (limit,),
        )

    def photo_fingerprint_blob(self, photo_id: int) -> bytes | None:
        row = self._one("SELECT data FROM fingerprints WHERE photo_id = ?", (photo_id,))
        return row["data"] if row else None

    def image_fingerprint_blob(self, image_id: int) -> bytes | None:
        row = self._one("SELECT data FROM fingerprints WHERE image_id = ?", (image_id,))
        return row["data"] if row else None

    # ---- external witness ---------------------------------------------------------------

    def ledger_witnessed(self, seq: int, head_hash: str, channels: int,
                         error: str | None) -> int:
        """Record one sending of the head digest (failed sends too, with the reason)."""
        with self.tx() as c:
            return c.execute(
                "INSERT INTO ledger_witness(seq, head_hash, sent_at, channels, error) "
                "VALUES (?, ?, ?, ?, ?)",
                (seq, head_hash, now_iso(), channels, error),
            ).lastrowid

    def ledger_witnesses(self, sent_only: bool = True) -> list[dict]:
        where = "WHERE error IS NULL" if sent_only else ""
        return self._q(f"SELECT * FROM ledger_witness {where} ORDER BY id")

    def last_ledger_witness(self) -> dict | None:
        """The last successful sending of the head digest."""
        return self._one(
            "SELECT * FROM ledger_witness WHERE error IS NULL ORDER BY id DESC LIMIT 1"
        )
