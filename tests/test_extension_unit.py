"""The extension's unit checks (extension/tests/*.test.mjs) in node's own test runner:
marketplace addresses, manifest consistency, message validation, MD5 for the marketplace's
request signature, the image-search endpoints. No browser needed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

EXT = Path(__file__).resolve().parent.parent / "extension"


def test_extension_unit_checks_pass_in_node():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the extension's unit checks run in node --test")
    done = subprocess.run([node, "--test", str(EXT / "tests")], capture_output=True, text=True,
                          timeout=120, cwd=EXT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
    passed = int(next(line.split()[-1] for line in done.stdout.splitlines()
                      if line.startswith("# pass")))
    assert passed >= 7
