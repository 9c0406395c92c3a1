"""Shared pytest fixtures: where the real pages and photos live, and scratch data dirs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PICGUARD_SHARED", REPO.parent / "shared")).resolve()
FIXTURES = SHARED / "fixtures" / "aliexpress"
PHOTOS = SHARED / "data" / "photos"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only shared/ folder beside the repo (real pages and photos)."""
    assert SHARED.is_dir(), f"shared data not found at {SHARED}; set PICGUARD_SHARED"
    return SHARED


@pytest.fixture(scope="session")
def fixtures_dir(shared_dir: Path) -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def photos_dir(shared_dir: Path) -> Path:
    return PHOTOS


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh PicGuard data dir, also exported as PICGUARD_DATA_DIR for subprocesses."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("PICGUARD_DATA_DIR", str(d))
    return d
