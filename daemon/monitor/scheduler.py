"""Background monitoring on a schedule: APScheduler 3 interval jobs over the pipeline.

The jobs keep no state of their own (all of it is in SQLite), so a restart simply picks
up the queue where it stood. `coalesce` and `max_instances=1` keep a slow run from piling up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from daemon.backup.schedule import scheduled_backup
from daemon.monitor.notify import daily_witness
from daemon.monitor.pipeline import Pipeline
from daemon.provenance.timestamps import Stamper
from daemon.timeutil import now_iso

log = logging.getLogger(__name__)
# One fetch run drains the queue for at most this long, then yields to the other jobs.
FETCH_RUN_BUDGET_S = 45


class Monitor:
    """The scheduler plus a small, thread-safe record of what each job last did.

    Job threads write the record and request threads read it: both go through `_lock`,
    and readers get a copy (`snapshot`), never the live dict.
    """

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self._lock = threading.Lock()
        self._running = False
        self._jobs: dict[str, dict] = {}
        self._last_scan: str | None = None
        s = pipeline.settings
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 600},
        )
        now = datetime.now(UTC)
        jobs: list[tuple[str, Callable[[], dict], int]] = [
            ("fetch", self._drain_fetch_queue, s.fetch_interval_s),
            ("match", pipeline.match_pending, s.match_interval_s),
            ("reverse", pipeline.reverse_match, s.match_interval_s),
            ("upgrade", pipeline.upgrade_fingerprints, max(s.match_interval_s, 300)),
            ("rescan", pipeline.rescan_watches, min(s.rescan_interval_s, 300)),
            ("descriptions", pipeline.fetch_descriptions, s.fetch_interval_s),
            ("notify", pipeline.notify_pending, s.notify_interval_s),
        ]
        for name, func, interval in jobs:
            self.scheduler.add_job(
                self._recorded(name, func), "interval", seconds=max(1, interval), id=name,
                jitter=max(0, interval // 10), next_run_time=now, replace_existing=True,
            )
        # The ledger's daily external witness (provenance.ledger): checked hourly, sent when the
        # last digest is a day old and the chain has grown; first check 10 minutes after start
        # so a restart does not send at once.
        self.scheduler.add_job(
            self._recorded("witness", lambda: daily_witness(pipeline.store, s)), "interval",
            seconds=3600, id="witness", next_run_time=now + timedelta(minutes=10),
            replace_existing=True,
        )
        # Third-party proof and backups (issue 16), hourly checks with their own intervals
        # and backoff inside: RFC 3161 stamps of the ledger head, automatic backups.
        stamper = Stamper(pipeline.store, s)
        for name, func in (("stamp", stamper.run_scheduled),
                           ("backup", lambda: scheduled_backup(s, pipeline.store))):
            self.scheduler.add_job(self._recorded(name, func), "interval", seconds=3600, id=name,
                                   next_run_time=now + timedelta(minutes=10),
                                   replace_existing=True)

    def _recorded(self, name: str, func: Callable[[], dict]) -> Callable[[], None]:
        def run() -> None:
            started = time.monotonic()
            try:
                result, error = func(), None
            except Exception as exc:  # noqa: BLE001 - a failed run is recorded and retried
                log.exception("job %s failed", name)
                result, error = None, f"{type(exc).__name__}: {exc}"
            record = {"at": now_iso(), "seconds": round(time.monotonic() - started, 3),
                      "result": result, "error": error}
            with self._lock:
                self._jobs[name] = record
                if name == "fetch":
                    self._last_scan = record["at"]
        return run

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        with self._lock:
            return self._running

    def snapshot(self) -> dict:
        """A copy of the record for status answers: running, last scan, each job's last run."""
        with self._lock:
            return {"running": self._running, "last_scan": self._last_scan,
                    "jobs": {name: dict(rec) for name, rec in self._jobs.items()}}

    def _drain_fetch_queue(self) -> dict:
        return self.pipeline.drain_fetch_queue(budget_s=FETCH_RUN_BUDGET_S)

    def wake(self, job: str = "fetch") -> None:
        """Run a job as soon as possible (a page just queued new images)."""
        if self.running:
            try:
                self.scheduler.modify_job(job, next_run_time=datetime.now(UTC))
            except Exception:  # noqa: BLE001 - the job may be mid-run; its interval catches up
                log.debug("could not wake job %s", job)

    def start(self) -> None:
        """Start the jobs; claims left by a daemon that died are released first."""
        released = self.pipeline.store.release_leases()
        if released:
            log.info("resuming %d image(s) that were in flight when PicGuard last stopped",
                     released)
        self.scheduler.start()
        with self._lock:
            self._running = True

    def stop(self, wait: bool = True) -> None:
        """Stop scheduling; with `wait`, running jobs finish their current item first."""
        with self._lock:
            was_running, self._running = self._running, False
        if was_running:
            self.scheduler.shutdown(wait=wait)
