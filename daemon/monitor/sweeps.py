"""Discovery sweeps: the queue the extension works through, politely, in the seller's browser.

The daemon never calls the marketplace for a sweep: it decides what is due (each catalog
photo's image search every N days when the seller consented, the first pages of each
keyword, the whole product list of a store with a `copied` alert) and hands one task at a
time to the extension, within a request budget. A block (captcha) pauses that kind of
sweep with backoff until the seller opens a marketplace page once. All state is in SQLite.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

from daemon.config import Settings
from daemon.monitor.discovery_settings import SweepError, clean_keywords, discovery_settings
from daemon.store import Store
from daemon.store.sweeps import CHANNELS, KIND_CHANNEL, SWEEP_KINDS
from daemon.timeutil import backoff_seconds, in_seconds, iso, now_iso, parse_iso, utcnow

# A task handed out and not reported back within this time is handed out again.
TASK_LEASE_S = 600
# Backoff after a block: 15 min, doubled per block in a row, at most a day.
BLOCK_BACKOFF_S = 15 * 60
BLOCK_BACKOFF_CAP_S = 24 * 3600
FAILED_RETRY_S = 600
MAX_ATTEMPTS = 3
KEYWORD_SWEEP_EVERY_DAYS = 1
# Image search upload limits (what AliExpress's upload accepts).
IMAGE_MAX_SIDE = 1200
IMAGE_MAX_BYTES = 400 * 1024
AE_HOME = "https://www.aliexpress.com/"


def _task_key(kind: str, task: dict) -> tuple:
    """The identity store.pending_task_keys gives an unfinished task of `kind`."""
    if kind == "image":
        return (task["photo_id"],)
    if kind == "keyword":
        return (task["keyword"], task["page"])
    return (task["store_key"],)


# ---- URLs the extension opens ---------------------------------------------------------------


def keyword_url(keyword: str, page: int) -> str:
    """The AliExpress search results page for a keyword (any language)."""
    slug = re.sub(r"[\s/?#&%+]+", "-", keyword.strip()).strip("-") or "search"
    url = f"{AE_HOME}w/wholesale-{quote(slug)}.html?SearchText={quote_plus(keyword)}"
    return url + (f"&page={page}" if page > 1 else "")


def store_list_url(store_id: str) -> str:
    return f"{AE_HOME}store/{store_id}/pages/all-items.html"


# ---- blocks ---------------------------------------------------------------------------------


def record_block(store: Store, settings: Settings, kind: str, reason: str | None) -> str:
    """Pause one kind of sweep after a block, backing off per block in a row; returns until."""
    blocks = store.sweep_blocks_in_row(kind) + 1
    until = in_seconds(backoff_seconds(blocks, base=BLOCK_BACKOFF_S, cap=BLOCK_BACKOFF_CAP_S))
    store.pause_sweeps(kind, until, reason or "the marketplace showed a captcha")
    return until


def _local_midnight() -> datetime:
    """Start of the seller's day (local time), in UTC: "today" for budgets and coverage."""
    local = datetime.now().astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


