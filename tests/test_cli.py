"""The command line: every command has help, bad input exits 2 with one line, and the
catalog/compare contracts hold on real photos."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner
from PIL import Image

from daemon.cli import main
from tests.daemon_support import picguard


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, cmd in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))


ALL_COMMANDS = list(_commands(main))


def test_the_documented_commands_exist() -> None:
    names = {" ".join(c) for c in ALL_COMMANDS}
    for expected in ("serve", "catalog add", "catalog list", "compare", "ingest", "scan",
                     "check", "alerts", "token", "config show", "demo"):
        assert expected in names


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=" ".join)
def test_every_command_has_help(command) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    cmd = main
    for part in command:
        cmd = cmd.commands[part]
    assert cmd.help and len(cmd.help.strip()) > 10, f"{command} has no real help text"


def test_python_dash_m_daemon_runs_the_cli(tmp_path) -> None:
    out = picguard("--help", data_dir=tmp_path).stdout
    assert "catalog" in out and "serve" in out


@pytest.mark.parametrize("args", [
    ["compare", "missing.jpg", "also-missing.jpg"],
    ["catalog", "add", "/definitely/not/here"],
    ["ingest", "/definitely/not/here.html", "--url", "https://www.aliexpress.com/item/1.html"],
    ["check", "/definitely/not/here.jpg"],
    ["config", "set", "no_such_setting", "1"],
    ["config", "set", "fetch_interval_s", "soon"],
    ["watch", "remove", "999"],
    ["catalog", "add"],
    ["frobnicate"],
])
def test_bad_input_exits_2_with_one_line(tmp_path, args) -> None:
    proc = picguard(*args, data_dir=tmp_path, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip()


def test_unreadable_image_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    good = tmp_path / "good.png"
    Image.new("RGB", (64, 64), "blue").save(good)
    proc = picguard("compare", str(good), str(bad), data_dir=tmp_path, check=False)
    assert proc.returncode == 2 and "broken.jpg" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_catalog_add_reports_duplicates_and_bad_files(tmp_path, photos_dir) -> None:
    folder = tmp_path / "shoot"
    folder.mkdir()
    for src in sorted((photos_dir / "clothing/hat").glob("*.jpg"))[:3]:
        (folder / src.name).write_bytes(src.read_bytes())
    (folder / "notes.jpg").write_text("this is not a photo")
    data = tmp_path / "data"
    first = picguard("catalog", "add", str(folder), "--shoot", "hats", "--json", data_dir=data)
    report = json.loads(first.stdout)
    assert len(report["added"]) == 3 and len(report["failed"]) == 1
    assert "notes.jpg" in report["failed"][0]["path"] and report["failed"][0]["reason"]
    again = picguard("catalog", "add", str(folder), data_dir=data, check=False)
    assert "Added 0 photo(s); 3 already registered" in again.stdout
    listed = [json.loads(x) for x in picguard("catalog", "list", "--json",
                                             data_dir=data).stdout.splitlines()]
    assert len(listed) == 3 and {p["shoot"] for p in listed} == {"hats"}
    assert all(len(p["sha256"]) == 64 and p["registered_at"] for p in listed)


def test_compare_contract_on_real_photos(tmp_path, photos_dir) -> None:
    original = sorted((photos_dir / "clothing/dress").glob("*.jpg"))[0]
    other = sorted((photos_dir / "clothing/dress").glob("*.jpg"))[1]
    im = Image.open(original)
    q50, half = tmp_path / "q50.jpg", tmp_path / "half.png"
    im.save(q50, "JPEG", quality=50)
    im.resize((im.width // 2, im.height // 2)).save(half)
    appliances = photos_dir / "appliances"
    out = picguard("compare", str(original), str(q50), str(half), str(other), "--json",
                   data_dir=tmp_path).stdout.splitlines()
    rows = [json.loads(line) for line in out]
    assert [r["candidate"] for r in rows] == [str(q50), str(half), str(other)]
    for row in rows:
        assert set(row) >= {"candidate", "match", "kind", "score", "details"}
        assert isinstance(row["score"], float)
    assert rows[0]["match"] and rows[0]["kind"] == "copy"
    assert rows[1]["match"] and rows[1]["kind"] == "copy"
    assert not rows[2]["match"] and rows[2]["kind"] is None
    variant = json.loads(picguard(
        "compare", str(appliances / "2-slice-toaster-black.webp"),
        str(appliances / "2-slice-toaster-white.webp"), "--json", data_dir=tmp_path).stdout)
    assert variant["kind"] != "copy"


def test_token_and_config_commands(tmp_path) -> None:
    token = picguard("token", data_dir=tmp_path).stdout.strip()
    assert token == picguard("token", data_dir=tmp_path).stdout.strip()
    rotated = picguard("token", "--rotate", data_dir=tmp_path).stdout.strip()
    assert rotated != token
    picguard("config", "add-store", "1102011", data_dir=tmp_path)
    shown = json.loads(picguard("config", "show", "--json", data_dir=tmp_path).stdout)
    assert shown["own_stores"] == ["aliexpress:1102011"]
    bad = picguard("config", "add-notify", "nonsense-url", data_dir=tmp_path, check=False)
    assert bad.returncode == 2 and "Apprise" in bad.stderr
