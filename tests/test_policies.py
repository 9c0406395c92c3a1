"""Each policy exists once: these tests pin that every caller applies the same one."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import daemon
import scraper
from daemon.cli import main
from daemon.config import load_settings
from daemon.monitor.ingest import admissible_images
from daemon.monitor.watches import WatchUrlError, check_watch_url
from daemon.timeutil import backoff_seconds
from daemon.web.app import create_app

REPO = Path(__file__).resolve().parent.parent

WATCH_URLS = [
    ("https://www.aliexpress.com/item/1005008204179129.html", None),
    ("http://www.aliexpress.com/store/1102011", None),
    ("ftp://www.aliexpress.com/item/1.html", "bad_url"),
    ("https:///item/1.html", "bad_url"),
    ("javascript:alert(1)", "bad_url"),
    ("https://www.aliexpress.com/" + "a" * 2100, "bad_url"),
    ("http://127.0.0.1:8765/api/v1/status", "refused_address"),
    ("http://localhost/item/1.html", "refused_address"),
    ("http://192.168.1.1/item/1.html", "refused_address"),
    ("http://[::1]/item/1.html", "refused_address"),
]


@pytest.mark.parametrize(("url", "code"), WATCH_URLS)
def test_cli_and_api_refuse_the_same_watch_urls(tmp_path, monkeypatch, url, code) -> None:
    monkeypatch.delenv("PICGUARD_ALLOW_PRIVATE_HOSTS", raising=False)
    settings = load_settings(tmp_path)
    if code is None:
        assert check_watch_url(url, settings) == url
    else:
        with pytest.raises(WatchUrlError) as err:
            check_watch_url(url, settings)
        assert err.value.code == code

    cli = CliRunner().invoke(main, ["watch", "add", url, "--data-dir", str(tmp_path)])
    assert (cli.exit_code == 0) == (code is None), cli.output

    app = create_app(settings)
    try:
        token = settings.token_path.read_text().strip()
        answer = app.test_client().post(
            "/api/v1/watch", base_url=f"http://127.0.0.1:{settings.port}", json={"url": url},
            headers={"Authorization": f"Bearer {token}"})
        if code is None:
            assert answer.status_code == 200, answer.get_json()
        else:
            assert answer.status_code in (400, 422)
            assert answer.get_json()["code"] == code
    finally:
        app.extensions["picguard"]["pipeline"].store.close()


def test_private_images_are_refused_before_the_cap(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("PICGUARD_ALLOW_PRIVATE_HOSTS", raising=False)
    settings = dataclasses.replace(load_settings(tmp_path), max_images_per_page=20)
    cap = settings.max_images_per_page
    private = [{"url": f"http://10.0.0.{i}/a.jpg"} for i in range(cap)]
    public = [{"url": f"https://ae01.alicdn.com/kf/S{i}.jpg"} for i in range(cap + 3)]
    kept, refused, dropped = admissible_images(private + public, settings)
    assert refused == cap and dropped == 3
    assert kept == public[:cap]  # refused URLs did not use up the cap


def test_one_backoff_for_every_retry() -> None:
    for attempts, base in ((1, 60), (2, 120), (5, 960)):
        delays = [backoff_seconds(attempts) for _ in range(200)]
        assert base * 0.8 <= min(delays) and max(delays) <= base * 1.2
    assert backoff_seconds(50) <= 6 * 3600 * 1.2
    notify_src = (REPO / "daemon/monitor/notify.py").read_text()
    pipeline_src = (REPO / "daemon/monitor/pipeline.py").read_text()
    assert "backoff_seconds(" in notify_src and "backoff_seconds(" in pipeline_src
    assert "2 **" not in notify_src + pipeline_src, "a second backoff formula crept back in"


def test_one_version_string() -> None:
    manifest = json.loads((REPO / "extension/manifest.json").read_text())
    assert scraper.__version__ == daemon.__version__ == manifest["version"]
    setup_cfg = (REPO / "setup.cfg").read_text()
    assert "version = attr: daemon.__version__" in setup_cfg


@pytest.mark.parametrize(("env", "expected"), [(None, 1), ("2", 2)])
def test_explicit_omp_num_threads_wins(env, expected) -> None:
    code = ("import threading, daemon.matching.features, faiss\n"
            "out = []\n"
            "t = threading.Thread(target=lambda: out.append(faiss.omp_get_max_threads()))\n"
            "t.start(); t.join()\n"
            "print(faiss.omp_get_max_threads(), out[0])")
    environ = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if env is not None:
        environ["OMP_NUM_THREADS"] = env
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=environ, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == [str(expected), str(expected)]  # the main thread and a worker thread


def test_monitor_record_is_safe_to_read_while_jobs_write(tmp_path) -> None:
    app = create_app(load_settings(tmp_path))
    monitor = app.extensions["picguard"]["monitor"]
    job = monitor._recorded("probe", lambda: {"n": 1})
    errors: list[BaseException] = []

    def writer() -> None:
        for _ in range(2000):
            job()

    def reader() -> None:
        try:
            for _ in range(2000):
                snap = monitor.snapshot()
                json.dumps(snap)  # a copy: iterating it never sees a dict change size
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    app.extensions["picguard"]["pipeline"].store.close()
    assert not errors
    assert monitor.snapshot()["jobs"]["probe"]["result"] == {"n": 1}
