"""`picguard demo`: a fresh machine, no network, and it ends with copied alerts and a daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import requests

from tests.daemon_support import REPO, free_port, picguard


def test_demo_prints_copied_alerts(tmp_path) -> None:
    data = tmp_path / "demo"
    proc = picguard("demo", "--no-serve", "--data-dir", str(data), data_dir=tmp_path / "unused")
    assert "3 alert(s):" in proc.stdout, proc.stdout + proc.stderr
    assert proc.stdout.count(" copied ") == 3
    out = picguard("alerts", "--json", data_dir=data).stdout
    alerts = [json.loads(line) for line in out.splitlines()]
    assert {a["own"]["file_name"] for a in alerts} == {"dress-red.jpg", "shirt.jpg", "shoes.jpg"}
    assert {a["other"]["store_name"] for a in alerts} == {"Copycat Store"}
    # the seller's own store and the unrelated store raise nothing
    assert all(a["other"]["store_id"] == "900002" for a in alerts)


def test_demo_leaves_the_daemon_running(tmp_path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon", "demo", "--port", str(port), "--data-dir",
         str(tmp_path / "demo")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=REPO, env={**os.environ})
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Pairing token"):
                break
        token = lines[-1].rsplit(" ", 1)[1].strip()
        r = requests.get(f"http://127.0.0.1:{port}/api/v1/alerts",
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.ok and len(r.json()["alerts"]) == 3
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
