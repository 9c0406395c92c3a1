"""`POST /api/v1/check` as a job: answered within a budget, or 202 and polled (docs/API.md).

The check (fetch or decode the image, analyse it, query the competitor index, verify the
candidates) runs on its own worker thread, never on the request thread beyond
CHECK_BUDGET_S, and never behind the scheduler's jobs (a long reverse pass only shares
the index lock, held for one search at a time).
"""

from __future__ import annotations

import base64
import binascii
import io
import secrets
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Blueprint, jsonify, request
from PIL import Image

from daemon.matching.compare import analyse
from daemon.matching.imageio import FORMATS, ImageError
from daemon.monitor.pipeline import Pipeline
from daemon.monitor.verdicts import check_image
from daemon.timeutil import now_iso
from daemon.web.security import ApiError
from scraper.fetch import FetchError

# How long POST /check waits for its answer before handing back a job to poll.
CHECK_BUDGET_S = 2.0
# Finished jobs kept for polling (the oldest are dropped first).
KEEP_JOBS = 200
CHECK_WORKERS = 2


class CheckJobs:
    """Check jobs and their progress, run on a small pool of their own (thread-safe)."""

    def __init__(self, pipeline: Pipeline, workers: int = CHECK_WORKERS) -> None:
        self.pipeline = pipeline
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="picguard-check")
        self._jobs: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, image: bytes | None, url: str | None) -> tuple[str, threading.Event]:
        """Queue one check; returns its id and an event set when it has finished."""
        job_id = secrets.token_hex(8)
        done = threading.Event()
        with self._lock:
            self._jobs[job_id] = {"job": job_id, "status": "queued", "created_at": now_iso(),
                                  "progress": {"stage": "queued", "done": 0, "total": 1}}
            self._prune()
        self._pool.submit(self._run, job_id, image, url, done)
        return job_id, done

    def _prune(self) -> None:
        finished = [k for k, j in self._jobs.items() if j["status"] in ("done", "failed")]
        for k in finished[: max(0, len(self._jobs) - KEEP_JOBS)]:
            del self._jobs[k]

    def _set(self, job_id: str, **fields: Any) -> None:
        with self._lock:
            if job_id in self._jobs:
                self._jobs[job_id].update(fields)

    def _run(self, job_id: str, image: bytes | None, url: str | None,
             done: threading.Event) -> None:
        started = time.monotonic()

        def progress(stage: str, n: int, total: int) -> None:
            self._set(job_id, progress={"stage": stage, "done": n, "total": total})

        try:
            self._set(job_id, status="running")
            if image is None:
                progress("fetch", 0, 1)
                try:
                    image = self.pipeline.fetcher.fetch_image(url or "").content
                except FetchError as exc:
                    raise ApiError(422, exc.code, f"could not fetch the image: {exc.reason}; "
                                   "check the URL or send the image bytes") from exc
            progress("analyse", 0, 1)
            try:
                analysis = analyse(image, product=False)
            except ImageError as exc:
                raise ApiError(422, "bad_image", str(exc)) from exc
            result = check_image(self.pipeline.store, self.pipeline.settings, analysis,
                                 index=self.pipeline.competitors, progress=progress)
            self._set(job_id, status="done", result=result,
                      seconds=round(time.monotonic() - started, 3))
        except ApiError as exc:
            self._set(job_id, status="failed", error=exc.message, code=exc.code,
                      http_status=exc.status)
        except Exception as exc:  # noqa: BLE001 - a failed check is reported, not lost
            self._set(job_id, status="failed", code="internal", http_status=500,
                      error=f"the check failed unexpectedly ({type(exc).__name__}); try again")
        finally:
            done.set()

    def get(self, job_id: str) -> dict[str, Any] | None:
        """A copy of one job's state (None when unknown or long finished)."""
        with self._lock:
            job = self._jobs.get(job_id)
            return dict(job) if job else None

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _image_from_body() -> tuple[bytes | None, str | None]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_json", "the body must be a JSON object; check the request")
    if isinstance(data.get("image"), str):
        try:
            image = base64.b64decode(data["image"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError(400, "bad_image", "image must be base64-encoded bytes") from exc
        _readable(image)
        return image, None
    if isinstance(data.get("url"), str):
        return None, data["url"]
    raise ApiError(400, "bad_field", "send 'image' (base64 bytes) or 'url'")


def _readable(data: bytes) -> None:
    """Refuse bytes that are no picture at once, from their header (no decoding): the
    request's own mistake is answered on the request, not through a job."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = im.format
    except Exception as exc:  # noqa: BLE001 - Pillow raises several kinds for non-images
        raise ApiError(422, "bad_image", "the data is not a readable image (JPEG, PNG, WebP, "
                       "AVIF, GIF or HEIC expected); send the picture's bytes") from exc
    if fmt not in FORMATS:
        raise ApiError(422, "bad_image", f"{fmt} images are not supported; convert it to "
                       "JPEG, PNG, WebP, AVIF, GIF or HEIC")


def _answer(job: dict[str, Any]):
    """The finished job's answer: the check result (200) or its error (4xx/5xx)."""
    if job["status"] == "failed":
        return jsonify(error=job["error"], code=job["code"], job=job["job"]), job["http_status"]
    return jsonify({**job["result"], "job": job["job"], "status": "done"}), 200


def create_check_api(pipeline: Pipeline, budget_s: float = CHECK_BUDGET_S) -> Blueprint:
    """The check routes, bound to one pipeline (its store, fetcher and competitor index)."""
    bp = Blueprint("api_check", __name__, url_prefix="/api/v1")
    jobs = CheckJobs(pipeline)
    bp.record_once(lambda state: state.app.extensions.setdefault("picguard_check", jobs))

    @bp.post("/check")
    def check():
        image, url = _image_from_body()
        job_id, done = jobs.submit(image, url)
        if done.wait(budget_s):
            return _answer(jobs.get(job_id) or {})
        job = jobs.get(job_id) or {}
        return jsonify({"job": job_id, "status": job.get("status", "queued"),
                        "progress": job.get("progress"),
                        "poll": f"/api/v1/check/{job_id}"}), 202

    @bp.get("/check/<job>")
    def check_job(job: str):
        state = jobs.get(job)
        if state is None:
            raise ApiError(404, "no_check_job", f"there is no check job {job!r} (finished "
                           "jobs are kept for a while only); send the check again")
        if state["status"] in ("done", "failed"):
            return _answer(state)
        return jsonify({"job": job, "status": state["status"], "progress": state["progress"],
                        "poll": f"/api/v1/check/{job}"}), 202

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify(error=exc.message, code=exc.code), exc.status

    return bp
