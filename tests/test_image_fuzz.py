"""Hostile image input, fuzzed: a clear ImageError or a clean read, never a crash.

The same cases (tests/hostile_images.py: truncated, zero-size, 1x60000, decompression bombs,
wrong extension, animated, CMYK, 16-bit PNG, HEIC ...) go through the engine's entry points,
the CLI (`compare`, `check`, `catalog add`) and the API (`POST /api/v1/check`).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from daemon.cli import main
from daemon.config import load_settings
from daemon.matching.compare import analyse
from daemon.matching.features import extract_features
from daemon.matching.fingerprint import compute_fingerprint
from daemon.matching.imageio import ImageError, decode, load_image, make_thumbnail
from daemon.web.app import create_app
from tests.hostile_images import hostile_images, sample_photo

CASES = list(hostile_images())
IDS = [name for name, _, _ in CASES]
ENTRY_POINTS = {
    "analyse": analyse,
    "decode": decode,
    "load_trim": lambda data: load_image(data, trim=True),
    "load_coarse": lambda data: load_image(data, coarse=True),
    "thumbnail": make_thumbnail,
    "fingerprint": compute_fingerprint,
    "features": extract_features,
}


def test_the_cases_cover_what_the_issue_names() -> None:
    names = " ".join(IDS)
    for needed in ("truncated", "zero-bytes", "1x60000", "bomb", "animated", "cmyk", "16bit",
                   "heic"):
        assert needed in names
    assert {expect for _, _, expect in CASES} == {"ok", "error", "either"}


@pytest.mark.parametrize(("name", "data", "expect"), CASES, ids=IDS)
def test_engine_reads_or_refuses_clearly(name: str, data: bytes, expect: str) -> None:
    for entry, func in ENTRY_POINTS.items():
        try:
            func(data)
        except ImageError as exc:
            assert expect != "ok", f"{entry} refused a valid {name}: {exc}"
            assert len(str(exc)) > 20, f"{entry}: an ImageError must say what to do: {exc}"
        else:
            assert expect != "error", f"{entry} accepted {name}, which must be refused"


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory):
    """Every case written as a `.jpg` file: the wrong extension for most of them."""
    d = tmp_path_factory.mktemp("hostile")
    for name, data, _ in CASES:
        (d / f"{name}.jpg").write_bytes(data)
    sample_photo().save(d.parent / "original.jpg", quality=90)
    return d


def _run(args: list[str], data_dir) -> object:
    result = CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)])
    # click's runner turns an uncaught exception into exit 1 with result.exception set
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"picguard {' '.join(args)} crashed: {result.exception!r}")
    assert "Traceback" not in result.output + result.stderr
    return result


def test_cli_compare_reads_or_names_each_bad_candidate(hostile_dir, tmp_path) -> None:
    files = [hostile_dir / f"{name}.jpg" for name in IDS]
    result = CliRunner().invoke(main, ["compare", str(hostile_dir.parent / "original.jpg"),
                                       *map(str, files), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 2  # some candidates are unreadable: an input error
    compared = {json.loads(line)["candidate"] for line in result.stdout.splitlines()}
    for (name, _, expect), path in zip(CASES, files, strict=True):
        if expect == "ok":
            assert str(path) in compared, f"{name} was not compared"
        elif expect == "error":
            assert f"picguard: error: {path}: " in result.stderr, f"{name}: no clear error"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("name", "expect"), [(n, e) for n, _, e in CASES], ids=IDS)
def test_cli_check_each_case(name: str, expect: str, hostile_dir, tmp_path) -> None:
    result = _run(["check", str(hostile_dir / f"{name}.jpg"), "--json"], tmp_path)
    if expect == "ok":
        assert result.exit_code == 0, result.output + result.stderr
        assert json.loads(result.stdout)["resembles"] is False
    elif expect == "error":
        assert result.exit_code == 2
        assert result.stderr.startswith(f"picguard: error: {hostile_dir / name}.jpg: ")
    else:
        assert result.exit_code in (0, 2)


def test_cli_catalog_add_registers_the_good_and_reports_the_bad(hostile_dir, tmp_path) -> None:
    result = _run(["catalog", "add", str(hostile_dir), "--json"], tmp_path)
    assert result.exit_code == 0, result.output + result.stderr
    report = json.loads(result.stdout)
    added = {p["path"].rsplit("/", 1)[-1][:-4] for p in report["added"]}
    failed = {p["path"].rsplit("/", 1)[-1][:-4]: p["reason"] for p in report["failed"]}
    for name, _, expect in CASES:
        if expect == "ok":
            assert name in added, f"{name}: {failed.get(name)}"
        elif expect == "error":
            assert name in failed and failed[name], f"{name} was registered"
        else:
            assert name in added or failed[name]
    listed = _run(["catalog", "list", "--json"], tmp_path)
    assert len(listed.stdout.splitlines()) == len(added)


def test_real_cli_process_reports_bad_images_without_traceback(hostile_dir, tmp_path) -> None:
    """One real `python -m daemon compare` run: the process, not just click's runner."""
    bad = [hostile_dir / f"{n}.jpg" for n in ("zero-bytes", "png-bomb-20000x20000",
                                              "png-1x60000", "jpeg-header-only")]
    proc = subprocess.run([sys.executable, "-m", "daemon", "compare",
                           str(hostile_dir.parent / "original.jpg"), *map(str, bad)],
                          capture_output=True, text=True, timeout=120,
                          env={"PICGUARD_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    for path in bad:
        assert f"picguard: error: {path}: " in proc.stderr


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings = load_settings(tmp_path_factory.mktemp("api"))
    app = create_app(settings)
    token = settings.token_path.read_text().strip()
    yield app.test_client(), {"Authorization": f"Bearer {token}"}
    app.extensions["picguard"]["pipeline"].store.close()


@pytest.mark.parametrize(("name", "data", "expect"), CASES, ids=IDS)
def test_api_check_each_case(name: str, data: bytes, expect: str, api) -> None:
    client, headers = api
    r = client.post("/api/v1/check", base_url="http://127.0.0.1:8765", headers=headers,
                    json={"image": base64.b64encode(data).decode()})
    body = r.get_json()
    if r.status_code == 200:
        assert expect != "error", f"{name} was accepted"
        assert body["resembles"] is False and body["hits"] == []
    else:
        assert expect != "ok", f"{name}: {body}"
        assert r.status_code == 422 and body["code"] == "bad_image" and body["error"]
