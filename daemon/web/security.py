"""The guards in front of every request to the localhost daemon.

Any web page can send requests to 127.0.0.1, so the daemon trusts nothing by default:
Host (DNS rebinding), Origin (only the paired extension), token, content type and size.
Anchors: Zotero's connector server, Jupyter, Syncthing.
"""

from __future__ import annotations

import hmac
import re
import threading
from pathlib import Path

from flask import Flask, request

from daemon.config import Settings
from daemon.web.tokens import load_or_create_token

EXTENSION_ORIGINS = (
    re.compile(r"chrome-extension://[a-p]{32}"),
    re.compile(r"moz-extension://[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
)
PUBLIC_ROUTES = {"/api/v1/ping", "/", "/favicon.ico"}
PUBLIC_PREFIXES = ("/static/",)
# Routes that take multipart/form-data instead of JSON, with their body cap in bytes
# (daemon/web/api_catalog.py: one camera original per request).
UPLOAD_ROUTES = {"/api/v1/catalog/upload": 200 * 1024 * 1024}


class ApiError(Exception):
    """An HTTP error answered as `{"error": ..., "code": ...}` with a plain-words message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class TokenKeeper:
    """The current token, re-read when `picguard token --rotate` changes the file."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._mtime = -1.0
        self._token = load_or_create_token(path)

    def current(self) -> str:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime
            except FileNotFoundError:
                mtime = -2.0
            if mtime != self._mtime:
                self._token = load_or_create_token(self.path)
                self._mtime = self.path.stat().st_mtime
            return self._token


def allowed_hosts(port: int) -> set[str]:
    return {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}


def origin_allowed(origin: str, settings: Settings, host: str) -> bool:
    """Extension origins, the daemon's own pages, and origins the seller added by hand."""
    if any(p.fullmatch(origin) for p in EXTENSION_ORIGINS):
        return True
    return origin == f"http://{host}" or origin in settings.extra_origins


def cors_origins(settings: Settings) -> list:
    """Anchored patterns for flask-cors: CORS headers only ever go to extension origins."""
    return [*EXTENSION_ORIGINS, *settings.extra_origins]


def install_guards(app: Flask, settings: Settings, tokens: TokenKeeper) -> None:
    """Check Host, Origin, token, content type and size before any view runs."""

    @app.before_request
    def _guard() -> None:
        host = request.host.lower()
        if host not in allowed_hosts(settings.port):
            raise ApiError(403, "bad_host", (
                f"requests must be addressed to 127.0.0.1:{settings.port} or "
                f"localhost:{settings.port}; Host {host!r} is refused (DNS rebinding guard)"))
        origin = request.headers.get("Origin")
        if origin is not None and not origin_allowed(origin, settings, host):
            raise ApiError(403, "bad_origin", (
                f"origin {origin!r} may not call PicGuard; only the PicGuard browser "
                "extension may. Pair the extension from its options page"))
        if request.method == "OPTIONS":
            return  # CORS preflight carries no token; flask-cors answers it
        path = request.path
        if path not in PUBLIC_ROUTES and not path.startswith(PUBLIC_PREFIXES):
            sent = request.headers.get("Authorization", "")
            scheme, _, token = sent.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                token.strip().encode(), tokens.current().encode()
            ):
                raise ApiError(401, "bad_token", (
                    "missing or wrong pairing token; send 'Authorization: Bearer <token>' "
                    "with the token that `picguard token` prints"))
        if request.method in {"POST", "PUT", "PATCH"} and path in UPLOAD_ROUTES:
            # The dashboard's photo upload: multipart (one original per request), behind the
            # same token and Origin checks, with its own size cap.
            request.max_content_length = UPLOAD_ROUTES[path]
            if request.mimetype != "multipart/form-data":
                raise ApiError(415, "bad_content_type", (
                    "upload photos as multipart/form-data (field 'file'); the dashboard does"))
            return
        if request.method in {"POST", "PUT", "PATCH"}:
            length = request.content_length
            if length is not None and length > settings.max_body_bytes:
                raise ApiError(413, "too_large", (
                    f"request body is {length} bytes, over the {settings.max_body_bytes} "
                    "byte limit; send a smaller page or image"))
            if request.mimetype != "application/json":
                raise ApiError(415, "bad_content_type", (
                    f"content type {request.mimetype or 'none'!r} is not accepted; "
                    "send a JSON body with 'Content-Type: application/json'"))
