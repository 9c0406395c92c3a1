"""Discovery routes (docs/API.md "Discovery"): the sweep queue, its photos, coverage, settings.

The extension asks `GET /api/v1/sweeps/next` for work, runs it in the seller's browser,
pushes the results pages to `POST /api/v1/pages` (with `channel` and `sweep_id`) and reports
the outcome to `POST /api/v1/sweeps/<id>/result`. No SQL here: monitor.sweeps does the work.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from daemon.monitor.discovery_settings import SweepError, discovery_settings, update_discovery
from daemon.monitor.pipeline import Pipeline
from daemon.monitor.sweeps import Sweeper
from daemon.web.security import ApiError


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object; check the request")
    return data


def create_sweeps_api(pipeline: Pipeline) -> Blueprint:
    """The discovery blueprint bound to one engine's store and settings."""
    api = Blueprint("sweeps", __name__, url_prefix="/api/v1")
    sweeper = Sweeper(pipeline.store, pipeline.settings)

    def run(func, *args):
        try:
            return func(*args)
        except SweepError as exc:
            raise ApiError(exc.status, exc.code, exc.message) from exc

    @api.get("/sweeps/next")
    def next_task():
        idle = request.args.get("idle", "0") in ("1", "true", "yes")
        return run(sweeper.next_task, idle)

    @api.get("/sweeps/<int:task_id>/image")
    def task_image(task_id: int):
        data = run(sweeper.image_bytes, task_id)
        return Response(data, mimetype="image/jpeg",
                        headers={"Cache-Control": "no-store",
                                 "Content-Disposition": f'inline; filename="sweep-{task_id}.jpg"'})

    @api.post("/sweeps/<int:task_id>/result")
    def task_result(task_id: int):
        return run(sweeper.record_result, task_id, _json_body())

    @api.post("/sweeps")
    def start_sweep():
        return run(sweeper.start, _json_body()), 201

    @api.get("/sweeps")
    def list_sweeps():
        return run(sweeper.overview)

    @api.get("/coverage")
    def coverage():
        return run(sweeper.coverage)

    @api.get("/settings/discovery")
    def get_discovery():
        return discovery_settings(pipeline.settings)

    @api.post("/settings/discovery")
    def set_discovery():
        return run(update_discovery, pipeline.settings, _json_body())

    return api
