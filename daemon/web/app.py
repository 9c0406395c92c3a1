"""The app factory: builds the store, pipeline and scheduler once and hands them to the views."""

from __future__ import annotations

from flask import Flask, jsonify
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from daemon.config import Settings
from daemon.monitor.pipeline import Pipeline
from daemon.monitor.scheduler import Monitor
from daemon.store import Store
from daemon.web.api import create_api
from daemon.web.api_check import create_check_api
from daemon.web.api_openapi import create_openapi_api
from daemon.web.api_sweeps import create_sweeps_api
from daemon.web.dashboard import create_dashboard
from daemon.web.hardening import install_hardening
from daemon.web.security import ApiError, TokenKeeper, cors_origins, install_guards

# Plain-words answers for the errors Flask raises itself, before any view runs.
_HTTP_MESSAGES = {
    404: "no such route; see docs/API.md for the routes under /api/v1",
    405: "this route does not take that method; see docs/API.md",
    413: "the request body is too large; send a smaller page or image",
}


def create_app(settings: Settings, pipeline: Pipeline | None = None) -> Flask:
    """A Flask app serving the API and dashboard; the scheduler is built but not started.

    `app.extensions["picguard"]` holds the pipeline and monitor so `serve` can start and
    stop them; tests pass their own pipeline (e.g. with a loopback-allowed fetcher).
    """
    app = Flask(__name__)
    install_hardening(app)  # before any route: bounded <int:...> ids, depth-safe JSON
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False
    pipeline = pipeline or Pipeline(settings, Store(settings.db_path))
    monitor = Monitor(pipeline)
    tokens = TokenKeeper(settings.token_path)

    install_guards(app, settings, tokens)
    CORS(app, resources={r"/api/*": {"origins": cors_origins(settings)}},
         allow_headers=["Authorization", "Content-Type"], supports_credentials=False,
         methods=["GET", "POST", "DELETE", "OPTIONS"], max_age=600)
    app.register_blueprint(create_api(pipeline, monitor))
    app.register_blueprint(create_dashboard(pipeline, monitor))
    app.register_blueprint(create_openapi_api())
    app.register_blueprint(create_sweeps_api(pipeline))
    app.register_blueprint(create_check_api(pipeline))

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify(error=exc.message, code=exc.code), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        message = _HTTP_MESSAGES.get(exc.code or 500, exc.description or exc.name)
        return jsonify(error=message, code=exc.name.lower().replace(" ", "_")), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unexpected error")
        return jsonify(error=(f"PicGuard hit an unexpected error ({type(exc).__name__}); "
                              "nothing was changed. Try again, and report it if it repeats"),
                       code="internal"), 500

    app.extensions["picguard"] = {"pipeline": pipeline, "monitor": monitor,
                                  "settings": settings}
    return app
