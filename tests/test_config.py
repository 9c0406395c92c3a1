"""Settings: data dir resolution, settings.json round trip, bad values refused."""

from __future__ import annotations

import json

import pytest

from daemon.config import ConfigError, default_data_dir, load_settings, save_settings, set_value


def test_data_dir_from_env(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PICGUARD_DATA_DIR", str(tmp_path / "d"))
    assert default_data_dir() == tmp_path / "d"
    monkeypatch.delenv("PICGUARD_DATA_DIR")
    assert default_data_dir().name == "picguard"


def test_round_trip_and_own_store(tmp_path) -> None:
    s = load_settings(tmp_path)
    set_value(s, "own_stores", "aliexpress:1102011, aliexpress:42")
    set_value(s, "fetch_interval_s", "5")
    save_settings(s)
    again = load_settings(tmp_path)
    assert again.own_stores == ["aliexpress:1102011", "aliexpress:42"]
    assert again.fetch_interval_s == 5
    assert again.is_own_store("aliexpress", "42") and not again.is_own_store("aliexpress", "7")
    assert json.loads((tmp_path / "settings.json").read_text())["fetch_interval_s"] == 5


@pytest.mark.parametrize(("key", "value", "match"), [
    ("nonsense", "1", "unknown setting"),
    ("fetch_interval_s", "soon", "not valid"),
    ("fetch_interval_s", "-3", "not valid"),
])
def test_bad_values_are_refused(tmp_path, key, value, match) -> None:
    with pytest.raises(ConfigError, match=match):
        set_value(load_settings(tmp_path), key, value)


def test_broken_settings_file_says_how_to_fix(tmp_path) -> None:
    (tmp_path / "settings.json").write_text("{not json")
    with pytest.raises(ConfigError, match="delete it"):
        load_settings(tmp_path)


def test_private_hosts_switch_from_env(monkeypatch, tmp_path) -> None:
    assert not load_settings(tmp_path).allow_private_hosts
    monkeypatch.setenv("PICGUARD_ALLOW_PRIVATE_HOSTS", "1")
    assert load_settings(tmp_path).allow_private_hosts
