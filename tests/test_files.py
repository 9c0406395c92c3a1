"""daemon.files.atomic_write: a file appears whole or not at all."""

from __future__ import annotations

import os
import threading

import pytest

from daemon.files import atomic_write, write_text_atomic


def test_writes_whole_file_and_leaves_no_temp(tmp_path) -> None:
    target = tmp_path / "settings.json"
    write_text_atomic(target, "{}\n")
    assert target.read_text() == "{}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_error_midway_keeps_the_old_file(tmp_path) -> None:
    target = tmp_path / "token"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(target, "w", encoding="utf-8") as fh:
        fh.write("half of the new")
        raise RuntimeError("disk went away")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["token"]


def test_private_files_are_owner_only(tmp_path) -> None:
    target = tmp_path / "key.pem"
    write_text_atomic(target, "secret", private=True)
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o600
    write_text_atomic(tmp_path / "plain.txt", "x")
    if os.name == "posix":
        assert (tmp_path / "plain.txt").stat().st_mode & 0o600 == 0o600


def test_exclusive_never_replaces_and_one_writer_wins(tmp_path) -> None:
    target = tmp_path / "ledger-ed25519.pem"
    results: list[str] = []

    def create(text: str) -> None:
        try:
            with atomic_write(target, "w", exclusive=True, encoding="utf-8") as fh:
                fh.write(text)
            results.append(text)
        except FileExistsError:
            results.append("lost")

    threads = [threading.Thread(target=create, args=(f"key{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r != "lost"]
    assert len(winners) == 1 and target.read_text() == winners[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger-ed25519.pem"]
