"""`GET /api/v1/openapi.json`: the API's OpenAPI 3 document (docs/openapi.yaml), behind the token.

docs/openapi.yaml is the one source; a wheel carries a copy inside daemon/web/ (setup.py copies
it at build time), so an installed daemon serves the same document as a checkout.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from flask import Blueprint

REPO_DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def load_openapi() -> dict:
    """The parsed document: the checkout's docs/openapi.yaml, else the copy in the package."""
    if REPO_DOCUMENT.is_file():
        text = REPO_DOCUMENT.read_text(encoding="utf-8")
    else:
        text = (resources.files("daemon.web") / "openapi.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def create_openapi_api() -> Blueprint:
    """The blueprint serving the document; parsed once, when the app is built."""
    bp = Blueprint("api_openapi", __name__, url_prefix="/api/v1")
    document = load_openapi()

    @bp.get("/openapi.json")
    def openapi():
        return document

    return bp
