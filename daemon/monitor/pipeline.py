"""The monitoring work: fetch queued images, fingerprint, match both ways, re-visit, notify.

Every step reads its work from SQLite and writes its result back in a transaction, so a
crash or restart only repeats the one item that was in flight. The scheduler calls these
jobs on intervals; `picguard scan --once` calls `run_once` in the foreground.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import scraper
from daemon.config import Settings
from daemon.matching.compare import ANALYSIS_VERSION, MATCHER_VERSION, Analysis, analyse
from daemon.matching.competitor_index import CompetitorIndex
from daemon.matching.competitor_verify import thumbnail_descriptors
from daemon.matching.imageio import ImageError, make_thumbnail
from daemon.matching.retrieval import CatalogMatcher
from daemon.monitor import notify
from daemon.monitor.alerts import raise_alert, review_alerts
from daemon.monitor.competitor_sync import query_competitors, sync_competitor_index
from daemon.monitor.ingest import PageError, admissible_images, ingest_page
from daemon.provenance.ledger import note_first_seen
from daemon.store import Store
from daemon.timeutil import backoff_seconds, in_seconds
from scraper.fetch import Fetcher, FetchError

log = logging.getLogger(__name__)

# Failures that will not change by trying again: give up at once, with the reason kept.
PERMANENT_FETCH_ERRORS = {"blocked_address", "bad_scheme", "bad_content_type", "too_large",
                          "too_many_redirects", "bad_url"}
Progress = Callable[[str, int, int], None]
# Catalog photos reverse-matched at once (threads: decoding, ORB and faiss release the GIL).
REVERSE_WORKERS = 2


class Pipeline:
    """The jobs, sharing one store, fetcher and in-memory catalog matcher."""

    def __init__(self, settings: Settings, store: Store, fetcher: Fetcher | None = None,
                 matcher: CatalogMatcher | None = None,
                 competitors: CompetitorIndex | None = None):
        self.settings = settings
        self.store = store
        self.fetcher = fetcher or Fetcher(
            allow_private=settings.allow_private_hosts, max_bytes=settings.max_image_bytes,
            per_host_interval=settings.per_host_interval_ms / 1000,
            max_parallel=max(1, settings.fetch_workers))
        self.matcher = matcher or CatalogMatcher(settings.data_dir / "catalog-index.npz")
        # Every competitor image fetched, indexed for check and the reverse pass (loaded
        # on first use: commands that never query it pay nothing).
        self.competitors = competitors or CompetitorIndex(settings.data_dir / "competitor-index")
        self._loaded_photo_id = 0
        self._load_lock = threading.Lock()

    # ---- the catalog in memory ----------------------------------------------------------

    def refresh_catalog(self) -> int:
        """Load catalog photos registered since the last call (the CLI may add them anytime)."""
        with self._load_lock:
            added = 0
            for row in self.store.photo_fingerprints(since_id=self._loaded_photo_id):
                if row["version"] == ANALYSIS_VERSION:
                    self.matcher.add_stored(row["photo_id"], row["data"], row["features"])
                    added += 1
                self._loaded_photo_id = row["photo_id"]
            return added

    def upgrade_fingerprints(self, limit: int = 50, progress: Progress | None = None) -> dict:
        """Recompute catalog analyses of an older ANALYSIS_VERSION, from the original files.
        One gone or changed since registration keeps matching by SHA-256 only (logged)."""
        counts = {"upgraded": 0, "unavailable": 0}
        rows = self.store.photos_with_stale_fingerprints(ANALYSIS_VERSION, limit)
        for done, row in enumerate(rows, start=1):
            try:
                data = Path(row["path"]).read_bytes()
                if hashlib.sha256(data).hexdigest() != row["sha256"]:
                    raise ImageError("the original file changed since it was registered")
                analysis = analyse(data)
            except (OSError, ImageError) as exc:
                counts["unavailable"] += 1
                log.warning("cannot refresh the fingerprint of photo %s (%s): %s",
                            row["id"], row["path"], exc)
                continue
            self.store.update_photo_fingerprint(row["id"], analysis.fingerprint.to_bytes(),
                                                analysis.features_bytes(), ANALYSIS_VERSION)
            with self._load_lock:
                self.matcher.add(row["id"], analysis)
            counts["upgraded"] += 1
            if progress:
                progress("upgrade", done, len(rows))
        return counts

    # ---- fetch + fingerprint + match ----------------------------------------------------

    def fetch_due(self, limit: int = 64, progress: Progress | None = None) -> dict:
        """Fetch, fingerprint and match due queued images in a bounded thread pool."""
        self.refresh_catalog()
        rows = self.store.claim_due_images(limit)
        counts = {"fetched": 0, "retry": 0, "failed": 0, "alerts": 0}
        if not rows:
            return counts
        try:
            with ThreadPoolExecutor(max_workers=max(1, self.settings.fetch_workers),
                                    thread_name_prefix="picguard-fetch") as pool:
                for done, outcome in enumerate(pool.map(self._fetch_one, rows), start=1):
                    counts[outcome[0]] += 1
                    counts["alerts"] += outcome[1]
                    if progress:
                        progress("fetch", done, len(rows))
        except BaseException:
            # A store write failed (a full disk): hand the unfinished leases back so the run
            # after space returns takes them at once (best effort: that write may fail too,
            # and then the 5-minute lease runs out instead).
            with contextlib.suppress(Exception):
                self.store.release_image_leases([r["id"] for r in rows])
            raise
        return counts

    def _fetch_one(self, row: dict) -> tuple[str, int]:
        try:
            result = self.fetcher.fetch_image(row["url"], etag=row["etag"],
                                              last_modified=row["last_modified"])
            if result.not_modified:
                self.store.image_not_modified(row["id"])
                return "fetched", 0
            analysis = analyse(result.content, product=False)
            thumb = make_thumbnail(result.content)
            # indexed as it will be verified: from the stored thumbnail (competitor_verify)
            index_entry = thumbnail_descriptors(thumb)
        except FetchError as exc:
            # 404/410: the image is gone, asking again will not bring it back
            gone = exc.code == "http_status" and exc.status in (404, 410)
            return self._failed(row, exc.code, exc.reason, permanent=gone), 0
        except ImageError as exc:
            return self._failed(row, "bad_image", str(exc), permanent=True), 0
        except Exception as exc:  # noqa: BLE001 - one bad image must never stop the queue
            log.exception("unexpected failure on image %s", row["url"])
            return self._failed(row, "internal", f"unexpected error: {exc}"), 0
        meta = {"sha256": analysis.sha256, "content_type": result.content_type,
                "size_bytes": len(result.content), "width": analysis.width,
                "height": analysis.height, "etag": result.etag,
                "last_modified": result.last_modified, "http_date": result.date}
        self.store.image_fetched(row["id"], meta, analysis.fingerprint.to_bytes(),
                                 ANALYSIS_VERSION, thumb)
        note_first_seen(self.store, row["id"])  # provenance ledger, first fetch only
        self.competitors.add(row["id"], analysis.fingerprint.phash, *index_entry)
        alerts = self._match_image(row["id"], analysis)
        if alerts:  # capture at first sight: the bytes as served are the evidence
            self.store.save_capture(row["id"], result.url, result.content, meta)
        return "fetched", alerts

    def _failed(self, row: dict, code: str, reason: str, permanent: bool = False) -> str:
        attempts = row["attempts"] + 1
        give_up = (permanent or code in PERMANENT_FETCH_ERRORS
                   or attempts >= self.settings.max_fetch_attempts)
        retry_at = None if give_up else in_seconds(backoff_seconds(attempts))
        if give_up and not permanent and code not in PERMANENT_FETCH_ERRORS:
            reason = f"{reason} (gave up after {attempts} attempts)"
        self.store.image_failed(row["id"], code, reason, retry_at)
        return "failed" if give_up else "retry"

    def _match_image(self, image_id: int, analysis: Analysis) -> int:
        """Match one competitor image against the catalog; returns how many alerts it raised."""
        image = self.store.get_image(image_id)
        # Every photo up to this id is in the matcher now (refresh_catalog ran before): the
        # reverse pass skips this image for them (read before the query: conservative).
        photo_max = self._loaded_photo_id
        hits = []
        exact = self.store.photo_by_sha(analysis.sha256) if analysis.sha256 else None
        if exact:
            hits.append((exact["id"], "copy", 1.0, {"layer": "sha256"}))
        for photo_id, result in self.matcher.query(analysis):
            if not exact or photo_id != exact["id"]:
                hits.append((photo_id, result.kind, result.score, result.details))
        alerts = 0
        for photo_id, kind, score, details in hits:
            photo = self.store.get_photo(photo_id)
            if photo and kind and raise_alert(self.store, self.settings, photo=photo,
                                              image=image, kind=kind, score=score,
                                              details=details):
                alerts += 1
        self.store.set_image_matched_against(image_id, MATCHER_VERSION, photo_max)
        return alerts

    def _capture(self, image_id: int) -> None:
        """Capture a matching image's bytes when the match came later than its fetch.

        The bytes are fetched again now (its capture time says so); a failure only loses
        the capture, never the alert.
        """
        image = self.store.get_image(image_id)
        if image is None or self.store.get_capture(image_id):
            return
        try:
            result = self.fetcher.fetch_image(image["url"])
        except FetchError as exc:
            log.info("could not capture image %s: %s", image["url"], exc.reason)
            return
        self.store.save_capture(image_id, result.url, result.content, {
            "content_type": result.content_type, "http_date": result.date,
            "last_modified": result.last_modified, "etag": result.etag})

    def match_pending(self, limit: int = 200, progress: Progress | None = None) -> dict:
        """Re-match fetched images whose last match used an older matcher (from thumbnails),
        and withdraw their alerts the current matcher no longer supports."""
        self.refresh_catalog()
        rows = self.store.images_to_match(MATCHER_VERSION, limit)
        alerts = withdrawn = 0
        for done, row in enumerate(rows, start=1):
            try:
                analysis = Analysis.from_thumbnail(row["thumb"], row["data"], row["sha256"])
            except (ImageError, ValueError) as exc:
                self.store.image_failed(row["id"], "bad_image", f"stored thumbnail: {exc}", None)
                continue
            # first: once _match_image marks it matched, a crash would skip the review
            withdrawn += self._review_alerts(row["id"])
            raised = self._match_image(row["id"], analysis)
            if raised:
                self._capture(row["id"])
            alerts += raised
            if progress:
                progress("match", done, len(rows))
        return {"matched": len(rows), "alerts": alerts, "withdrawn": withdrawn}

    def _review_alerts(self, image_id: int) -> int:
        """Re-check the image's open alerts on its capture (monitor.alerts.review_alerts):
        the capture, not the thumbnail, is what the alert and its evidence rest on."""
        @functools.cache  # decoded once, and only when the image has open alerts
        def captured() -> Analysis | None:
            capture = self.store.get_capture(image_id)
            try:
                return analyse(capture["content"], product=False) if capture else None
            except ImageError:
                return None

        def recheck(photo_id: int):
            analysis = captured()
            return None if analysis is None else self.matcher.compare_photo(photo_id, analysis)

        return review_alerts(self.store, image_id, recheck)

    def sync_competitor_index(self, progress: Progress | None = None,
                              limit: int | None = None) -> dict:
        """Index fetched images the competitor index misses (all of them after a version
        change emptied it), from their thumbnails, with progress ('index', done, total)."""
        return sync_competitor_index(self.store, self.competitors, progress, limit)

    def reverse_match(self, limit: int = 50, progress: Progress | None = None) -> dict:
        """Match newly registered catalog photos against the competitor images already seen.

        Each photo is a query of the competitor index (candidates verified with compare()),
        and only images the forward pass has not compared with it are verified: fetched
        before the photo was registered, or matched by an older matcher. Photos run on
        `reverse_workers` threads (OpenCV and faiss release the GIL).
        """
        self.refresh_catalog()
        self.sync_competitor_index(progress)
        photos = self.store.photos_to_reverse_match_with_times(MATCHER_VERSION,
                                                                ANALYSIS_VERSION, limit)
        counts = {"photos": len(photos), "alerts": 0, "verified": 0}
        lock = threading.Lock()
        done = [0]

        def one(row: dict) -> None:
            if self.store.count_uncovered_images(row["id"], row["fp_created_at"],
                                                 MATCHER_VERSION) == 0:
                found, verified = [], 0  # the forward pass compared every image with it
            else:
                seen: list[int] = []

                def uncovered(ids: list[int]) -> list[dict]:
                    rows = self.store.uncovered_images(ids, row["id"], row["fp_created_at"],
                                                       MATCHER_VERSION)
                    seen.append(len(rows))
                    return rows

                original = Analysis.from_stored(row["data"], row["features"])
                found = query_competitors(self.store, self.competitors, original, uncovered)
                verified = sum(seen)
            photo = self.store.get_photo(row["id"])
            raised = 0
            for image_id, result in found:
                if result.kind and raise_alert(self.store, self.settings, photo=photo,
                                               image=self.store.get_image(image_id),
                                               kind=result.kind, score=result.score,
                                               details=result.details):
                    raised += 1
                    self._capture(image_id)
            self.store.set_photo_reverse_matched(row["id"], MATCHER_VERSION)
            with lock:
                counts["alerts"] += raised
                counts["verified"] += verified  # thumbnails compared (the costly part)
                done[0] += 1
                if progress:
                    progress("reverse", done[0], len(photos))

        workers = REVERSE_WORKERS
        if workers == 1 or len(photos) < 2:
            for row in photos:
                one(row)
        else:
            with ThreadPoolExecutor(max_workers=workers,
                                    thread_name_prefix="picguard-reverse") as pool:
                list(pool.map(one, photos))
        return counts

    # ---- pages fetched by the daemon itself ---------------------------------------------

    def rescan_watches(self, limit: int = 20, progress: Progress | None = None) -> dict:
        """Re-visit watched listings server-side; a captcha marks the listing for the browser."""
        counts = {"visited": 0, "blocked": 0, "failed": 0}
        watches = self.store.due_watches(limit)
        for done, watch in enumerate(watches, start=1):
            interval = self.settings.rescan_interval_s
            try:
                page = self.fetcher.fetch_page(watch["url"])
                html = page.text()
                answer = ingest_page(self.store, self.settings, page.url, html, source="rescan")
            except (FetchError, PageError) as exc:
                reason = getattr(exc, "reason", None) or str(exc)
                counts["failed"] += 1
                wait = min(interval, backoff_seconds(watch["failures"] + 1, base=300))
                self.store.watch_visited(watch["id"], status="failed", error=reason,
                                         next_visit_at=in_seconds(wait))
                continue
            counts["blocked" if answer["status"] == "blocked" else "visited"] += 1
            self.store.watch_visited(watch["id"], status=answer["status"], error=None,
                                     next_visit_at=in_seconds(interval * random.uniform(0.9, 1.1)),
                                     listing_id=answer["listing_id"])
            if progress:
                progress("rescan", done, len(watches))
        return counts

    def fetch_descriptions(self, limit: int = 20, progress: Progress | None = None) -> dict:
        """Fetch item descriptions (served separately): sellers' photos are often copied there."""
        counts = {"visited": 0, "images_new": 0, "failed": 0}
        rows = self.store.listings_needing_description(limit)
        for done, row in enumerate(rows, start=1):
            try:
                page = self.fetcher.fetch_page(row["description_url"])
                refs = scraper.parse_description(page.text(), page.url)
            except (FetchError, scraper.ParseError) as exc:
                counts["failed"] += 1
                self.store.description_visited(row["id"], "failed",
                                               getattr(exc, "reason", None) or str(exc))
                continue
            refs, _refused, _dropped = admissible_images([r.to_dict() for r in refs],
                                                         self.settings)
            counts["images_new"] += self.store.add_listing_images(row["id"], refs)
            self.store.description_visited(row["id"], "ok", None)
            counts["visited"] += 1
            if progress:
                progress("descriptions", done, len(rows))
        return counts

    def drain_fetch_queue(self, budget_s: float | None = None,
                          progress: Progress | None = None) -> dict:
        """Fetch due images batch after batch until none is due (or `budget_s` has passed).

        The scheduler's fetch job gives a budget so the other jobs get their turn; `scan
        --once` gives none and empties the queue.
        """
        total = {"fetched": 0, "retry": 0, "failed": 0, "alerts": 0}
        deadline = None if budget_s is None else time.monotonic() + budget_s
        while deadline is None or time.monotonic() < deadline:
            step = self.fetch_due(progress=progress)
            for key, value in step.items():
                total[key] = total.get(key, 0) + value
            if not (step["fetched"] or step["retry"] or step["failed"]):
                break
        return total

    def notify_pending(self) -> dict:
        return notify.notify_pending(self.store, self.settings)

    def run_once(self, progress: Progress | None = None) -> dict:
        """All due work now, in dependency order, until the fetch queue holds nothing due."""
        summary = {"upgrade": self.upgrade_fingerprints(limit=100_000, progress=progress),
                   "rescan": self.rescan_watches(progress=progress),
                   "descriptions": self.fetch_descriptions(limit=1000, progress=progress),
                   "fetch": {}}
        summary["fetch"] = self.drain_fetch_queue(progress=progress)
        summary["index"] = self.sync_competitor_index(progress=progress)
        summary["match"] = self.match_pending(progress=progress)
        summary["reverse"] = self.reverse_match(limit=10_000, progress=progress)
        summary["notify"] = self.notify_pending()
        return summary
