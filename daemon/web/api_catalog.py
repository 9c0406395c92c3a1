"""Dashboard routes for the catalog: list by shoot, upload, register a folder, set shoot, remove.

Uploaded photos are kept in `<data dir>/originals/` (named by SHA-256, never modified): the
catalog records a path and a hash, so an upload needs a file that stays. Registering a
folder reads the files where they are. Removing takes photos out of the catalog; it never
deletes a file.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from pathlib import Path

from flask import Blueprint, Response, request

from daemon.catalog.registration import IMAGE_SUFFIXES, iter_image_files, register, register_file
from daemon.monitor.alerts import photo_thumb
from daemon.monitor.pipeline import Pipeline
from daemon.web.security import ApiError
from daemon.web.validate import body, field, int_arg, int_list

MAX_SHOOT = 120
MAX_IDS = 5000
MAX_JOBS = 20  # finished folder jobs remembered for polling


def _shoot(data: dict) -> str | None:
    shoot = field(data, "shoot", str, required=False)
    shoot = (shoot or "").strip()
    if len(shoot) > MAX_SHOOT:
        raise ApiError(400, "bad_shoot", f"a shoot name is at most {MAX_SHOOT} characters")
    return shoot or None


class FolderJobs:
    """Folder registrations running in background threads, polled by the dashboard."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.jobs: dict[int, dict] = {}
        self.lock = threading.Lock()
        self.ids = itertools.count(1)

    def start(self, folder: Path, shoot: str | None) -> dict:
        """Count the images, then register them in a thread; returns the job record."""
        total = sum(1 for _ in iter_image_files([folder]))
        job = {"id": next(self.ids), "folder": str(folder), "shoot": shoot, "state": "running",
               "done": 0, "total": total, "added": 0, "duplicates": 0, "failed": [],
               "error": None}
        with self.lock:
            self.jobs[job["id"]] = job
            for old in sorted(self.jobs)[:-MAX_JOBS]:
                if self.jobs[old]["state"] != "running":
                    del self.jobs[old]
        threading.Thread(target=self._run, args=(job, folder, shoot), daemon=True,
                         name=f"picguard-folder-{job['id']}").start()
        return dict(job)

    def _run(self, job: dict, folder: Path, shoot: str | None) -> None:
        def progress(items, total):
            for item in items:
                yield item
                with self.lock:
                    job["done"] += 1

        try:
            report = register(self.pipeline.store, [folder], shoot=shoot, progress=progress,
                              workers=1)
            self.pipeline.refresh_catalog()
            with self.lock:
                job.update(state="done", added=len(report.added),
                           duplicates=len(report.duplicates), failed=report.failed[:50])
        except Exception as exc:  # noqa: BLE001 - reported to the seller, not a traceback
            with self.lock:
                job.update(state="failed", error=f"{type(exc).__name__}: {exc}")

    def get(self, job_id: int) -> dict | None:
        with self.lock:
            job = self.jobs.get(job_id)
            return dict(job) if job else None


def create_catalog_api(pipeline: Pipeline) -> Blueprint:
    """The catalog blueprint bound to one engine."""
    bp = Blueprint("api_catalog", __name__, url_prefix="/api/v1")
    store, settings = pipeline.store, pipeline.settings
    jobs = FolderJobs(pipeline)

    @bp.get("/catalog")
    def list_catalog():
        shoot = request.args.get("shoot")
        query = (request.args.get("q") or "").strip()[:100] or None
        offset, limit = int_arg("offset", 0, 0, 10**9), int_arg("limit", 60, 1, 200)
        rows, total = store.catalog_page(shoot, query, offset, limit)
        return {"photos": rows, "total": total, "offset": offset, "limit": limit,
                "shoots": store.shoot_names()}

    @bp.get("/catalog/<int:photo_id>/thumb")
    def thumb(photo_id: int):
        photo = store.get_photo(photo_id)
        if photo is None:
            raise ApiError(404, "no_photo", f"there is no catalog photo {photo_id}")
        data = photo_thumb(photo["path"], max_side=320)
        if data is None:
            raise ApiError(404, "original_missing", (
                f"the original {photo['path']} cannot be read; put it back where it was"))
        return Response(data, mimetype="image/jpeg",
                        headers={"Cache-Control": "private, max-age=3600"})

    @bp.post("/catalog/upload")
    def upload():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise ApiError(400, "no_file", "send one photo as the multipart field 'file'")
        shoot = (request.form.get("shoot") or "").strip()[:MAX_SHOOT] or None
        name = Path(upload.filename).name
        suffix = Path(name).suffix.lower()
        if suffix not in IMAGE_SUFFIXES:
            raise ApiError(415, "not_an_image", (
                f"{name!r} is not a photo PicGuard reads; send JPEG, PNG, WebP, AVIF or HEIC"))
        data = upload.read()
        folder = settings.data_dir / "originals"
        folder.mkdir(parents=True, exist_ok=True)
        # named by content: the same photo uploaded twice is one file
        path = folder / f"{hashlib.sha256(data).hexdigest()[:32]}-{name}"
        if not path.exists():
            path.write_bytes(data)
        outcome, info = register_file(store, path, shoot=shoot)
        if outcome == "failed":
            if not store.photo_by_sha(hashlib.sha256(data).hexdigest()):
                path.unlink(missing_ok=True)
            raise ApiError(422, "not_registered", f"{name}: {info.get('reason')}")
        if outcome == "duplicate" and Path(info["same_as"]).resolve() != path.resolve():
            path.unlink(missing_ok=True)  # the photo is registered from elsewhere already
            path = Path(info["same_as"])
        pipeline.refresh_catalog()
        return {"outcome": outcome, "photo_id": info.get("id"), "file_name": name,
                "path": str(path)}

    @bp.post("/catalog/folder")
    def add_folder():
        data = body()
        raw = field(data, "path", str).strip()
        folder = Path(raw).expanduser()
        if not raw or not folder.is_absolute():
            raise ApiError(400, "bad_path", "give the full path of a folder on this computer")
        if not folder.is_dir():
            raise ApiError(404, "no_folder", f"{folder} is not a folder on this computer")
        return jobs.start(folder, _shoot(data)), 202

    @bp.get("/catalog/jobs/<int:job_id>")
    def folder_job(job_id: int):
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, "no_job", f"there is no folder job {job_id}")
        return job

    @bp.post("/catalog/shoot")
    def set_shoot():
        data = body()
        ids = int_list(data, "ids", MAX_IDS)
        shoot = _shoot(data)
        return {"changed": store.set_photos_shoot(ids, shoot), "shoot": shoot}

    @bp.post("/catalog/remove")
    def remove():
        ids = int_list(body(), "ids", MAX_IDS)
        removed = store.remove_photos(ids)
        for photo_id in removed:
            pipeline.matcher.remove(photo_id)
        return {"removed": removed, "files_kept": True}

    return bp
