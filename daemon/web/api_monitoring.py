"""Dashboard routes for monitoring: jobs, the image queue, and running a job or a watch now.

Watches themselves are added and removed through api.py (`POST /watch`, `DELETE
/watch/<id>`); sweeps and coverage belong to the discovery routes when they exist.
"""

from __future__ import annotations

from flask import Blueprint

from daemon.monitor.pipeline import Pipeline
from daemon.monitor.scheduler import Monitor
from daemon.web.security import ApiError
from daemon.web.validate import body, field

JOBS = ("fetch", "match", "reverse", "rescan", "descriptions", "notify")


def create_monitoring_api(pipeline: Pipeline, monitor: Monitor) -> Blueprint:
    """`GET /monitoring`, `POST /monitoring/run`, `POST /watch/<id>/run`."""
    bp = Blueprint("api_monitoring", __name__, url_prefix="/api/v1")
    store = pipeline.store

    @bp.get("/monitoring")
    def overview():
        return {"scheduler": monitor.snapshot(), "queue": store.queue_summary(),
                "watches": store.list_watches(), "jobs": list(JOBS)}

    @bp.post("/monitoring/run")
    def run_job():
        job = field(body(), "job", str)
        if job not in JOBS:
            raise ApiError(400, "bad_job", f"job must be one of {', '.join(JOBS)}")
        if not monitor.running:
            raise ApiError(409, "not_running", (
                "the scheduler is not running; start PicGuard with `picguard serve`"))
        monitor.wake(job)
        return {"job": job, "queued": True}

    @bp.post("/watch/<int:watch_id>/run")
    def run_watch(watch_id: int):
        body()
        if not store.watch_due_now(watch_id):
            raise ApiError(404, "no_watch", f"there is no watch {watch_id}")
        monitor.wake("rescan")
        return {"watch_id": watch_id, "queued": True}

    return bp
