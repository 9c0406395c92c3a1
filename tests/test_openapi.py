"""docs/openapi.yaml stays true: every /api/v1 route the daemon serves is in it, and vice versa."""

from __future__ import annotations

import re

import pytest
import yaml

from daemon.config import load_settings
from daemon.web.api_openapi import REPO_DOCUMENT
from daemon.web.app import create_app

BASE = "http://127.0.0.1:8765"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture()
def app(tmp_path):
    app = create_app(load_settings(tmp_path))
    yield app
    app.extensions["picguard"]["pipeline"].store.close()


def _flask_routes(app) -> set[tuple[str, str]]:
    """(METHOD, /api/v1/path/{param}) for every Flask rule under /api/v1."""
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((method, path))
    return out


def _document_routes(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items()
            for method in item if method in HTTP_METHODS}


def test_every_route_is_documented_and_every_documented_route_exists(app) -> None:
    document = yaml.safe_load(REPO_DOCUMENT.read_text(encoding="utf-8"))
    served, documented = _flask_routes(app), _document_routes(document)
    assert served, "no /api/v1 routes found: the test would prove nothing"
    assert not served - documented, f"routes missing from docs/openapi.yaml: {served - documented}"
    assert not documented - served, f"documented but not served: {documented - served}"


def test_document_is_valid_openapi_3() -> None:
    from openapi_spec_validator import validate

    document = yaml.safe_load(REPO_DOCUMENT.read_text(encoding="utf-8"))
    validate(document)
    assert document["openapi"].startswith("3.")
    # only ping is public; everything else inherits the bearer requirement
    public = {path for path, item in document["paths"].items()
              for m, op in item.items() if m in HTTP_METHODS and op.get("security") == []}
    assert public == {"/api/v1/ping"}


def test_openapi_json_is_served_behind_the_token(app) -> None:
    client = app.test_client()
    r = client.get("/api/v1/openapi.json", base_url=BASE)
    assert r.status_code == 401 and r.get_json()["code"] == "bad_token"
    token = app.extensions["picguard"]["settings"].token_path.read_text().strip()
    r = client.get("/api/v1/openapi.json", base_url=BASE,
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["openapi"].startswith("3.") and "/api/v1/pages" in body["paths"]
