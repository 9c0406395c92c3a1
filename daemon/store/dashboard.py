"""SQL for the dashboard: filtered alert pages, verdict inputs, catalog pages and edits, the queue.

Every list is paged (offset/limit) and counted with the same WHERE, so a page answers in
milliseconds with 10,000 alerts and 5,000 photos (bench/dashboard.py); the indexes are in
migration 4.
"""

from __future__ import annotations

from daemon.store.alerts import _ALERT_SELECT, ALERT_ACTIONS, AlertWithdrawnError
from daemon.store.base import StoreBase
from daemon.timeutil import now_iso

ALERT_FILTERS = ("state", "kind", "store", "marketplace", "channel")


class DashboardStore(StoreBase):
    """Queries behind the dashboard's pages."""

    # ---- alerts -------------------------------------------------------------------------

    def _has_column(self, table: str, column: str) -> bool:
        return any(r["name"] == column for r in self._q(f"PRAGMA table_info({table})"))

    def _alert_where(self, filters: dict) -> tuple[str, list]:
        """WHERE over `alerts a` alone (listing filters as id subqueries), so paging walks
        the alerts indexes and never joins rows it will skip."""
        where, params = ["1 = 1"], []
        if filters.get("state") and filters["state"] != "all":
            where.append("a.state = ?")
            params.append(filters["state"])
        if filters.get("kind"):
            where.append("a.kind = ?")
            params.append(filters["kind"])
        if filters.get("marketplace"):
            where.append("a.listing_id IN (SELECT id FROM listings WHERE marketplace = ?)")
            params.append(filters["marketplace"])
        if filters.get("store"):
            where.append("a.listing_id IN (SELECT l.id FROM listings l JOIN stores s "
                         "ON s.id = l.store_id WHERE s.store_key = ?)")
            params.append(filters["store"])
        if filters.get("channel") and self._has_column("alerts", "channel"):
            where.append("a.channel = ?")
            params.append(filters["channel"])
        return " AND ".join(where), params

    def search_alerts(self, filters: dict, offset: int = 0, limit: int = 50) -> tuple[list, int]:
        """One page of alerts matching the filters, newest first, and the total count."""
        where, params = self._alert_where(filters)
        conn = self._conn()
        ids = [r[0] for r in conn.execute(
            f"SELECT a.id FROM alerts a WHERE {where} ORDER BY a.id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset])]
        total = conn.execute(f"SELECT COUNT(*) FROM alerts a WHERE {where}", params).fetchone()[0]
        if not ids:
            return [], total
        marks = ", ".join("?" * len(ids))
        rows = self._q(f"{_ALERT_SELECT} WHERE a.id IN ({marks}) ORDER BY a.id DESC", ids)
        return rows, total

    def alert_facets(self) -> dict:
        """The values the filters can take: kinds, stores, marketplaces, channels, counts."""
        kinds = {r["kind"]: r["n"] for r in self._q(
            "SELECT kind, COUNT(*) AS n FROM alerts GROUP BY kind")}
        stores = self._q(
            "SELECT s.store_key, MAX(s.name) AS name, l.marketplace, COUNT(*) AS n FROM alerts a "
            "JOIN listings l ON l.id = a.listing_id JOIN stores s ON s.id = l.store_id "
            "GROUP BY s.store_key, l.marketplace ORDER BY n DESC LIMIT 200")
        channels: list = []
        if self._has_column("alerts", "channel"):
            channels = [r["channel"] for r in self._q(
                "SELECT DISTINCT channel FROM alerts WHERE channel IS NOT NULL")]
        return {"kinds": kinds, "stores": stores,
                "marketplaces": sorted({s["marketplace"] for s in stores}),
                "channels": channels}

    def image_thumbs(self, image_ids: list[int]) -> dict[int, bytes]:
        """Stored thumbnails of competitor images, by id (one query for a page of alerts)."""
        if not image_ids:
            return {}
        marks = ", ".join("?" * len(image_ids))
        return {r["id"]: r["thumb"] for r in self._q(
            f"SELECT id, thumb FROM images WHERE id IN ({marks}) AND thumb IS NOT NULL",
            image_ids)}

    def bulk_set_alert_state(self, alert_ids: list[int], action: str
                             ) -> tuple[list[int], list[int]]:
        """Apply confirm / dismiss / not_mine to several alerts: (ids changed, ids refused:
        withdrawn alerts to confirm)."""
        if action not in ALERT_ACTIONS:
            raise ValueError(action)
        changed, refused = [], []
        for i in alert_ids:
            try:
                if self.set_alert_state(i, action):
                    changed.append(i)
            except AlertWithdrawnError:
                refused.append(i)
        return changed, refused

    def verdict_rows(self, after_id: int = 0, limit: int = 500) -> list[dict]:
        """Per alert, what the verdict rules weigh: the photo's times and the image's headers."""
        return self._q(
            "SELECT a.id, a.kind, a.image_id, a.photo_id, p.taken_at, p.registered_at, "
            "i.last_modified, c.last_modified AS capture_last_modified "
            "FROM alerts a JOIN photos p ON p.id = a.photo_id JOIN images i ON i.id = a.image_id "
            "LEFT JOIN captures c ON c.image_id = a.image_id WHERE a.id > ? ORDER BY a.id "
            "LIMIT ?", (after_id, limit))

    def shoot_capture_times(self, photo_id: int) -> list[str]:
        """EXIF capture times of the other photos of a photo's shoot (they back its time)."""
        return [r["taken_at"] for r in self._q(
            "SELECT taken_at FROM photos WHERE shoot_id = (SELECT shoot_id FROM photos "
            "WHERE id = ?) AND id != ? AND taken_at IS NOT NULL", (photo_id, photo_id))]

    def set_alert_verdict(self, alert_id: int, kind: str, own_time: str | None,
                          verdict_json: str) -> None:
        with self.tx() as c:
            c.execute("UPDATE alerts SET kind = ?, own_time = COALESCE(?, own_time), verdict = ? "
                      "WHERE id = ?", (kind, own_time, verdict_json, alert_id))

    def set_alert_verdicts(self, verdicts: list[tuple[str, str | None, str, int]]) -> None:
        """Many (kind, own_time, verdict_json, alert_id) in one transaction (re-classifying)."""
        with self.tx() as c:
            c.executemany("UPDATE alerts SET kind = ?, own_time = COALESCE(?, own_time), "
                          "verdict = ? WHERE id = ?", verdicts)

    def alert_verdict_json(self, alert_id: int) -> str | None:
        row = self._one("SELECT verdict FROM alerts WHERE id = ?", (alert_id,))
        return row["verdict"] if row else None

    # ---- catalog ------------------------------------------------------------------------

    def catalog_page(self, shoot: str | None = None, query: str | None = None,
                     offset: int = 0, limit: int = 50) -> tuple[list, int]:
        """Photos by shoot then id, with how many alerts each has and the stores showing it."""
        where, params = ["1 = 1"], []
        if shoot == "":
            where.append("p.shoot_id IS NULL")
        elif shoot:
            where.append("s.name = ?")
            params.append(shoot)
        if query:
            where.append("(p.file_name LIKE ? OR p.sha256 LIKE ?)")
            params += [f"%{query}%", f"{query.lower()}%"]
        sql_where = " AND ".join(where)
        rows = self._q(
            "SELECT p.id, p.sha256, p.path, p.file_name, p.size_bytes, p.width, p.height, "
            "p.taken_at, p.camera_make, p.camera_model, p.has_gps, p.registered_at, "
            "s.name AS shoot FROM photos p LEFT JOIN shoots s ON s.id = p.shoot_id "
            f"WHERE {sql_where} ORDER BY s.name IS NULL, s.name, p.id LIMIT ? OFFSET ?",
            [*params, limit, offset])
        total = self._conn().execute(
            "SELECT COUNT(*) FROM photos p LEFT JOIN shoots s ON s.id = p.shoot_id "
            f"WHERE {sql_where}", params).fetchone()[0]
        if rows:
            marks = ", ".join("?" * len(rows))
            found: dict[int, list] = {}
            for r in self._q(
                "SELECT a.photo_id, a.id AS alert_id, a.kind, l.marketplace, st.store_key, "
                "st.name AS store_name, COALESCE(l.canonical_url, l.url) AS listing_url "
                "FROM alerts a LEFT JOIN listings l ON l.id = a.listing_id "
                "LEFT JOIN stores st ON st.id = l.store_id "
                f"WHERE a.photo_id IN ({marks}) AND a.state IN ('new', 'confirmed') ORDER BY a.id",
                [r["id"] for r in rows]):
                found.setdefault(r.pop("photo_id"), []).append(r)
            for row in rows:
                row["found"] = found.get(row["id"], [])[:20]
        return rows, total

    def shoot_names(self) -> list[dict]:
        return self._q("SELECT s.name, COUNT(p.id) AS photos FROM shoots s "
                       "LEFT JOIN photos p ON p.shoot_id = s.id GROUP BY s.id ORDER BY s.name")

    def set_photos_shoot(self, photo_ids: list[int], shoot: str | None) -> int:
        """Move photos to a shoot (created when new); None or '' takes them out of any shoot."""
        now = now_iso()
        with self.tx() as c:
            shoot_id = None
            if shoot:
                c.execute("INSERT OR IGNORE INTO shoots(name, created_at) VALUES (?, ?)",
                          (shoot, now))
                shoot_id = c.execute("SELECT id FROM shoots WHERE name = ?",
                                     (shoot,)).fetchone()[0]
            marks = ", ".join("?" * len(photo_ids))
            return c.execute(f"UPDATE photos SET shoot_id = ? WHERE id IN ({marks})",
                             [shoot_id, *photo_ids]).rowcount

    def remove_photos(self, photo_ids: list[int]) -> list[int]:
        """Take photos out of the catalog (their alerts and matches go too); files stay."""
        marks = ", ".join("?" * len(photo_ids))
        with self.tx() as c:
            found = [r[0] for r in c.execute(f"SELECT id FROM photos WHERE id IN ({marks})",
                                             photo_ids)]
            if found:
                c.execute(f"DELETE FROM photos WHERE id IN ({marks})", photo_ids)
            return found

    # ---- monitoring ---------------------------------------------------------------------

    def watch_due_now(self, watch_id: int) -> bool:
        """Make a watch due at once ("Run now"); False when there is no such watch."""
        with self.tx() as c:
            return c.execute("UPDATE watches SET next_visit_at = ? WHERE id = ?",
                             (now_iso(), watch_id)).rowcount == 1

    def queue_summary(self, limit: int = 20) -> dict:
        """The image queue by status, the next due time, and the latest failures."""
        due = self._one("SELECT MIN(next_attempt_at) AS t FROM images WHERE status = 'queued'")
        return {
            "counts": self.image_counts(),
            "next_due": due["t"] if due else None,
            "failures": self._q(
                "SELECT id, url, error_code, error, attempts, last_seen FROM images "
                "WHERE status = 'failed' OR error IS NOT NULL ORDER BY id DESC LIMIT ?",
                (limit,)),
        }
