"""SQL for what other stores show: stores, listings, images (the fetch queue), pages, watches."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator

from daemon.store.base import StoreBase
from daemon.timeutil import in_seconds, now_iso

# A claimed image is leased for this long; a crash mid-fetch makes it due again after it.
FETCH_LEASE_S = 300


class ListingStore(StoreBase):
    """Competitor listings and the images queued from them."""

    # ---- listings -----------------------------------------------------------------------

    def save_listing(self, listing: dict, *, listing_key: str, url: str, source: str,
                     html: str | None = None) -> dict:
        """Store one parsed page in one transaction: store, listing, images (queued), page.

        Returns {listing_id, is_new, images_total, images_new}. First-seen times are kept;
        a blocked page updates only the listing's status, never its images.
        """
        now = now_iso()
        page_row = None
        if html is not None:
            # Hashed and compressed before the write lock is taken: zlib releases the GIL, so
            # concurrent pushes compress in parallel instead of queueing behind one another
            # (level 6 inside the transaction was 45 ms of a 150 ms push; level 1 is 4x
            # faster for 15% more bytes: bench/load.py).
            raw = html.encode("utf-8", "surrogatepass")
            page_row = (hashlib.sha256(raw).hexdigest(), gzip.compress(raw, 1))
        with self.tx() as c:
            store_row_id = None
            if listing.get("store_id"):
                c.execute(
                    "INSERT INTO stores(marketplace, store_key, name, url, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(marketplace, store_key) DO UPDATE SET "
                    "name = COALESCE(excluded.name, name), url = COALESCE(excluded.url, url), "
                    "last_seen = excluded.last_seen",
                    (listing["marketplace"], listing["store_id"], listing.get("store_name"),
                     listing.get("store_url"), now, now),
                )
                store_row_id = c.execute(
                    "SELECT id FROM stores WHERE marketplace = ? AND store_key = ?",
                    (listing["marketplace"], listing["store_id"]),
                ).fetchone()[0]
            row = c.execute(
                "SELECT id FROM listings WHERE listing_key = ?", (listing_key,)
            ).fetchone()
            is_new = row is None
            if is_new:
                listing_id = c.execute(
                    "INSERT INTO listings(listing_key, marketplace, kind, product_id, store_id, "
                    "url, canonical_url, description_url, title, status, status_reason, "
                    "first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (listing_key, listing["marketplace"], listing.get("kind") or "item",
                     listing.get("product_id"), store_row_id, url, listing.get("canonical_url"),
                     listing.get("description_url"), listing.get("title"), listing["status"],
                     listing.get("reason"), now, now),
                ).lastrowid
            else:
                listing_id = row["id"]
                c.execute(
                    "UPDATE listings SET status = ?, status_reason = ?, last_seen = ?, url = ?, "
                    "store_id = COALESCE(?, store_id), title = COALESCE(?, title), "
                    "canonical_url = COALESCE(?, canonical_url), "
                    "description_url = COALESCE(?, description_url), "
                    # a pushed page retries a description that failed to load
                    "description_status = NULLIF(description_status, 'failed'), "
                    "needs_browser_visit = CASE WHEN ? = 'blocked' THEN 1 ELSE 0 END WHERE id = ?",
                    (listing["status"], listing.get("reason"), now, url, store_row_id,
                     listing.get("title"), listing.get("canonical_url"),
                     listing.get("description_url"), listing["status"], listing_id),
                )
            images_new = 0
            images = (listing.get("images") or []) if listing["status"] == "ok" else []
            for position, ref in enumerate(images):
                images_new += self._link_image(c, listing_id, ref, position, now)
            if page_row is not None:
                c.execute(
                    "INSERT OR IGNORE INTO pages(listing_id, url, source, sha256, html_gz, "
                    "received_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (listing_id, url, source, *page_row, now),
                )
        return {"listing_id": listing_id, "is_new": is_new,
                "images_total": len(images), "images_new": images_new}

    @staticmethod
    def _link_image(c, listing_id: int, ref: dict, position: int, now: str) -> int:
        """Upsert one image and its link to a listing; 1 when the image is new."""
        cur = c.execute(
            "INSERT INTO images(image_key, url, first_seen, last_seen, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(image_key) DO NOTHING",
            (ref["key"], ref["url"], now, now, now),
        )
        created = cur.rowcount == 1
        image_id = c.execute(
            "SELECT id FROM images WHERE image_key = ?", (ref["key"],)
        ).fetchone()[0]
        if not created:
            c.execute("UPDATE images SET last_seen = ? WHERE id = ?", (now, image_id))
        c.execute(
            "INSERT INTO listing_images(listing_id, image_id, role, position, first_seen, "
            "last_seen) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(listing_id, image_id) DO UPDATE "
            "SET last_seen = excluded.last_seen, position = excluded.position",
            (listing_id, image_id, ref.get("role") or "gallery", position, now, now),
        )
        return int(created)

    def add_listing_images(self, listing_id: int, refs: list[dict]) -> int:
        """Link more images to a listing (its description's); returns how many were new."""
        now = now_iso()
        with self.tx() as c:
            start = c.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM listing_images WHERE listing_id = ?",
                (listing_id,),
            ).fetchone()[0]
            return sum(self._link_image(c, listing_id, ref, start + i, now)
                       for i, ref in enumerate(refs))

    def listings_needing_description(self, limit: int = 20) -> list[dict]:
        """Parsed item listings whose separately served description was not fetched yet."""
        return self._q(
            "SELECT id, url, description_url FROM listings WHERE status = 'ok' "
            "AND description_url IS NOT NULL AND description_status IS NULL "
            "ORDER BY id LIMIT ?",
            (limit,),
        )

    def description_visited(self, listing_id: int, status: str, error: str | None) -> None:
        with self.tx() as c:
            c.execute(
                "UPDATE listings SET description_status = ?, description_error = ? WHERE id = ?",
                (status, error, listing_id),
            )

    def get_listing(self, listing_id: int) -> dict | None:
        return self._one(
            "SELECT l.*, s.store_key, s.name AS store_name, s.url AS store_url "
            "FROM listings l LEFT JOIN stores s ON s.id = l.store_id WHERE l.id = ?",
            (listing_id,),
        )

    def listing_by_url(self, url: str) -> dict | None:
        return self._one(
            "SELECT * FROM listings WHERE url = ? OR canonical_url = ? ORDER BY id LIMIT 1",
            (url, url),
        )

    def count_listings(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM listings").fetchone()[0]

    def pages_of_listing(self, listing_id: int) -> list[dict]:
        """Every distinct page stored for a listing, oldest first (html still gzip'd)."""
        return self._q(
            "SELECT * FROM pages WHERE listing_id = ? ORDER BY received_at, id", (listing_id,)
        )

    # ---- the image fetch queue ----------------------------------------------------------

    def claim_due_images(self, limit: int) -> list[dict]:
        """Lease up to `limit` queued images whose next attempt is due (oldest first)."""
        now = now_iso()
        with self.tx() as c:
            rows = c.execute(
                "SELECT id, image_key, url, attempts, etag, last_modified FROM images "
                "WHERE status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
                "AND (leased_until IS NULL OR leased_until <= ?) "
                "ORDER BY next_attempt_at, id LIMIT ?",
                (now, now, limit),
            ).fetchall()
            lease = in_seconds(FETCH_LEASE_S)
            c.executemany(
                "UPDATE images SET leased_until = ? WHERE id = ?",
                [(lease, r["id"]) for r in rows],
            )
        return [dict(r) for r in rows]

    def release_leases(self) -> int:
        """Make images claimed by a process that died due again (at daemon start)."""
        with self.tx() as c:
            return c.execute(
                "UPDATE images SET leased_until = NULL WHERE leased_until IS NOT NULL"
            ).rowcount

    def release_image_leases(self, image_ids: list[int]) -> None:
        """Give back the leases of a batch this process could not finish (e.g. disk full),
        so the next run takes them at once instead of after FETCH_LEASE_S."""
        with self.tx() as c:
            c.executemany("UPDATE images SET leased_until = NULL WHERE id = ? "
                          "AND status = 'queued'", [(i,) for i in image_ids])

    def image_fetched(self, image_id: int, meta: dict, fingerprint: bytes, fp_version: int,
                      thumb: bytes) -> None:
        """Record a fetched image: HTTP facts, SHA-256, thumbnail and fingerprint, atomically."""
        now = now_iso()
        with self.tx() as c:
            c.execute(
                "UPDATE images SET status = 'fetched', attempts = attempts + 1, "
                "next_attempt_at = NULL, leased_until = NULL, error = NULL, error_code = NULL, "
                "sha256 = ?, "
                "content_type = ?, size_bytes = ?, width = ?, height = ?, etag = ?, "
                "last_modified = ?, http_date = ?, fetched_at = ?, thumb = ?, "
                "matched_version = 0 WHERE id = ?",
                (meta.get("sha256"), meta.get("content_type"), meta.get("size_bytes"),
                 meta.get("width"), meta.get("height"), meta.get("etag"),
                 meta.get("last_modified"), meta.get("http_date"), now, thumb, image_id),
            )
            c.execute(
                "INSERT INTO fingerprints(image_id, version, data, created_at) VALUES (?,?,?,?) "
                "ON CONFLICT(image_id) DO UPDATE SET version = excluded.version, "
                "data = excluded.data, created_at = excluded.created_at",
                (image_id, fp_version, fingerprint, now),
            )

    def save_capture(self, image_id: int, url: str, content: bytes, meta: dict) -> None:
        """Keep a matching image's bytes as served, once (the first capture is the evidence)."""
        with self.tx() as c:
            c.execute(
                "INSERT OR IGNORE INTO captures(image_id, url, content, sha256, content_type, "
                "http_date, last_modified, etag, captured_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (image_id, url, content, hashlib.sha256(content).hexdigest(),
                 meta.get("content_type"), meta.get("http_date"), meta.get("last_modified"),
                 meta.get("etag"), now_iso()),
            )

    def get_capture(self, image_id: int) -> dict | None:
        return self._one("SELECT * FROM captures WHERE image_id = ?", (image_id,))

    def image_failed(self, image_id: int, code: str, reason: str,
                     retry_at: str | None) -> None:
        """Record a failed fetch: retried at `retry_at`, or given up for good when None."""
        with self.tx() as c:
            c.execute(
                "UPDATE images SET attempts = attempts + 1, error_code = ?, error = ?, "
                "status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'queued' END, "
                "next_attempt_at = ?, leased_until = NULL WHERE id = ?",
                (code, reason, retry_at, retry_at, image_id),
            )

    def image_not_modified(self, image_id: int) -> None:
        """A conditional re-fetch answered 304: the stored data stays valid."""
        with self.tx() as c:
            c.execute(
                "UPDATE images SET status = 'fetched', next_attempt_at = NULL, "
                "leased_until = NULL, fetched_at = ? "
                "WHERE id = ?",
                (now_iso(), image_id),
            )

    def get_image(self, image_id: int) -> dict | None:
        return self._one("SELECT * FROM images WHERE id = ?", (image_id,))

    def images_by_keys(self, keys: list[str]) -> dict[str, dict]:
        """Image rows (without thumbnails) for identity keys, keyed by key."""
        out: dict[str, dict] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self._q(
                "SELECT id, image_key, url, status, first_seen, matched_version FROM images "
                f"WHERE image_key IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.update({r["image_key"]: r for r in rows})
        return out

    def images_to_match(self, version: int, limit: int) -> list[dict]:
        """Fetched images not yet matched against the catalog with matcher `version`."""
        return self._q(
            "SELECT i.id, i.image_key, i.first_seen, i.sha256, i.thumb, f.data "
            "FROM images i JOIN fingerprints f ON f.image_id = i.id "
            "WHERE i.status = 'fetched' AND i.matched_version < ? ORDER BY i.id LIMIT ?",
            (version, limit),
        )

    def set_image_matched(self, image_id: int, version: int) -> None:
        with self.tx() as c:
            c.execute("UPDATE images SET matched_version = ? WHERE id = ?", (version, image_id))

    def iter_fetched_images(self, batch: int = 500) -> Iterator[dict]:
        """Every fetched competitor image with its thumbnail and fingerprint, in id order."""
        last = 0
        while True:
            rows = self._q(
                "SELECT i.id, i.image_key, i.first_seen, i.sha256, i.thumb, f.data "
                "FROM images i JOIN fingerprints f ON f.image_id = i.id "
                "WHERE i.status = 'fetched' AND i.id > ? ORDER BY i.id LIMIT ?",
                (last, batch),
            )
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    def image_listings(self, image_id: int) -> list[dict]:
        """The listings that show an image, earliest first, with their store."""
        return self._q(
            "SELECT l.id, l.url, l.canonical_url, l.title, l.marketplace, li.first_seen, "
            "s.store_key, s.name AS store_name FROM listing_images li "
            "JOIN listings l ON l.id = li.listing_id LEFT JOIN stores s ON s.id = l.store_id "
            "WHERE li.image_id = ? ORDER BY li.first_seen, l.id",
            (image_id,),
        )

    def image_counts(self) -> dict[str, int]:
        counts = {"queued": 0, "fetched": 0, "failed": 0}
        for row in self._q("SELECT status, COUNT(*) AS n FROM images GROUP BY status"):
            counts[row["status"]] = row["n"]
        return counts

    # ---- watched listings ---------------------------------------------------------------

    def add_watch(self, url: str, listing_id: int | None) -> int:
        """Watch a listing or store URL (idempotent: the same URL gives the same id)."""
        now = now_iso()
        with self.tx() as c:
            c.execute(
                "INSERT INTO watches(url, listing_id, created_at, next_visit_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET "
                "listing_id = COALESCE(excluded.listing_id, listing_id)",
                (url, listing_id, now, now),
            )
            return c.execute("SELECT id FROM watches WHERE url = ?", (url,)).fetchone()[0]

    def remove_watch(self, watch_id: int) -> bool:
        with self.tx() as c:
            return c.execute("DELETE FROM watches WHERE id = ?", (watch_id,)).rowcount == 1

    def list_watches(self) -> list[dict]:
        return self._q("SELECT * FROM watches ORDER BY id")

    def due_watches(self, limit: int = 50) -> list[dict]:
        return self._q(
            "SELECT * FROM watches WHERE next_visit_at <= ? ORDER BY next_visit_at LIMIT ?",
            (now_iso(), limit),
        )

    def watch_visited(self, watch_id: int, *, status: str, error: str | None,
                      next_visit_at: str, listing_id: int | None = None) -> None:
        """Record a re-visit; failures count up so the caller can back off."""
        with self.tx() as c:
            c.execute(
                "UPDATE watches SET last_visit_at = ?, last_status = ?, last_error = ?, "
                "next_visit_at = ?, listing_id = COALESCE(?, listing_id), "
                "failures = CASE WHEN ? IS NULL THEN 0 ELSE failures + 1 END WHERE id = ?",
                (now_iso(), status, error, next_visit_at, listing_id, error, watch_id),
            )
