"""One daemon per data dir (a lock taken by `serve`), and CLI writes beside a running daemon:
real `picguard serve` processes, a real `catalog add` of real photos while the daemon answers."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from tests.daemon_support import REPO, Daemon, free_port, picguard


def test_second_serve_on_the_same_data_dir_exits_2_naming_the_holder(data_dir: Path) -> None:
    first = Daemon(data_dir).start()
    try:
        info = json.loads((data_dir / "daemon.json").read_text())
        assert info["pid"] == first.proc.pid and info["port"] == first.port
        other_port = free_port()  # another port: only the lock can stop it
        second = picguard("serve", "--port", str(other_port), data_dir=data_dir, check=False,
                          timeout=60)
        assert second.returncode == 2, second.stdout + second.stderr
        message = second.stderr.strip().splitlines()[-1]
        assert "already running" in message
        assert f"process {first.proc.pid}" in message
        assert f"http://127.0.0.1:{first.port}/" in message
        assert first.get("status").ok  # the first daemon is untouched
    finally:
        assert first.stop() == 0
    assert not (data_dir / "daemon.json").exists()
    # stopped cleanly: the data dir is free again, also for a daemon killed outright
    again = Daemon(data_dir).start()
    again.stop(signal.SIGKILL)
    third = Daemon(data_dir).start()  # the OS released the dead process's lock
    assert third.stop() == 0


def test_a_daemon_on_another_data_dir_is_not_affected(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    a = Daemon(tmp_path / "a").start()
    b = Daemon(tmp_path / "b").start()
    try:
        assert a.get("status").ok and b.get("status").ok
    finally:
        a.stop()
        b.stop()


def test_catalog_add_while_the_daemon_serves_and_writes(data_dir: Path, photos_dir: Path) -> None:
    """The daemon keeps answering (and writing: token checks, status, ledger backfill) while
    `picguard catalog add` registers real photos in another process; nothing is lost or
    corrupted, and both see the same catalog and a ledger that verifies."""
    photos = sorted((photos_dir / "clothing").rglob("*.jpg"))[:12]
    assert len(photos) == 12
    daemon = Daemon(data_dir).start()
    errors: list[str] = []
    answers = {"n": 0}
    stop = threading.Event()

    def hammer() -> None:  # status reads plus pushes (writes) the whole time
        while not stop.is_set():
            r = daemon.get("status")
            if r.status_code != 200:
                errors.append(f"status {r.status_code}")
            answers["n"] += 1
            page = daemon.post("pages", {"url": f"https://www.aliexpress.com/item/{answers['n']}"
                                         ".html", "html": "<html><title>x</title></html>"})
            if page.status_code >= 500:
                errors.append(f"pages {page.status_code}: {page.text}")

    thread = threading.Thread(target=hammer)
    try:
        thread.start()
        add = subprocess.run([sys.executable, "-m", "daemon", "catalog", "add", *map(str, photos),
                              "--shoot", "concurrent", "--json"], capture_output=True, text=True,
                             env=daemon.env, cwd=REPO, timeout=600)
        stop.set()
        thread.join(60)
        assert add.returncode == 0, add.stderr
        report = json.loads(add.stdout)
        assert len(report["added"]) == 12 and not report["failed"]
        assert not errors, errors[:5]
        assert answers["n"] > 3  # the daemon really was busy meanwhile
        assert daemon.get("status").json()["catalog"]["photos"] == 12
        ids = {p["id"] for p in report["added"]}
        listed = [json.loads(line) for line in picguard("catalog", "list", "--json",
                                                       data_dir=data_dir).stdout.splitlines()]
        assert {p["id"] for p in listed} == ids
        verify = json.loads(picguard("ledger", "verify", "--json", data_dir=data_dir).stdout)
        assert verify["ok"] and verify["entries"] >= 12
    finally:
        stop.set()
        daemon.stop()
    conn = sqlite3.connect(data_dir / "picguard.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
