"""The one place browser tests find Debian's chromium, and skip with one reason without it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

SKIP_REASON = ("Debian's chromium is not installed (apt-get install chromium; or set "
               "PICGUARD_CHROMIUM to its path): browser tests skipped")


def chromium_path() -> Path | None:
    """PICGUARD_CHROMIUM, else /usr/bin/chromium, else `chromium` on PATH; None if absent."""
    configured = os.environ.get("PICGUARD_CHROMIUM")
    for candidate in (configured, "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    return None


def require_chromium() -> Path:
    """The chromium to launch, or skip the calling test with SKIP_REASON (never a fail)."""
    path = chromium_path()
    if path is None:
        pytest.skip(SKIP_REASON)
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed "
                        "(pip install -e '.[test]'): browser tests skipped")
    return path
