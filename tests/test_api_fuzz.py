"""Hostile HTTP input, fuzzed: schemathesis against the real daemon (`picguard serve`).

Every operation in docs/openapi.yaml gets valid and invalid requests (bounded examples, so
the run stays around a minute): never a 5xx, and every error is the documented
`{"error": "...", "code": "snake_case"}` object.
"""

from __future__ import annotations

import re

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from daemon.web.api_openapi import REPO_DOCUMENT
from tests.daemon_support import Daemon

EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 10}
CODE = re.compile(r"[a-z0-9_]+")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("fuzz")
    d = Daemon(data_dir).start()
    yield d
    d.stop()


def _check(response: requests.Response, label: str, failures: list[str]) -> None:
    if response.status_code >= 500:
        failures.append(f"{label}: {response.status_code} {response.text[:300]}")
        return
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            failures.append(f"{label}: {response.status_code} answer is not JSON: "
                            f"{response.text[:200]!r}")
            return
        # the documented shape: both fields always (a route may add context, e.g. a job id)
        if not (isinstance(body, dict) and {"error", "code"} <= set(body)
                and isinstance(body["error"], str) and body["error"]
                and isinstance(body["code"], str) and CODE.fullmatch(body["code"])):
            failures.append(f"{label}: {response.status_code} error not in the "
                            f"{{error, code}} shape: {body!r}")


def _fuzz(daemon, operation, mode: GenerationMode, count: int, session: requests.Session,
          failures: list[str], sent: list[int]) -> None:
    """`count` generated requests for one operation in one mode, each checked."""

    @settings(max_examples=count, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        # read per request: POST /token/rotate may have replaced the token
        headers = {**daemon.headers(), **(case.headers or {})}
        response = case.call(base_url=daemon.url, session=session, headers=headers, timeout=30)
        sent[0] += 1
        _check(response, f"{mode.value} {case.method} {case.formatted_path}", failures)

    try:
        run()
    except Unsatisfiable:
        # nothing to make invalid (e.g. GET /ping has no parameters or body)
        assert mode is GenerationMode.NEGATIVE


@pytest.mark.slow
def test_schemathesis_finds_no_5xx_and_only_documented_errors(daemon) -> None:
    schema = schemathesis.openapi.from_dict(yaml.safe_load(REPO_DOCUMENT.read_text()))
    session = requests.Session()
    failures: list[str] = []
    sent = [0]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        for mode, count in EXAMPLES.items():
            _fuzz(daemon, operation, mode, count, session, failures, sent)
    print(f"schemathesis: {sent[0]} requests over {len(operations)} operations, "
          f"{len(failures)} failures")
    assert not failures, "\n".join(failures[:30])
    assert sent[0] >= 10 * len(operations)

JSON = {"Content-Type": "application/json"}
BIG = "9" * 30
# Requests schemathesis rarely builds but an attacker would: each was a 500 before
# daemon/web/hardening.py and the URL checks in monitor/ingest.py (first six), or guards a
# path that must stay a clean 4xx.
HOSTILE = [
    ("GET", f"alerts?since={BIG}", None, {}),
    ("GET", f"alerts?limit=-{BIG}", None, {}),
    ("GET", f"alerts/{BIG}", None, {}),
    ("GET", f"alerts/{BIG}/evidence", None, {}),
    ("POST", f"alerts/{BIG}", '{"action": "confirm"}', JSON),
    ("DELETE", f"watch/{BIG}", None, {}),
    ("POST", "pages", "[" * 100_000 + "]" * 100_000, JSON),
    ("POST", "pages", '{"url": "https://[::1/item/1.html", "html": "<p>x</p>"}', JSON),
    ("POST", "watch", '{"url": "http://\\ud800.com/"}', JSON),
    ("POST", "images/verdicts", '{"page_url": "https://a.com/", "urls": ["http://\\udfff/"]}',
     JSON),
    ("POST", "pages", '{"url": "https://www.aliexpress.com/item/1.html", "html": "\\ud800"}',
     JSON),
    ("POST", "check", '{"image": "\\ud800"}', JSON),
    ("POST", "check", '{"url": "https://[::1/a.jpg"}', JSON),
    ("POST", "check", '{"url": "http://127.0.0.1:1/a.jpg"}', JSON),
    ("POST", "check", '{"image": "=="}', JSON),
    ("POST", "pages", b"\xff\xfe{}", JSON),
    ("POST", "pages", "{bad json", JSON),
    ("POST", "pages", "null", JSON),
    ("POST", "pages", '{"url": "https://a.com/x", "html": "<p>x</p>"}',
     {"Content-Type": "text/plain"}),
    ("POST", "pages", '{"url": 1e999, "html": NaN}', JSON),
    ("POST", "images/verdicts", '{"page_url": "https://a.com/", "urls": [1, null, {}, []]}',
     JSON),
    ("PUT", "pages", "{}", JSON),
    ("GET", "alerts/-1", None, {}),
    ("GET", "alerts?state=%00&order=%FF", None, {}),
    ("GET", "nope", None, {}),
]


@pytest.mark.parametrize(("method", "path", "body", "headers"), HOSTILE,
                         ids=[f"{m} {p[:40]}" for m, p, _, _ in HOSTILE])
def test_hostile_requests_get_clean_4xx(daemon, method, path, body, headers) -> None:
    failures: list[str] = []
    response = requests.request(method, f"{daemon.url}/api/v1/{path}", data=body,
                                headers={**daemon.headers(), **headers}, timeout=30)
    _check(response, f"{method} {path[:60]}", failures)
    assert not failures, failures
    assert response.status_code < 500


def test_daemon_survived_the_fuzzing(daemon) -> None:
    assert daemon.proc.poll() is None
    assert daemon.get("status").status_code == 200
    # the 500 handler logs "unexpected error" with the traceback: none may have happened
    assert "unexpected error" not in daemon.log()
