"""Pushed pages parsed in worker processes: the same Listing as in-process, errors intact,
and a killed worker never loses a push."""

from __future__ import annotations

import os
import signal

import pytest

import scraper
from daemon.monitor.parsepool import ParsePool

URL = "https://de.aliexpress.com/item/1005008204179129.html"


@pytest.fixture(scope="module")
def page(fixtures_dir) -> str:
    path = fixtures_dir / "item_2025_csr-d_c_-DCData_de_1005008204179129.html"
    return path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture()
def pool():
    p = ParsePool(workers=1).start()
    yield p
    p.close()


def test_worker_parse_equals_in_process_parse(pool, page) -> None:
    assert pool.parse(page, URL) == scraper.parse_page(page, URL)


def test_parse_errors_come_back_as_they_are(pool) -> None:
    with pytest.raises(scraper.ParseError):
        pool.parse("", URL)


def test_a_killed_worker_loses_no_push(pool, page) -> None:
    expected = scraper.parse_page(page, URL)
    assert pool.parse(page, URL) == expected
    for pid in list(pool._executor()._processes):  # the workers of the current pool
        os.kill(pid, signal.SIGKILL)
    assert pool.parse(page, URL) == expected  # parsed in-process while the pool is replaced
    assert pool.parse(page, URL) == expected  # and by a new pool afterwards


def test_zero_workers_parses_in_process(page, monkeypatch) -> None:
    monkeypatch.setenv("PICGUARD_PARSE_WORKERS", "0")
    p = ParsePool().start()
    assert p.workers == 0 and p._pool is None
    assert p.parse(page, URL) == scraper.parse_page(page, URL)
    p.close()
