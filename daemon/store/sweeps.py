"""SQL for discovery: listing channels, sweeps and tasks, the request log, pauses, coverage."""

from __future__ import annotations

from daemon.store.base import StoreBase
from daemon.timeutil import now_iso

CHANNELS = ("browsing", "results", "image_search", "keyword_sweep", "store_sweep", "watch")
SWEEP_KINDS = ("image", "keyword", "store")
KIND_CHANNEL = {"image": "image_search", "keyword": "keyword_sweep", "store": "store_sweep"}

_TASK_COLUMNS = ("id, sweep_id, kind, marketplace, photo_id, keyword, page, store_key, url, "
                 "state, due_at, handed_at, finished_at, attempts, blocks, pages, "
                 "listings_total, listings_new, error, created_at")


class SweepStore(StoreBase):
    """Which channel found each listing, and the sweep queue the extension works through."""

    # ---- channels -----------------------------------------------------------------------

    def note_channel(self, listing_id: int, channel: str, is_new: bool) -> None:
        """Record that `channel` saw a listing; a new listing takes it as its finding channel."""
        now = now_iso()
        with self.tx() as c:
            if is_new:
                c.execute("UPDATE listings SET channel = ? WHERE id = ?", (channel, listing_id))
            c.execute(
                "INSERT INTO listing_channels(listing_id, channel, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(listing_id, channel) DO UPDATE SET "
                "last_seen = excluded.last_seen",
                (listing_id, channel, now, now),
            )
            # images this page brought first are found by this channel
            c.execute(
                "UPDATE images SET channel = ? WHERE channel IS NULL AND id IN "
                "(SELECT image_id FROM listing_images WHERE listing_id = ?)",
                (channel, listing_id),
            )

    def listing_channel(self, listing_id: int | None) -> str | None:
        """The channel that first found a listing."""
        if listing_id is None:
            return None
        row = self._one("SELECT channel FROM listings WHERE id = ?", (listing_id,))
        return row["channel"] if row else None

    def set_alert_channel(self, alert_id: int, channel: str | None) -> None:
        with self.tx() as c:
            c.execute("UPDATE alerts SET channel = ? WHERE id = ?", (channel, alert_id))

    # ---- sweeps and tasks ---------------------------------------------------------------

    def create_sweep(self, kind: str, origin: str, tasks: list[dict]) -> int:
        """One sweep and its tasks (each a dict of task columns), due now unless `due_at`."""
        now = now_iso()
        with self.tx() as c:
            sweep_id = c.execute(
                "INSERT INTO sweeps(kind, origin, created_at) VALUES (?, ?, ?)",
                (kind, origin, now),
            ).lastrowid
            c.executemany(
                "INSERT INTO sweep_tasks(sweep_id, kind, photo_id, keyword, page, store_key, "
                "url, due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(sweep_id, kind, t.get("photo_id"), t.get("keyword"), t.get("page"),
                  t.get("store_key"), t.get("url"), t.get("due_at") or now, now)
                 for t in tasks],
            )
        return sweep_id

    def get_task(self, task_id: int) -> dict | None:
        return self._one(f"SELECT {_TASK_COLUMNS} FROM sweep_tasks WHERE id = ?", (task_id,))

    def due_tasks(self, kinds: tuple[str, ...], stale_before: str, limit: int = 1) -> list[dict]:
        """Tasks of `kinds` that may be handed out now: due, or handed out and never reported."""
        if not kinds:
            return []
        now = now_iso()
        marks = ", ".join("?" * len(kinds))
        return self._q(
            f"SELECT {_TASK_COLUMNS} FROM sweep_tasks WHERE kind IN ({marks}) AND ("
            "(state != 'running' AND due_at IS NOT NULL AND due_at <= ?) OR "
            "(state = 'running' AND handed_at <= ?)) ORDER BY due_at, id LIMIT ?",
            (*kinds, now, stale_before, limit),
        )

    def pending_kinds(self) -> dict[str, int]:
        """How many unfinished tasks each kind has (due now or later)."""
        rows = self._q("SELECT kind, COUNT(*) AS n FROM sweep_tasks WHERE due_at IS NOT NULL "
                       "OR state = 'running' GROUP BY kind")
        return {r["kind"]: r["n"] for r in rows}

    def pending_task_keys(self, kind: str) -> set[tuple]:
        """What unfinished tasks of a kind already cover: (photo_id,), (keyword, page) or
        (store_key,), so asking for a sweep twice does not queue the same work twice."""
        rows = self._q("SELECT photo_id, keyword, page, store_key FROM sweep_tasks "
                       "WHERE kind = ? AND (due_at IS NOT NULL OR state = 'running')", (kind,))
        pick = {"image": lambda r: (r["photo_id"],), "keyword": lambda r: (r["keyword"], r["page"]),
                "store": lambda r: (r["store_key"],)}[kind]
        return {pick(r) for r in rows}

    def hand_out_task(self, task_id: int, kind: str) -> None:
        """Mark a task as handed to the extension and log the request against the budget."""
        now = now_iso()
        with self.tx() as c:
            c.execute("UPDATE sweep_tasks SET state = 'running', handed_at = ?, "
                      "attempts = attempts + 1 WHERE id = ?", (now, task_id))
            c.execute("INSERT INTO sweep_requests(task_id, kind, at) VALUES (?, ?, ?)",
                      (task_id, kind, now))

    def finish_task(self, task_id: int, *, state: str, pages: int, error: str | None,
                    due_at: str | None, extra_requests: int = 0) -> None:
        """Record an outcome; `due_at` set means the task is tried again then."""
        now = now_iso()
        with self.tx() as c:
            c.execute(
                "UPDATE sweep_tasks SET state = ?, pages = pages + ?, error = ?, due_at = ?, "
                "finished_at = ?, blocks = blocks + (CASE WHEN ? = 'blocked' THEN 1 ELSE 0 END) "
                "WHERE id = ?",
                (state, pages, error, due_at, now, state, task_id),
            )
            task = c.execute("SELECT kind FROM sweep_tasks WHERE id = ?", (task_id,)).fetchone()
            c.executemany("INSERT INTO sweep_requests(task_id, kind, at) VALUES (?, ?, ?)",
                          [(task_id, task["kind"], now)] * max(0, extra_requests))

    def add_task_listings(self, task_id: int, total: int, new: int) -> bool:
        """Count the listings a pushed page brought to a task; False when there is no such task."""
        with self.tx() as c:
            return c.execute(
                "UPDATE sweep_tasks SET listings_total = listings_total + ?, "
                "listings_new = listings_new + ? WHERE id = ?", (total, new, task_id),
            ).rowcount == 1

    def list_sweeps(self, limit: int = 50) -> list[dict]:
        """The newest sweeps, each with its tasks and a count per task state."""
        sweeps = self._q("SELECT * FROM sweeps ORDER BY id DESC LIMIT ?", (limit,))
        for sweep in sweeps:
            sweep["tasks"] = self._q(
                f"SELECT {_TASK_COLUMNS} FROM sweep_tasks WHERE sweep_id = ? ORDER BY id",
                (sweep["id"],))
            states: dict[str, int] = {}
            for task in sweep["tasks"]:
                states[task["state"]] = states.get(task["state"], 0) + 1
            sweep["states"] = states
        return sweeps

    # ---- what is due by schedule --------------------------------------------------------

    def photos_due_for_image_sweep(self, older_than: str, limit: int) -> list[int]:
        """Catalog photos never image-searched, or last searched before `older_than`."""
        rows = self._q(
            "SELECT p.id FROM photos p WHERE NOT EXISTS (SELECT 1 FROM sweep_tasks t "
            "WHERE t.kind = 'image' AND t.photo_id = p.id AND (t.due_at IS NOT NULL "
            "OR t.state = 'running' OR t.created_at > ?)) ORDER BY p.id LIMIT ?",
            (older_than, limit),
        )
        return [r["id"] for r in rows]

    def keywords_swept_since(self, since: str) -> set[str]:
        rows = self._q("SELECT DISTINCT keyword FROM sweep_tasks WHERE kind = 'keyword' AND "
                       "(created_at > ? OR due_at IS NOT NULL OR state = 'running')", (since,))
        return {r["keyword"] for r in rows}

    def copied_stores_not_swept(self, limit: int = 20) -> list[str]:
        """AliExpress stores with a `copied` alert whose product list was never swept."""
        rows = self._q(
            "SELECT DISTINCT s.store_key FROM alerts a JOIN listings l ON l.id = a.listing_id "
            "JOIN stores s ON s.id = l.store_id WHERE a.kind = 'copied' AND "
            "s.marketplace = 'aliexpress' AND s.store_key NOT IN "
            "(SELECT store_key FROM sweep_tasks WHERE kind = 'store' AND store_key IS NOT NULL) "
            "ORDER BY s.store_key LIMIT ?", (limit,))
        return [r["store_key"] for r in rows]

    # ---- the politeness budget and pauses -----------------------------------------------

    def sweep_requests_since(self, since: str) -> int:
        return self._conn().execute(
            "SELECT COUNT(*) FROM sweep_requests WHERE at >= ?", (since,)).fetchone()[0]

    def last_sweep_request_at(self) -> str | None:
        row = self._one("SELECT MAX(at) AS at FROM sweep_requests")
        return row["at"] if row else None

    def sweep_pauses(self) -> dict[str, dict]:
        return {r["kind"]: r for r in self._q("SELECT * FROM sweep_pauses")}

    def pause_sweeps(self, kind: str, until: str, reason: str) -> int:
        """Pause one kind of sweep until `until`; returns how many blocks in a row so far."""
        with self.tx() as c:
            c.execute(
                "INSERT INTO sweep_pauses(kind, until, blocks, reason, created_at) "
                "VALUES (?, ?, 1, ?, ?) ON CONFLICT(kind) DO UPDATE SET until = excluded.until, "
                "blocks = blocks + 1, reason = excluded.reason",
                (kind, until, reason, now_iso()),
            )
            return c.execute("SELECT blocks FROM sweep_pauses WHERE kind = ?",
                             (kind,)).fetchone()[0]

    def sweep_blocks_in_row(self, kind: str) -> int:
        row = self._one("SELECT blocks FROM sweep_pauses WHERE kind = ?", (kind,))
        return row["blocks"] if row else 0

    def clear_sweep_pauses(self, kinds: tuple[str, ...] = SWEEP_KINDS) -> int:
        """Lift block pauses (a page the seller opened went through); returns how many."""
        if not self._one("SELECT 1 AS x FROM sweep_pauses"):
            return 0  # the common case: no write transaction for every pushed page
        marks = ", ".join("?" * len(kinds))
        with self.tx() as c:
            count = c.execute(f"DELETE FROM sweep_pauses WHERE kind IN ({marks})",
                              kinds).rowcount
            # tasks held back by the pause are due again now
            c.execute(f"UPDATE sweep_tasks SET due_at = ? WHERE state = 'blocked' AND "
                      f"due_at IS NOT NULL AND kind IN ({marks})", (now_iso(), *kinds))
            return count

    # ---- coverage -----------------------------------------------------------------------

    def coverage(self, today: str) -> dict[str, dict]:
        """Per channel: listings seen and images first found, since `today` and in total,
        and sweep outcomes."""
        out = {ch: {"listings_today": 0, "listings_total": 0, "images_today": 0,
                    "images_total": 0, "sweeps_done": 0, "sweeps_blocked": 0, "next_due": None}
               for ch in CHANNELS}

        def put(rows: list[dict], field: str) -> None:
            for row in rows:
                if row["channel"] in out:
                    out[row["channel"]][field] = row["n"]

        put(self._q("SELECT channel, COUNT(*) AS n FROM listing_channels GROUP BY channel"),
            "listings_total")
        for channel in CHANNELS:
            out[channel]["listings_today"] = self._conn().execute(
                "SELECT COUNT(*) FROM listing_channels WHERE channel = ? AND first_seen >= ?",
                (channel, today)).fetchone()[0]
        # images: counted for the channel that found them first (one grouped count)
        put(self._q("SELECT channel, COUNT(*) AS n FROM images WHERE channel IS NOT NULL "
                    "GROUP BY channel"), "images_total")
        for channel in CHANNELS:  # an index range each, not a second scan
            out[channel]["images_today"] = self._conn().execute(
                "SELECT COUNT(*) FROM images WHERE channel = ? AND first_seen >= ?",
                (channel, today)).fetchone()[0]
        for row in self._q(
                "SELECT kind, SUM(state = 'done') AS done, SUM(blocks) AS blocked, "
                "MIN(CASE WHEN state != 'running' THEN due_at END) AS next_due "
                "FROM sweep_tasks GROUP BY kind"):
            entry = out[KIND_CHANNEL[row["kind"]]]
            entry.update(sweeps_done=row["done"] or 0, sweeps_blocked=row["blocked"] or 0,
                         next_due=row["next_due"])
        watch = self._one("SELECT MIN(next_visit_at) AS next_due, "
                          "SUM(last_status = 'parsed') AS done, "
                          "SUM(last_status = 'blocked') AS blocked FROM watches")
        if watch:
            out["watch"].update(next_due=watch["next_due"], sweeps_done=watch["done"] or 0,
                                sweeps_blocked=watch["blocked"] or 0)
        return out
