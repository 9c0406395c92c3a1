"""SQL for what matching found: matches, alerts, their notification state, and suppressions."""

from __future__ import annotations

import json

from daemon.store.base import StoreBase
from daemon.timeutil import now_iso

ALERT_ACTIONS = {"confirm": "confirmed", "dismiss": "dismissed", "not_mine": "dismissed"}
# `withdrawn`: a newer matcher no longer supports the alert (monitor.alerts.review_alerts).
ALERT_STATES = ("new", "confirmed", "dismissed", "withdrawn")


class AlertWithdrawnError(ValueError):
    """A withdrawn alert was to be confirmed: what PicGuard took back is not confirmed."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(
            f"alert {alert_id} was withdrawn: PicGuard's updated matcher no longer finds the "
            "other store's image a copy of your photo, so it cannot be confirmed; dismiss it, "
            "or compare the two files yourself with `picguard compare`")

def _replace_match(c, match: tuple[str, float, dict], where: str, args: tuple) -> None:
    """Overwrite a recorded match with a re-check's (kind, score, details)."""
    kind, score, details = match
    c.execute(f"UPDATE matches SET kind = ?, score = ?, details = ? WHERE {where}",
              (kind, float(score), json.dumps(details, default=str), *args))


_ALERT_SELECT = """
SELECT a.id, a.kind, a.state, a.created_at, a.updated_at, a.own_time, a.other_first_seen,
       a.notify_state, a.notified_at, a.notify_error, a.listing_id, a.verdict, a.channel,
       a.withdrawn_reason,
       m.kind AS match_kind, m.score, m.details,
       p.id AS photo_id, p.file_name, p.path, p.sha256 AS photo_sha256, p.taken_at,
       p.registered_at, sh.name AS shoot,
       i.id AS image_id, i.url AS image_url, i.image_key, i.first_seen AS image_first_seen,
       l.url AS listing_url, l.canonical_url, l.title, l.marketplace,
       s.store_key, s.name AS store_name
FROM alerts a
JOIN matches m ON m.id = a.match_id
JOIN photos p ON p.id = a.photo_id
LEFT JOIN shoots sh ON sh.id = p.shoot_id
JOIN images i ON i.id = a.image_id
LEFT JOIN listings l ON l.id = a.listing_id
LEFT JOIN stores s ON s.id = l.store_id
"""


