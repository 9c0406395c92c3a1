"""Faults that must not lose data: a full disk, a damaged database, SIGKILL, a flapping network.

The full-disk tests put the data dir on a real 16 MB tmpfs when this runs as root and may
mount (skipped, and said so, otherwise); an injected SQLITE_FULL at the store layer covers the
same path everywhere.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
from click.testing import CliRunner

from daemon.cli import main
from daemon.config import load_settings
from daemon.demo.shop import DemoItem, DemoShop, item_page, jpeg
from daemon.monitor import pipeline as pipeline_module
from daemon.monitor.ingest import ingest_page
from daemon.monitor.pipeline import Pipeline
from daemon.store import Store
from scraper.fetch import Fetcher
from tests.daemon_support import REPO, free_port, picguard
from tests.hostile_images import sample_photo

DB_NAME = "picguard.sqlite3"
# a photo row without its fingerprint row would be half a registration
NO_FINGERPRINT = ("SELECT count(*) FROM photos p WHERE NOT EXISTS "
                  "(SELECT 1 FROM fingerprints f WHERE f.photo_id = p.id)")


def _db(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{(data_dir / DB_NAME).resolve().as_uri()}?mode=ro", uri=True)


def _integrity(data_dir: Path) -> str:
    conn = _db(data_dir)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def _count(data_dir: Path, sql: str) -> int:
    conn = _db(data_dir)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def _env(data_dir: Path, **extra: str) -> dict:
    return {**os.environ, "PICGUARD_DATA_DIR": str(data_dir), **extra}


# ---- a full disk -------------------------------------------------------------------------


class SmallDisk:
    """A 16 MB tmpfs (room for the WAL to grow once freed); `fill(leave)` takes all but
    `leave` bytes, `free()` gives them back."""

    def __init__(self, mount: Path):
        self.mount = mount
        self.filler = mount / "filler"

    def fill(self, leave: int) -> None:
        stat = os.statvfs(self.mount)
        self.filler.write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave))

    def free(self) -> None:
        self.filler.unlink()


@pytest.fixture()
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.name != "posix" or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; test_disk_full_injected covers the path")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); "
                    "test_disk_full_injected covers the path")
    try:
        yield SmallDisk(mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _photos(photos_dir: Path) -> list[Path]:
    return sorted((photos_dir / "clothing" / "dress").glob("*.jpg"))


def test_disk_full_during_catalog_add(small_disk, photos_dir) -> None:
    data = small_disk.mount / "data"
    data.mkdir()
    photos = _photos(photos_dir)
    picguard("catalog", "add", str(photos[0]), data_dir=data)
    small_disk.fill(leave=100_000)
    proc = picguard("catalog", "add", *map(str, photos), data_dir=data, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "is full" in proc.stderr and "run the command again" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _integrity(data) == "ok"
    stored = _count(data, "SELECT count(*) FROM photos")
    assert 1 <= stored < len(photos)
    # every stored row is whole: fingerprint and features written with it
    assert _count(data, NO_FINGERPRINT) == 0

    small_disk.free()
    proc = picguard("catalog", "add", *map(str, photos), data_dir=data)
    assert _integrity(data) == "ok"
    assert _count(data, "SELECT count(*) FROM photos") == len({p.read_bytes() for p in photos})
    picguard("ledger", "verify", data_dir=data)


def _shop_with_images(n: int) -> tuple[DemoShop, DemoItem]:
    shop = DemoShop().start()
    names = []
    for i in range(n):
        names.append(f"S{i}.jpg")
        shop.images[names[-1]] = jpeg(sample_photo((640, 640), seed=100 + i), 90)
    item = DemoItem("1005000000000300", "300", "Store 300", "Item 300", names)
    shop.items[item.product_id] = item
    return shop, item


def _push(data: Path, shop: DemoShop, item: DemoItem) -> None:
    settings = load_settings(data)
    settings.allow_private_hosts = True
    store = Store(settings.db_path)
    try:
        answer = ingest_page(store, settings, f"https://www.aliexpress.com/item/"
                             f"{item.product_id}.html", item_page(item, shop.base_url))
        assert answer["images"]["new"] == len(item.images)
    finally:
        store.close()


def test_disk_full_during_scan(small_disk) -> None:
    data = small_disk.mount / "data"
    data.mkdir()
    shop, item = _shop_with_images(24)
    try:
        _push(data, shop, item)
        small_disk.fill(leave=250_000)
        env = {"PICGUARD_ALLOW_PRIVATE_HOSTS": "1"}
        proc = picguard("scan", "--once", "--json", data_dir=data, env=env, check=False)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "is full" in proc.stderr and "Traceback" not in proc.stderr
        assert _integrity(data) == "ok"
        fetched = _count(data, "SELECT count(*) FROM images WHERE status = 'fetched'")
        assert fetched < len(item.images)
        assert _count(data, "SELECT count(*) FROM images WHERE status = 'fetched' "
                            "AND (thumb IS NULL OR sha256 IS NULL)") == 0
        assert _count(data, "SELECT count(*) FROM images WHERE status = 'failed'") == 0

        small_disk.free()
        proc = picguard("scan", "--once", "--json", data_dir=data, env=env)
        assert _integrity(data) == "ok"
        assert _count(data, "SELECT count(*) FROM images WHERE status = 'fetched'") == 24
    finally:
        shop.stop()


def test_disk_full_injected(tmp_path, photos_dir, monkeypatch) -> None:
    """SQLITE_FULL raised by the store on the 3rd photo: same message, same resumption."""
    photos = _photos(photos_dir)[:5]
    real = Store.add_photo
    calls = {"n": 0}

    def full_on_third(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Store, "add_photo", full_on_third)
    args = ["catalog", "add", *map(str, photos), "--data-dir", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "is full" in result.stderr, result.output
    assert _count(tmp_path, "SELECT count(*) FROM photos") == 2
    monkeypatch.setattr(Store, "add_photo", real)
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert _count(tmp_path, "SELECT count(*) FROM photos") == 5
    assert _integrity(tmp_path) == "ok"


# ---- a damaged database ------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["pages", "header"])
def test_serve_refuses_a_damaged_database(tmp_path, photos_dir, damage) -> None:
    picguard("catalog", "add", *map(str, _photos(photos_dir)[:4]), data_dir=tmp_path)
    db = tmp_path / DB_NAME
    raw = bytearray(db.read_bytes())
    page = 4096
    rnd = random.Random(5)
    if damage == "pages":  # scribble over b-tree pages, keep the header
        for start in range(page, min(len(raw), 12 * page), page):
            raw[start:start + page] = rnd.randbytes(page)
    else:
        raw[:100] = rnd.randbytes(100)
    db.write_bytes(bytes(raw))
    before = db.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "daemon", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, env=_env(tmp_path), cwd=REPO,
                          timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "damaged" in proc.stderr and "picguard restore" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert db.read_bytes() == before  # refused without touching the file


# ---- SIGKILL -----------------------------------------------------------------------------


def _wait_until(predicate, timeout: float = 120, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            return None
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_sigkill_during_catalog_add(tmp_path, photos_dir) -> None:
    folder = tmp_path / "originals"  # 40 real photos, linked (never copied into the repo)
    folder.mkdir()
    for path in sorted((photos_dir / "clothing").rglob("*.jpg"))[:40]:
        (folder / f"{path.parent.name}-{path.name}").symlink_to(path)
    files = sorted(folder.iterdir())
    unique = len({p.read_bytes() for p in files})
    data = tmp_path / "data"
    data.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "daemon", "catalog", "add", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=_env(data), cwd=REPO)

    def some_photos() -> bool:
        try:
            return _count(data, "SELECT count(*) FROM photos") >= 5
        except sqlite3.Error:
            return False

    try:
        assert _wait_until(some_photos, proc=proc), "catalog add ended before it was killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _integrity(data) == "ok"
    partial = _count(data, "SELECT count(*) FROM photos")
    assert 5 <= partial < unique
    assert _count(data, NO_FINGERPRINT) == 0

    out = picguard("catalog", "add", str(folder), "--json", data_dir=data, timeout=600)
    report = json.loads(out.stdout)
    assert len(report["added"]) == unique - partial
    assert _count(data, "SELECT count(*) FROM photos") == unique
    picguard("ledger", "verify", data_dir=data)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("demo")
    picguard("demo", "--no-serve", "--data-dir", str(d), data_dir=d, timeout=600)
    return d


def test_sigkill_during_evidence_export(demo_dir, tmp_path) -> None:
    alert = json.loads(picguard("alerts", "--json", data_dir=demo_dir).stdout.splitlines()[0])
    out = tmp_path / "pack.zip"
    delays = [0.2, 0.5, 0.8, 1.1, 1.4, 1.8, 2.2, 2.7, 3.3]
    killed = 0
    for delay in delays:
        proc = subprocess.Popen([sys.executable, "-m", "daemon", "evidence", str(alert["id"]),
                                 "--out", str(out), "--lang", "en"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=_env(demo_dir), cwd=REPO)
        try:
            proc.wait(delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            killed += 1
        # either no pack at all, or a whole one: never a half-written ZIP under the name
        if out.exists():
            with zipfile.ZipFile(out) as z:
                assert z.testzip() is None and "manifest.json" in z.namelist()
            out.unlink()
    assert killed >= 2, "the export finished before any kill: the test proved nothing"
    assert _integrity(demo_dir) == "ok"
    picguard("evidence", str(alert["id"]), "--out", str(out), "--lang", "en", data_dir=demo_dir)
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None and "manifest.json" in z.namelist()


# ---- a flapping network ------------------------------------------------------------------


class FlakyCDN:
    """Image server on 127.0.0.1 that drops connections: the first `drops` per image, and
    all of them while `down` is set."""

    def __init__(self, images: dict[str, bytes], drops: int):
        self.images, self.drops, self.down = images, drops, False
        self.seen: dict[str, int] = {}
        self.dropped = 0
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                name = self.path.rsplit("/", 1)[-1]
                cdn.seen[name] = cdn.seen.get(name, 0) + 1
                if cdn.down or cdn.seen[name] <= cdn.drops:
                    cdn.dropped += 1
                    self.close_connection = True
                    self.connection.close()  # no status line: the connection just ends
                    return
                body = cdn.images.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_network_flaps_lose_no_image(tmp_path, monkeypatch) -> None:
    images = {f"S{i}.jpg": jpeg(sample_photo((400, 400), seed=300 + i), 85) for i in range(8)}
    cdn = FlakyCDN(images, drops=2)
    # retries come back at once here instead of after minutes; the policy is the same
    monkeypatch.setattr(pipeline_module, "backoff_seconds", lambda attempts, **kw: 0)
    settings = load_settings(tmp_path / "data")
    settings.allow_private_hosts = True
    store = Store(settings.db_path)
    try:
        pipeline = Pipeline(settings, store, fetcher=Fetcher(
            allow_private=True, per_host_interval=0, retries=3, backoff_factor=0.01))
        item = DemoItem("1005000000000400", "400", "Store 400", "Item 400", list(images))
        page = item_page(item, cdn.base_url)
        ingest_page(store, settings, "https://www.aliexpress.com/item/1005000000000400.html",
                    page)
        cdn.down = True  # a full outage first: everything is retried later, nothing given up
        first = pipeline.fetch_due()
        assert first["fetched"] == 0 and first["failed"] == 0 and first["retry"] == 8
        cdn.down = False  # then a flapping link: 2 dropped connections per image
        rounds = 0
        while store.status()["images"]["queued"] and rounds < 5:
            pipeline.fetch_due()
            rounds += 1
        counts = store.status()["images"]
        assert counts["fetched"] == 8 and counts["failed"] == 0, counts
        assert cdn.dropped >= 8 * 2
        import hashlib

        served = {hashlib.sha256(b).hexdigest() for b in images.values()}
        kept = {row["sha256"] for row in store._q("SELECT sha256 FROM images")}
        assert kept == served
    finally:
        store.close()
        cdn.stop()
