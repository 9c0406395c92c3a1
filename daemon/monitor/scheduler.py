"""Background monitoring on a schedule: APScheduler 3 interval jobs over the pipeline.

The jobs keep no state of their own (all of it is in SQLite), so a restart simply picks
up the queue where it stood. `coalesce` and `max_instances=1` keep a slow run from piling up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from daemon.monitor.notify import daily_witness
from daemon.monitor.pipeline import Pipeline
from daemon.timeutil import now_iso

log = logging.getLogger(__name__)
# One fetch run drains the queue for at most this long, then yields to the other jobs.
FETCH_RUN_BUDGET_S = 45


class Monitor:
    """The scheduler plus a small, thread-safe record of what each job last did."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.state: dict = {"running": False, "jobs": {}, "last_scan": None}
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

    def _recorded(self, name: str, func: Callable[[], dict]) -> Callable[[], None]:
        def run() -> None:
            started = time.monotonic()
            try:
                result, error = func(), None
            except Exception as exc:  # noqa: BLE001 - a failed run is recorded and retried
                log.exception("job %s failed", name)
                result, error = None, f"{type(exc).__name__}: {exc}"
            self.state["jobs"][name] = {
                "at": now_iso(), "seconds": round(time.monotonic() - started, 3),
                "result": result, "error": error,
            }
            if name == "fetch":
                self.state["last_scan"] = now_iso()
        return run

    def _drain_fetch_queue(self) -> dict:
        total = {"fetched": 0, "retry": 0, "failed": 0, "alerts": 0}
        deadline = time.monotonic() + FETCH_RUN_BUDGET_S
        while time.monotonic() < deadline:
            step = self.pipeline.fetch_due()
            for key, value in step.items():
                total[key] += value
            if not (step["fetched"] or step["retry"] or step["failed"]):
                break
        return total

    def wake(self, job: str = "fetch") -> None:
        """Run a job as soon as possible (a page just queued new images)."""
        if self.state["running"]:
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
        self.state["running"] = True

    def stop(self, wait: bool = True) -> None:
        """Stop scheduling; with `wait`, running jobs finish their current item first."""
        if self.state["running"]:
            self.state["running"] = False
            self.scheduler.shutdown(wait=wait)
