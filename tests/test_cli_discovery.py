"""`picguard status`, `picguard sweep ...`, the discovery `config` keys and `ingest` of a
results page, through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from daemon.cli import main
from scraper.aliexpress_results import INIT_END, INIT_START
from tests.daemon_support import picguard

SEARCH_URL = "https://www.aliexpress.com/w/wholesale-shorts.html?SearchText=shorts"


def run(data_dir: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == code, result.output
    return result.output


@pytest.mark.parametrize("command", [["status"], ["sweep"], ["sweep", "list"],
                                     ["sweep", "start"], ["sweep", "consent"],
                                     ["sweep", "keywords"], ["sweep", "settings"]])
def test_help(command) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_ingest_results_page_then_status(data_dir: Path, shared_dir: Path, tmp_path: Path):
    raw = (shared_dir / "fixtures/aliexpress-search/searchTShirts.js").read_text()
    items = json.JSONDecoder().raw_decode(raw[raw.index("{"):])[0]
    page = tmp_path / "search.html"
    page.write_text(f"<script>{INIT_START}window._dida_config_._init_data_ = {{ data: "
                    + json.dumps({"root": {"fields": {"mods": {"itemList": items}}}})
                    + f" }}{INIT_END}</script>")
    out = json.loads(picguard("ingest", str(page), "--url", SEARCH_URL, "--json",
                              data_dir=data_dir).stdout)
    assert out["kind"] == "results" and out["listings"] == {"total": 60, "new": 60}
    assert [i["product_id"] for i in out["listing"]["items"]] == [
        str(x["productId"]) for x in items["content"]]
    text = run(data_dir, "ingest", str(page), "--url", SEARCH_URL)
    assert "60 listing(s) (0 new)" in text
    status = json.loads(run(data_dir, "status", "--json"))
    assert status["listings"] == 60
    assert status["coverage"]["browsing"]["listings_total"] == 60
    assert status["budget"]["per_day"] == 300
    table = run(data_dir, "status")
    assert "image search" in table and "keyword sweeps" in table


def test_sweep_commands_and_config_keys(data_dir: Path) -> None:
    assert "off" in run(data_dir, "sweep", "consent", "off")
    run(data_dir, "config", "set", "image_search_consent", "yes")
    assert json.loads(run(data_dir, "sweep", "settings", "--json"))["image_search_consent"]
    run(data_dir, "config", "set", "image_search_consent", "maybe", code=2)
    assert "ON" in run(data_dir, "sweep", "consent", "on")
    assert run(data_dir, "sweep", "keywords", "t-shirt femme", "连衣裙").split("\n")[:2] == [
        "t-shirt femme", "连衣裙"]
    cfg = json.loads(run(data_dir, "sweep", "settings", "--per-day", "40",
                         "--pause-when-idle", "--json"))
    assert cfg["per_day"] == 40 and cfg["pause_when_idle"] is True
    run(data_dir, "sweep", "settings", "--per-day", "0", code=2)
    assert "4 keyword task(s)" in run(data_dir, "sweep", "start", "keyword")
    assert "1 store task(s)" in run(data_dir, "sweep", "start", "store", "1102011")
    assert "already waiting" in run(data_dir, "sweep", "start", "store", "1102011")
    run(data_dir, "sweep", "start", "store", code=2)
    run(data_dir, "sweep", "start", "image", code=2)  # empty catalog: a plain reason
    run(data_dir, "sweep", "start", "image", "x", code=2)
    listed = json.loads(run(data_dir, "sweep", "list", "--json"))
    assert [s["kind"] for s in listed["sweeps"]] == ["store", "keyword"]
    assert len(listed["sweeps"][1]["tasks"]) == 4
    assert "1102011" in run(data_dir, "sweep", "list")
    assert run(data_dir, "sweep", "keywords", "--clear").strip() == "(no keywords)"
