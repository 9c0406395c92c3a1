"""The `/api/v1` blueprint (docs/API.md). Views validate input and call the engine; no SQL here."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from daemon import __version__
from daemon.backup.schedule import backup_status
from daemon.monitor.alerts import alert_view, photo_thumb
from daemon.monitor.ingest import PageError, RefusedImagesError, ingest_page
from daemon.monitor.pipeline import Pipeline
from daemon.monitor.scheduler import Monitor
from daemon.monitor.sweeps import Sweeper
from daemon.monitor.verdicts import image_verdicts
from daemon.monitor.watches import WatchUrlError, check_watch_url
from daemon.provenance.timestamps import Stamper
from daemon.store import ALERT_ACTIONS, ALERT_STATES
from daemon.store.alerts import AlertWithdrawnError
from daemon.store.sweeps import CHANNELS
from daemon.web.hardening import clamp_id
from daemon.web.security import ApiError
from daemon.web.validate import body, field

MAX_VERDICT_URLS = 500


MAX_CAPTURED = 20


def _captured(value: object) -> dict | None:
    """The marketplace API answers the extension captured with a page, as the parsers take
    them: `[{url, json}]` -> that one answer, or `{"responses": [...]}` for several (results
    that arrived by scrolling, Shopee's item and search answers)."""
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) > MAX_CAPTURED
            or not all(isinstance(e, dict) and isinstance(e.get("json"), dict) for e in value)):
        raise ApiError(400, "bad_field", (
            f"captured must be a list of at most {MAX_CAPTURED} objects "
            "{url, json} with the marketplace's JSON answers; send the page without it"))
    answers = [entry["json"] for entry in value]
    if not answers:
        return None
    return answers[0] if len(answers) == 1 else {"responses": answers}