class Sweeper:
    """The sweep queue over one store: schedule, hand out, record, report."""

    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings

    # ---- queueing -----------------------------------------------------------------------

    def start(self, request: object, origin: str = "manual") -> dict:
        """Queue sweep tasks now ({"kind": "image"|"keyword"|"store", ...}); SweepError 400/404."""
        if not isinstance(request, dict) or request.get("kind") not in SWEEP_KINDS:
            raise SweepError(400, "bad_kind", "kind must be image, keyword or store")
        kind = request["kind"]
        cfg = discovery_settings(self.settings)
        if kind == "image":
            tasks = self._image_tasks(request.get("photo_ids"))
        elif kind == "keyword":
            words = request.get("keywords")
            words = cfg["keywords"] if words is None else clean_keywords(words)
            if not words:
                raise SweepError(400, "no_keywords", (
                    "no keywords to sweep: send \"keywords\" or set them with "
                    "`picguard sweep keywords` / POST /api/v1/settings/discovery"))
            tasks = [{"keyword": w, "page": p, "url": keyword_url(w, p)}
                     for w in words for p in range(1, cfg["pages_per_keyword"] + 1)]
        else:
            store_id = request.get("store_id")
            if isinstance(store_id, int) and not isinstance(store_id, bool):
                store_id = str(store_id)
            if not isinstance(store_id, str) or not re.fullmatch(r"\d{3,20}", store_id.strip()):
                raise SweepError(400, "bad_field",
                                 "store_id must be an AliExpress store id (digits)")
            store_id = store_id.strip()
            tasks = [{"store_key": store_id, "url": store_list_url(store_id)}]
        # Work already queued (by the schedule or an earlier click) is not queued twice.
        pending = self.store.pending_task_keys(kind)
        fresh = [t for t in tasks if _task_key(kind, t) not in pending]
        sweep_id = self.store.create_sweep(kind, origin, fresh) if fresh else None
        answer = {"sweep_id": sweep_id, "kind": kind, "tasks": len(fresh),
                  "already_queued": len(tasks) - len(fresh)}
        if kind == "image" and not cfg["image_search_consent"]:
            answer["paused"] = self._consent_pause()
        return answer

    def _image_tasks(self, photo_ids: object) -> list[dict]:
        if photo_ids is None:
            ids = [row["id"] for row in self.store.list_photos()]
        elif isinstance(photo_ids, list) and all(
                isinstance(i, int) and not isinstance(i, bool) for i in photo_ids):
            ids = list(dict.fromkeys(photo_ids))
            missing = [i for i in ids if self.store.get_photo(i) is None]
            if missing:
                raise SweepError(404, "no_photo", (
                    f"no catalog photo with id {', '.join(map(str, missing[:10]))}; "
                    "`picguard catalog list` shows them"))
        else:
            raise SweepError(400, "bad_field", "photo_ids must be a list of photo ids")
        if not ids:
            raise SweepError(400, "no_photos", (
                "the catalog is empty: register your photos with `picguard catalog add DIR`"))
        return [{"photo_id": i} for i in ids]

    def schedule(self) -> dict:
        """Queue what is due by schedule; returns how many tasks of each kind were added."""
        cfg = discovery_settings(self.settings)
        added = {"image": 0, "keyword": 0, "store": 0}
        if cfg["image_search_consent"]:
            older = iso(utcnow() - timedelta(days=cfg["image_sweep_every_days"]))
            # at most a day's budget at once: the rest is queued on later days
            ids = self.store.photos_due_for_image_sweep(older, cfg["per_day"])
            if ids:
                self.store.create_sweep("image", "schedule", [{"photo_id": i} for i in ids])
                added["image"] = len(ids)
        if cfg["keywords"]:
            since = iso(utcnow() - timedelta(days=KEYWORD_SWEEP_EVERY_DAYS))
            recent = self.store.keywords_swept_since(since)
            words = [w for w in cfg["keywords"] if w not in recent]
            if words:
                tasks = [{"keyword": w, "page": p, "url": keyword_url(w, p)}
                         for w in words for p in range(1, cfg["pages_per_keyword"] + 1)]
                self.store.create_sweep("keyword", "schedule", tasks)
                added["keyword"] = len(tasks)
        for store_id in self.store.copied_stores_not_swept():
            if store_id.isdigit():
                self.store.create_sweep("store", "copied_alert", [
                    {"store_key": store_id, "url": store_list_url(store_id)}])
                added["store"] += 1
        return added

    # ---- handing out --------------------------------------------------------------------

    def budget(self, cfg: dict | None = None) -> dict:
        """The politeness budget: limits, requests used today, when the next one may go."""
        cfg = cfg or discovery_settings(self.settings)
        midnight = _local_midnight()
        used = self.store.sweep_requests_since(iso(midnight))
        next_at = None
        if used >= cfg["per_day"]:
            next_at = iso(midnight + timedelta(days=1))
        else:
            last = parse_iso(self.store.last_sweep_request_at())
            if last is not None:
                allowed = last + timedelta(seconds=cfg["min_interval_s"])
                next_at = iso(allowed) if allowed > utcnow() else None
        return {"min_interval_s": cfg["min_interval_s"], "per_day": cfg["per_day"],
                "used_today": used, "next_request_at": next_at}

    def _consent_pause(self) -> dict:
        return {"reason": "consent", "until": None, "message": (
            "Search by image sends a downscaled copy of your photo to AliExpress. It is off "
            "until you turn it on (options page, dashboard, or `picguard sweep consent on`).")}

    def next_task(self, idle: bool = False) -> dict:
        """The next task the extension should run, or why none is handed out now."""
        cfg = discovery_settings(self.settings)
        self.schedule()
        budget = self.budget(cfg)
        answer: dict = {"task": None, "paused": None, "budget": budget}
        if idle and cfg["pause_when_idle"]:
            answer["paused"] = {"reason": "idle", "until": None, "message": (
                "Sweeps wait while you are away from the computer (pause_when_idle).")}
            return answer
        now = utcnow()
        pauses = {k: p for k, p in self.store.sweep_pauses().items()
                  if (parse_iso(p["until"]) or now) > now}
        kinds = tuple(k for k in SWEEP_KINDS if k not in pauses
                      and (k != "image" or cfg["image_search_consent"]))
        stale = iso(now - timedelta(seconds=TASK_LEASE_S))
        due = self.store.due_tasks(kinds, stale)
        if not due:
            pending = self.store.pending_kinds()
            if pauses and any(pending.get(k) for k in pauses):
                until = min(p["until"] for p in pauses.values())
                answer["paused"] = {"reason": "blocked", "until": until, "message": (
                    "AliExpress showed a captcha to a sweep. Open "
                    f"{AE_HOME} once in this browser and pass the check; sweeps resume "
                    f"then, or by themselves at {until}.")}
            elif not cfg["image_search_consent"] and self.store.due_tasks(("image",), stale):
                answer["paused"] = self._consent_pause()
            return answer
        if budget["next_request_at"] is not None:
            answer["paused"] = {"reason": "budget", "until": budget["next_request_at"],
                                "message": (
                                    f"At most one marketplace request every "
                                    f"{cfg['min_interval_s']} s and {cfg['per_day']} a day; "
                                    f"the next one may go at {budget['next_request_at']}.")}
            return answer
        task = due[0]
        self.store.hand_out_task(task["id"], task["kind"])
        answer["task"] = self.task_view(task)
        answer["budget"] = self.budget(cfg)
        return answer

    @staticmethod
    def task_view(task: dict) -> dict:
        """A task as the extension gets it (docs/API.md)."""
        image = task["kind"] == "image"
        return {"id": task["id"], "kind": task["kind"], "marketplace": task["marketplace"],
                "url": None if image else task["url"],
                "photo_id": task["photo_id"] if image else None,
                "image": f"/api/v1/sweeps/{task['id']}/image" if image else None,
                "keyword": task["keyword"], "page": task["page"],
                "store_id": task["store_key"], "sweep_id": task["sweep_id"]}

    # ---- the photo sent to the image search ---------------------------------------------

    def image_bytes(self, task_id: int) -> bytes:
        """The catalog photo of an image task as a JPEG of at most 1,200 px and 400 KB."""
        if not discovery_settings(self.settings)["image_search_consent"]:
            raise SweepError(403, "consent_needed", self._consent_pause()["message"])
        task = self.store.get_task(task_id)
        if task is None or task["kind"] != "image":
            raise SweepError(404, "no_task", f"there is no image sweep task {task_id}")
        photo = self.store.get_photo(task["photo_id"]) if task["photo_id"] else None
        if photo is None:
            raise SweepError(404, "no_photo", "the task's catalog photo was removed")
        try:
            return downscaled_jpeg(Path(photo["path"]))
        except (OSError, ValueError) as exc:
            raise SweepError(410, "photo_missing", (
                f"the original {photo['path']} cannot be read ({exc}); put it back or "
                "register it again")) from exc

    # ---- outcomes -----------------------------------------------------------------------

    def record_result(self, task_id: int, result: object) -> dict:
        """Record what the extension reports for a task (done, blocked or failed)."""
        if not isinstance(result, dict) or result.get("status") not in ("done", "blocked",
                                                                        "failed"):
            raise SweepError(400, "bad_status", "status must be done, blocked or failed")
        pages = result.get("pages", 0)
        if isinstance(pages, bool) or not isinstance(pages, int) or not 0 <= pages <= 1000:
            raise SweepError(400, "bad_field", "pages must be a whole number from 0 to 1000")
        error = result.get("error")
        if error is not None and not isinstance(error, str):
            raise SweepError(400, "bad_field", "error must be a string or null")
        task = self.store.get_task(task_id)
        if task is None:
            raise SweepError(404, "no_task", f"there is no sweep task {task_id}")
        status, until = result["status"], None
        if status == "done":
            due_at = None
        elif status == "blocked":
            until = record_block(self.store, self.settings, task["kind"], error)
            due_at = until  # tried again once the pause is over (or lifted)
        else:
            due_at = in_seconds(FAILED_RETRY_S) if task["attempts"] < MAX_ATTEMPTS else None
        self.store.finish_task(task_id, state=status, pages=pages,
                               error=(error or "")[:500] or None, due_at=due_at,
                               extra_requests=max(0, pages - 1))
        if status == "done":
            self.store.clear_sweep_pauses((task["kind"],))
        return {"task": self.task_view(self.store.get_task(task_id)) | {
            "state": status, "due_at": due_at}, "paused_until": until}

    # ---- reports ------------------------------------------------------------------------

    def coverage(self) -> dict:
        """Per channel: listings and images found today and in total, sweeps, next due."""
        return self.store.coverage(iso(_local_midnight()))

    def overview(self) -> dict:
        """Sweeps with their tasks, the settings, budget and pauses (GET /api/v1/sweeps)."""
        cfg = discovery_settings(self.settings)
        now = now_iso()
        pauses = [{"kind": k, **{f: p[f] for f in ("until", "blocks", "reason")},
                   "active": p["until"] > now}
                  for k, p in self.store.sweep_pauses().items()]
        return {"sweeps": self.store.list_sweeps(), "settings": cfg,
                "budget": self.budget(cfg), "pauses": pauses, "channels": list(CHANNELS),
                "kind_channel": KIND_CHANNEL}


def downscaled_jpeg(path: Path, max_side: int = IMAGE_MAX_SIDE,
                    max_bytes: int = IMAGE_MAX_BYTES) -> bytes:
    """A JPEG of the photo within `max_side` px and `max_bytes` (quality, then size, lowered)."""
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img)
        if img.mode not in ("RGB", "L"):
            background = Image.new("RGB", img.size, "white")
            rgba = img.convert("RGBA")
            background.paste(rgba, mask=rgba.getchannel("A"))
            img = background
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        while True:
            for quality in (88, 80, 72, 64, 56):
                buf = io.BytesIO()
                img.save(buf, "JPEG", quality=quality, optimize=True)
                if buf.tell() <= max_bytes:
                    return buf.getvalue()
            img = img.resize((max(1, int(img.width * 0.8)), max(1, int(img.height * 0.8))),
                             Image.Resampling.LANCZOS)
