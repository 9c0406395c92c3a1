"""Backups: a snapshot taken while the real daemon runs restores into a new data dir with the
same catalog, the same alerts and a ledger that verifies with its RFC 3161 tokens; damaged
backups are caught; a failed write leaves nothing under the backup's name; scheduled
backups keep the last N and show in /api/v1/status."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import zipfile
from pathlib import Path

import pytest

from daemon.backup import snapshot
from daemon.backup.schedule import backups_in, scheduled_backup
from daemon.backup.snapshot import BackupError, make_backup, sha256_file
from daemon.backup.verify import verify_backup
from daemon.config import load_settings, save_settings
from daemon.provenance.tsa import TSA_ROOTS_DIR
from daemon.store import Store
from daemon.web.app import create_app
from tests.daemon_support import Daemon, picguard
from tests.tsa_support import LocalTsa


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    """A data dir with the demo's photos and alerts, and its ledger head stamped by a local
    TSA (whose root the seller added to tsa-roots/); the TSA is gone afterwards."""
    root = tmp_path_factory.mktemp("backup")
    data = root / "data"
    picguard("demo", "--no-serve", "--data-dir", str(data), data_dir=data, timeout=300)
    with LocalTsa(root / "tsa") as tsa:
        settings = load_settings(data)
        settings.tsa_urls = [tsa.url]
        save_settings(settings)
        (data / TSA_ROOTS_DIR).mkdir()
        shutil.copy(tsa.ca_pem, data / TSA_ROOTS_DIR / "local-tsa.pem")
        picguard("ledger", "stamp", data_dir=data)
    return data


def _lines(proc) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def test_backup_while_the_daemon_runs_restores_the_same_data(demo_dir: Path,
                                                              tmp_path: Path) -> None:
    daemon = Daemon(demo_dir).start()
    stop = threading.Event()
    statuses: list[int] = []

    def busy() -> None:  # the daemon keeps answering and writing during the backup
        n = 0
        while not stop.is_set():
            n += 1
            statuses.append(daemon.post("pages", {
                "url": f"https://www.aliexpress.com/item/9{n}.html",
                "html": "<html><title>x</title></html>"}).status_code)

    thread = threading.Thread(target=busy)
    thread.start()
    try:
        made = json.loads(picguard("backup", str(tmp_path / "b.zip"), "--json",
                                   data_dir=demo_dir).stdout)
    finally:
        stop.set()
        thread.join(30)
        daemon.stop()
    assert statuses and max(statuses) < 500
    photos = len(_lines(picguard("catalog", "list", "--json", data_dir=demo_dir)))
    assert photos >= 3 and made["photos"] == photos and made["ledger_head"]["seq"] >= photos
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        names = set(zf.namelist())
    assert {"manifest.json", "picguard.sqlite3", "ledger-ed25519.pem", "settings.json",
            "catalog.json", "tsa-roots/local-tsa.pem"} <= names
    assert not any(n.startswith("originals/") for n in names)  # only hashes and paths
    check = json.loads(picguard("backup", "--verify", str(tmp_path / "b.zip"), "--json",
                                data_dir=demo_dir).stdout)
    assert check["ok"] and check["timestamps"]["ok"] == 1 and check["ledger"]["ok"]

    new = tmp_path / "restored"
    picguard("--data-dir", str(new), "restore", str(tmp_path / "b.zip"), data_dir=new)
    for args in (("catalog", "list", "--json"), ("alerts", "--json", "--all")):
        before, after = picguard(*args, data_dir=demo_dir), picguard(*args, data_dir=new)
        assert _lines(after) == _lines(before) and _lines(after), args
    verify = json.loads(picguard("ledger", "verify", "--json", data_dir=new).stdout)
    assert verify["ok"] and verify["timestamps"]["ok"] == 1
    assert verify["registrations"]["covered"] == photos
    assert (new / "ledger-ed25519.pem").stat().st_mode & 0o777 == 0o600
    # the restored key is the ledger's own: new entries are signed by it, no key change
    keys = Store(new / "picguard.sqlite3").ledger_keys()
    assert len(keys) == 1
    # never over existing data
    again = picguard("--data-dir", str(new), "restore", str(tmp_path / "b.zip"), data_dir=new,
                     check=False)
    assert again.returncode == 2 and "already holds PicGuard data" in again.stderr


def test_folder_backup_with_originals_and_damage_is_caught(demo_dir: Path,
                                                           tmp_path: Path) -> None:
    settings = load_settings(demo_dir)
    store = Store(settings.db_path)
    try:
        result = make_backup(settings, store, tmp_path / "full", originals=True)
    finally:
        store.close()
    assert result.originals == result.photos >= 3 and not result.missing_originals
    folder = tmp_path / "full"
    catalog = json.loads((folder / "catalog.json").read_text())
    for item in catalog:
        assert sha256_file(folder / item["backup_file"]) == item["sha256"]
    assert verify_backup(folder).ok
    # restored elsewhere with the registered files gone: the catalog points at the copies
    moved = tmp_path / "moved-away"
    shutil.copytree(folder, moved)
    item = catalog[0]
    (moved / "catalog.json").write_text(json.dumps(
        [{**c, "path": str(tmp_path / "gone" / c["file_name"])} for c in catalog]))
    _refresh_manifest(moved)
    picguard("--data-dir", str(tmp_path / "r2"), "restore", str(moved), data_dir=tmp_path / "r2")
    photo = Store(tmp_path / "r2" / "picguard.sqlite3").get_photo(item["id"])
    assert photo["path"] == str(tmp_path / "r2" / item["backup_file"])
    assert sha256_file(Path(photo["path"])) == photo["sha256"]

    # 1. a changed file
    (folder / "settings.json").write_text("{}")
    check = verify_backup(folder)
    assert not check.ok and any("settings.json: changed" in p for p in check.problems)
    # 2. a damaged database whose manifest was "fixed" to match: SQLite's check catches it
    db = folder / "picguard.sqlite3"
    raw = bytearray(db.read_bytes())
    page = int.from_bytes(raw[16:18], "big")
    for n in range(1, min(len(raw) // page, 12)):  # b-tree page headers of pages 2..12
        raw[n * page] = 0x00
    db.write_bytes(bytes(raw))
    _refresh_manifest(folder)
    check = verify_backup(folder)
    assert not check.ok
    assert any("integrity" in p or "cannot be opened" in p or "ledger" in p
               for p in check.problems), check.problems
    # 3. a ledger rewritten inside a well-formed database
    clean = tmp_path / "clean"
    store = Store(settings.db_path)
    make_backup(settings, store, clean)
    store.close()
    conn = sqlite3.connect(clean / "picguard.sqlite3")
    conn.execute("DROP TRIGGER ledger_no_update")
    conn.execute("UPDATE ledger SET time = '2020-01-01T00:00:00.000Z' WHERE seq = 1")  # backdated
    conn.commit()
    conn.close()
    _refresh_manifest(clean)
    check = verify_backup(clean)
    assert any(p.startswith("ledger entry 1:") for p in check.problems), check.problems
    result = picguard("backup", "--verify", str(clean), data_dir=demo_dir, check=False)
    assert result.returncode == 1 and "PROBLEM: ledger entry 1" in result.stderr
    bad = picguard("--data-dir", str(tmp_path / "r3"), "restore", str(clean),
                   data_dir=tmp_path / "r3", check=False)
    assert bad.returncode == 2 and "does not verify" in bad.stderr
    assert not (tmp_path / "r3" / "picguard.sqlite3").exists()


def _refresh_manifest(folder: Path) -> None:
    """What a forger would do: make the manifest's hashes match the edited files."""
    manifest = json.loads((folder / "manifest.json").read_text())
    for item in manifest["files"]:
        item["sha256"] = sha256_file(folder / item["path"])
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_failed_zip_write_leaves_nothing_behind(demo_dir: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real = snapshot._zip_folder

    def full_disk(folder, out) -> None:  # noqa: ANN001
        real(folder, out)  # the whole archive is written, then the disk "fills"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot, "_zip_folder", full_disk)
    settings = load_settings(demo_dir)
    store = Store(settings.db_path)
    try:
        with pytest.raises(BackupError, match="No space left"):
            make_backup(settings, store, tmp_path / "out" / "b.zip")
    finally:
        store.close()
    assert list((tmp_path / "out").iterdir()) == []  # no b.zip, no temp file, no stage


def test_scheduled_backups_keep_the_last_n_and_show_in_status(demo_dir: Path,
                                                              tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    settings = load_settings(data)
    settings.backup_dir = str(tmp_path / "usb")
    settings.backup_keep = 2
    save_settings(settings)
    app = create_app(settings)
    store = app.extensions["picguard"]["pipeline"].store
    try:
        assert scheduled_backup(settings, store)["done"]
        assert scheduled_backup(settings, store)["reason"] == "backed up recently"
        for _ in range(2):
            assert scheduled_backup(settings, store, force=True)["done"]
        kept = backups_in(tmp_path / "usb")
        assert len(kept) == 2  # the oldest of three was pruned
        assert verify_backup(kept[-1]).ok
        token = settings.token_path.read_text().strip()
        status = app.test_client().get(
            "/api/v1/status", base_url=f"http://127.0.0.1:{settings.port}",
            headers={"Authorization": f"Bearer {token}"}).get_json()
        backup = status["backup"]
        assert backup["enabled"] and backup["count"] == 2 and backup["keep"] == 2
        assert backup["last"]["ok"] and backup["last"]["path"] == str(kept[-1])
        assert backup["newest"] == kept[-1].name
        assert status["timestamps"]["tokens"] == 1
        # a folder that cannot be written: recorded, shown, retried at the next check
        (tmp_path / "blocked").write_text("a file, not a folder")
        settings.backup_dir = str(tmp_path / "blocked")
        failed = scheduled_backup(settings, store)
        assert not failed["done"] and failed["error"]
        assert "error" in scheduled_backup(settings, store)  # retried, not "recently"
    finally:
        store.close()
    cli = picguard("config", "set", "backup_keep", "5", data_dir=data)
    assert "backup_keep = 5" in cli.stdout