def create_api(pipeline: Pipeline, monitor: Monitor) -> Blueprint:
    """The API blueprint bound to one engine (pipeline: store, settings, fetcher, matcher)."""
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    store, settings = pipeline.store, pipeline.settings

    @api.get("/ping")
    def ping():
        return {"app": "picguard", "api": 1}

    @api.post("/pages")
    def push_page():
        data = body()
        url, html = field(data, "url", str), field(data, "html", str)
        mtop = field(data, "mtop", dict, required=False)
        if mtop is None:
            mtop = _captured(data.get("captured"))
        channel = field(data, "channel", str, required=False) or "browsing"
        if channel not in CHANNELS:
            raise ApiError(400, "bad_channel", f"channel must be one of {', '.join(CHANNELS)}")
        sweep_id = data.get("sweep_id")
        if sweep_id is not None and (isinstance(sweep_id, bool) or not isinstance(sweep_id, int)):
            raise ApiError(400, "bad_field", "sweep_id must be the id of a sweep task (a number)")
        pool = current_app.extensions["picguard"].get("parse_pool")  # set by `serve`
        try:
            answer = ingest_page(store, settings, url, html, mtop=mtop, source="extension",
                                 channel=channel, task_id=sweep_id,
                                 parse=pool.parse if pool else None)
        except RefusedImagesError as exc:
            raise ApiError(422, "refused_address", str(exc)) from exc
        except PageError as exc:
            raise ApiError(400, "bad_page", str(exc)) from exc
        if answer["images"]["new"]:
            monitor.wake("fetch")
        return answer

    def _view(row: dict, thumbs: bool) -> dict:
        if not thumbs:
            return alert_view(row)
        image = store.get_image(row["image_id"])
        return alert_view(row, own_thumb=photo_thumb(row["path"]),
                          other_thumb=image["thumb"] if image else None)

    @api.get("/alerts")
    def list_alerts():
        state = request.args.get("state", "new")
        if state not in (*ALERT_STATES, "all"):
            raise ApiError(400, "bad_state", f"state must be one of {', '.join(ALERT_STATES)} "
                           "or all")
        try:
            since = clamp_id(int(request.args.get("since", 0)))
            limit = min(max(int(request.args.get("limit", 50)), 1), 500)
        except ValueError as exc:
            raise ApiError(400, "bad_number", "since and limit must be whole numbers") from exc
        thumbs = request.args.get("thumbs", "1") != "0"
        order = request.args.get("order", "asc")
        if order not in {"asc", "desc"}:
            raise ApiError(400, "bad_order", "order must be asc (oldest first) or desc")
        rows = store.list_alerts(state=state, since=since, limit=limit,
                                 newest_first=order == "desc")
        return {"alerts": [_view(r, thumbs) for r in rows], "counts": store.alert_counts()}

    @api.get("/alerts/<int:alert_id>")
    def get_alert(alert_id: int):
        row = store.get_alert(alert_id)
        if row is None:
            raise ApiError(404, "no_alert", f"there is no alert {alert_id}; list them first")
        return _view(row, thumbs=True)

    @api.get("/alerts/<int:alert_id>/evidence")
    def alert_evidence(alert_id: int):
        """The evidence pack ZIP (issue 7); 409 when originals carry GPS and include_gps!=1."""
        import tempfile

        from flask import send_file

        from daemon.evidence import EvidenceError, build_pack

        lang = request.args.get("lang", "zh")
        if lang not in ("zh", "en"):
            raise ApiError(400, "bad_lang", "lang must be zh or en")
        out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
        try:
            build_pack(store, settings, alert_id, out, lang=lang,
                       include_gps=request.args.get("include_gps") == "1")
        except EvidenceError as exc:
            out.close()
            raise ApiError(exc.status, exc.code, exc.message) from exc
        out.seek(0)
        return send_file(out, mimetype="application/zip", as_attachment=True,
                         download_name=f"picguard-evidence-{alert_id}.zip")

    @api.post("/alerts/<int:alert_id>")
    def set_alert(alert_id: int):
        action = field(body(), "action", str)
        if action not in ALERT_ACTIONS:
            raise ApiError(400, "bad_action", "action must be confirm, dismiss or not_mine")
        try:
            if not store.set_alert_state(alert_id, action):
                raise ApiError(404, "no_alert", f"there is no alert {alert_id}; list them first")
        except AlertWithdrawnError as exc:
            raise ApiError(409, "alert_withdrawn", str(exc)) from exc
        return _view(store.get_alert(alert_id), thumbs=False)

    @api.get("/watch")
    def list_watches():
        return {"watches": store.list_watches()}

    @api.post("/watch")
    def add_watch():
        try:
            url = check_watch_url(field(body(), "url", str), settings)
        except WatchUrlError as exc:
            raise ApiError(422 if exc.code == "refused_address" else 400, exc.code,
                           exc.message) from exc
        listing = store.listing_by_url(url)
        watch_id = store.add_watch(url, listing["id"] if listing else None)
        return {"watch_id": watch_id, "url": url}

    @api.delete("/watch/<int:watch_id>")
    def remove_watch(watch_id: int):
        if not store.remove_watch(watch_id):
            raise ApiError(404, "no_watch", f"there is no watch {watch_id}")
        return {"removed": watch_id}

    @api.post("/images/verdicts")
    def verdicts():
        data = body()
        page_url = field(data, "page_url", str)
        urls = field(data, "urls", list)
        if len(urls) > MAX_VERDICT_URLS:
            raise ApiError(413, "too_many_urls",
                           f"at most {MAX_VERDICT_URLS} image URLs per request; send fewer")
        return {"verdicts": image_verdicts(store, settings, page_url, urls)}

    @api.get("/status")
    def status():
        return {"version": __version__, **store.status(),
                "scheduler": monitor.snapshot(),
                "coverage": Sweeper(store, settings).coverage(),
                "backup": backup_status(settings, store),
                "timestamps": Stamper(store, settings).status()}

    @api.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify(error=exc.message, code=exc.code), exc.status

    return api