class AlertStore(StoreBase):
    """Matches between the seller's photos and competitor images, and the alerts they raise."""

    def record_match(self, photo_id: int, image_id: int, kind: str, score: float,
                     details: dict) -> int:
        """Upsert a match (keeping the stronger verdict) and return its id."""
        now = now_iso()
        with self.tx() as c:
            c.execute(
                "INSERT INTO matches(photo_id, image_id, kind, score, details, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(photo_id, image_id) DO UPDATE SET "
                "kind = CASE WHEN excluded.score > score THEN excluded.kind ELSE kind END, "
                "details = CASE WHEN excluded.score > score THEN excluded.details "
                "ELSE details END, score = MAX(score, excluded.score)",
                (photo_id, image_id, kind, float(score), json.dumps(details, default=str), now),
            )
            return c.execute(
                "SELECT id FROM matches WHERE photo_id = ? AND image_id = ?", (photo_id, image_id)
            ).fetchone()[0]

    def is_suppressed(self, photo_id: int, image_key: str) -> bool:
        return self._one(
            "SELECT 1 AS x FROM suppressions WHERE photo_id = ? AND image_key = ?",
            (photo_id, image_key),
        ) is not None

    def create_alert(self, *, match_id: int, photo_id: int, image_id: int,
                     listing_id: int | None, kind: str, own_time: str | None,
                     other_first_seen: str, notify: bool) -> tuple[int, bool]:
        """One alert per (own photo, other image); (id, False) when it already exists."""
        now = now_iso()
        with self.tx() as c:
            row = c.execute(
                "SELECT id FROM alerts WHERE photo_id = ? AND image_id = ?", (photo_id, image_id)
            ).fetchone()
            if row:
                return row["id"], False
            cur = c.execute(
                "INSERT INTO alerts(match_id, photo_id, image_id, listing_id, kind, own_time, "
                "other_first_seen, created_at, updated_at, notify_state, notify_next_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (match_id, photo_id, image_id, listing_id, kind, own_time, other_first_seen,
                 now, now, "pending" if notify else "none", now if notify else None),
            )
            return cur.lastrowid, True

    def list_alerts(self, state: str = "new", since: int = 0, limit: int = 200,
                    newest_first: bool = False) -> list[dict]:
        """Alerts joined with photo, image, listing and store; `state` 'all' for every one."""
        where, params = "a.id > ?", [since]
        if state != "all":
            where += " AND a.state = ?"
            params.append(state)
        order = "DESC" if newest_first else "ASC"
        return self._q(f"{_ALERT_SELECT} WHERE {where} ORDER BY a.id {order} LIMIT ?",
                       [*params, limit])

    def get_alert(self, alert_id: int) -> dict | None:
        rows = self._q(f"{_ALERT_SELECT} WHERE a.id = ?", (alert_id,))
        return rows[0] if rows else None

    def alerts_for_images(self, image_ids: list[int]) -> list[dict]:
        """Open alerts (new or confirmed) for these competitor images: on-page verdicts, and
        the alerts a re-match under a newer matcher reviews."""
        if not image_ids:
            return []
        marks = ", ".join("?" * len(image_ids))
        return self._q(
            f"SELECT id, image_id, photo_id, kind, state FROM alerts "
            f"WHERE image_id IN ({marks}) AND state IN ('new', 'confirmed') ORDER BY id",
            image_ids,
        )

    def set_alert_state(self, alert_id: int, action: str) -> bool:
        """confirm / dismiss / not_mine (dismiss and suppress the pair for good); False when
        there is no such alert, AlertWithdrawnError to confirm a withdrawn one."""
        state = ALERT_ACTIONS[action]
        now = now_iso()
        with self.tx() as c:
            row = c.execute(
                "SELECT a.photo_id, a.state, i.image_key FROM alerts a "
                "JOIN images i ON i.id = a.image_id WHERE a.id = ?",
                (alert_id,),
            ).fetchone()
            if row is None:
                return False
            if action == "confirm" and row["state"] == "withdrawn":
                raise AlertWithdrawnError(alert_id)
            c.execute(
                "UPDATE alerts SET state = ?, updated_at = ? WHERE id = ?", (state, now, alert_id)
            )
            if action == "not_mine":
                c.execute(
                    "INSERT OR IGNORE INTO suppressions(photo_id, image_key, created_at) "
                    "VALUES (?, ?, ?)",
                    (row["photo_id"], row["image_key"], now),
                )
            return True

    def withdraw_alert(self, alert_id: int, reason: str,
                       match: tuple[str, float, dict] | None = None) -> bool:
        """Withdraw an open alert the current matcher no longer supports, with the reason
        the seller sees; a pending notification is cancelled. `match` (kind, score,
        details) replaces the recorded match when the pair still matches, more weakly."""
        now = now_iso()
        with self.tx() as c:
            row = c.execute("SELECT match_id FROM alerts WHERE id = ? AND state IN "
                            "('new', 'confirmed')", (alert_id,)).fetchone()
            if row is None:
                return False
            c.execute(
                "UPDATE alerts SET state = 'withdrawn', withdrawn_reason = ?, updated_at = ?, "
                "notify_state = CASE WHEN notify_state IN ('pending', 'failed') THEN 'none' "
                "ELSE notify_state END, notify_next_at = NULL WHERE id = ?",
                (reason, now, alert_id))
            if match is not None:
                _replace_match(c, match, "id = ?", (row["match_id"],))
            return True

    def set_match_result(self, photo_id: int, image_id: int, kind: str, score: float,
                         details: dict) -> None:
        """Replace a pair's recorded match with a re-check's (record_match keeps the
        strongest: after a matcher upgrade the current rule's finding must win)."""
        with self.tx() as c:
            _replace_match(c, (kind, score, details), "photo_id = ? AND image_id = ?",
                           (photo_id, image_id))

    def alert_counts(self) -> dict[str, int]:
        counts = {"new": 0, "confirmed": 0, "dismissed": 0, "withdrawn": 0}
        for row in self._q("SELECT state, COUNT(*) AS n FROM alerts GROUP BY state"):
            counts[row["state"]] = row["n"]
        return counts

    # ---- notification delivery ----------------------------------------------------------

    def alerts_to_notify(self, limit: int = 50) -> list[dict]:
        """Alerts whose notification is pending and due."""
        return self._q(
            f"{_ALERT_SELECT} WHERE a.notify_state = 'pending' AND a.notify_next_at <= ? "
            "ORDER BY a.id LIMIT ?",
            (now_iso(), limit),
        )

    def alert_notified(self, alert_id: int) -> None:
        with self.tx() as c:
            c.execute(
                "UPDATE alerts SET notify_state = 'sent', notified_at = ?, notify_error = NULL, "
                "notify_attempts = notify_attempts + 1 WHERE id = ?",
                (now_iso(), alert_id),
            )

    def alert_notify_failed(self, alert_id: int, error: str, retry_at: str | None) -> None:
        """A failed send: retried at `retry_at`, or recorded as failed for good when None."""
        with self.tx() as c:
            c.execute(
                "UPDATE alerts SET notify_attempts = notify_attempts + 1, notify_error = ?, "
                "notify_state = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END, "
                "notify_next_at = ? WHERE id = ?",
                (error, retry_at, retry_at, alert_id),
            )

    def notify_attempts(self, alert_id: int) -> int:
        row = self._one("SELECT notify_attempts FROM alerts WHERE id = ?", (alert_id,))
        return row["notify_attempts"] if row else 0
