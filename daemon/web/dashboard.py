"""The daemon's own pages: a small bilingual dashboard that reads the API with the token.

The page itself holds no data; its script takes the token from the URL fragment (never sent
to a server or logged) or asks for it, keeps it in sessionStorage, and calls /api/v1.
"""

from __future__ import annotations

from flask import Blueprint


def create_dashboard() -> Blueprint:
    """`/` serves static/dashboard.html with a strict Content-Security-Policy."""
    bp = Blueprint("dashboard", __name__, static_folder="static", static_url_path="/static")

    @bp.get("/")
    def index():
        response = bp.send_static_file("dashboard.html")
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    return bp
