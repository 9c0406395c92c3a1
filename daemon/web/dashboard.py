"""The seller's dashboard: static pages (ES modules, no build step) plus the API routes they need.

The page itself holds no data and no secret: `/` and `/static/` serve only files. The
script takes the token from the URL fragment that `picguard serve` prints
(`http://127.0.0.1:8765/#token=...`; a fragment is never sent to a server or logged), keeps
it in localStorage for this origin, strips it from the address bar, and sends it as
`Authorization: Bearer` on every /api/v1 call. The strict CSP allows no inline script and
no other origin, so nothing injected into the page can read or send the token elsewhere.
"""

from __future__ import annotations

from flask import Blueprint

from daemon.monitor.pipeline import Pipeline
from daemon.monitor.scheduler import Monitor
from daemon.web.api_alert_board import create_alert_board_api
from daemon.web.api_catalog import create_catalog_api
from daemon.web.api_monitoring import create_monitoring_api
from daemon.web.api_proof import create_proof_api
from daemon.web.api_settings import create_settings_api

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def create_dashboard(pipeline: Pipeline | None = None, monitor: Monitor | None = None) -> Blueprint:
    """`/` serves static/dashboard.html under a strict CSP; with an engine, the dashboard's
    API blueprints (alert board, catalog, monitoring, proof, settings) are nested in it."""
    bp = Blueprint("dashboard", __name__, static_folder="static", static_url_path="/static")

    @bp.get("/")
    def index():
        response = bp.send_static_file("dashboard.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    @bp.after_app_request
    def _headers(response):
        # every answer, API included: no framing, no sniffing, no referrer, strict CSP
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    if pipeline is not None and monitor is not None:
        store, settings = pipeline.store, pipeline.settings
        for child in (create_alert_board_api(store, settings), create_catalog_api(pipeline),
                      create_monitoring_api(pipeline, monitor),
                      create_proof_api(store, settings), create_settings_api(settings)):
            bp.register_blueprint(child)
    return bp
