"""Packaging a seller can install: the README's two commands under a PEP 668 system Python,
and a wheel and sdist that install cleanly in a fresh virtual environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.daemon_support import REPO

DEBIAN_PYTHON = Path("/usr/bin/python3")
MARKER = "EXTERNALLY-MANAGED"


def _run(cmd: list[str], timeout: float = 1500, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def _debian_python() -> Path:
    if not DEBIAN_PYTHON.exists():
        pytest.skip("no /usr/bin/python3 on this machine (not Debian/Ubuntu)")
    stdlib = _run([str(DEBIAN_PYTHON), "-c", "import sysconfig; print(sysconfig.get_path("
                   "'stdlib'))"]).stdout.strip()
    if not (Path(stdlib) / MARKER).exists():
        pytest.skip(f"{DEBIAN_PYTHON} is not marked {MARKER} (PEP 668): nothing to prove")
    return DEBIAN_PYTHON


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a fresh environment downloads and installs every dependency
def test_readme_commands_install_under_debian_system_python(tmp_path) -> None:
    """Both README commands' install step, with Debian's own python3 first on PATH."""
    python = _debian_python()
    env = {**os.environ, "PICGUARD_VENV": str(tmp_path / "venv"),
           "PATH": f"{python.parent}:{os.environ.get('PATH', '')}"}
    env.pop("VIRTUAL_ENV", None)
    # the premise: the old README command is refused on this Python
    refused = _run([str(python), "-m", "pip", "install", "--dry-run", "-e", str(REPO)], env=env,
                   cwd=tmp_path)
    if "No module named pip" not in refused.stderr:
        assert refused.returncode != 0
        assert "externally-managed-environment" in refused.stdout + refused.stderr

    # 1. python3 scripts/picguard.py ... makes the venv, installs, runs picguard
    first = _run([str(python), str(REPO / "scripts" / "picguard.py"), "--version"], env=env,
                 cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    assert "picguard, version" in first.stdout
    venv_python = tmp_path / "venv" / "bin" / "python"
    base = _run([str(venv_python), "-c", "import sys; print(sys.base_prefix)"]).stdout.strip()
    assert base == _run([str(python), "-c", "import sys; print(sys.prefix)"]).stdout.strip()
    # a second run installs nothing again
    again = _run([str(python), str(REPO / "scripts" / "picguard.py"), "--version"], env=env,
                 cwd=tmp_path)
    assert again.returncode == 0 and "Installing" not in again.stderr

    # 2. bash scripts/test.sh: its install step (the rest is this very test suite)
    step = _run(["bash", str(REPO / "scripts" / "test.sh")], env={
        **env, "PICGUARD_INSTALL_ONLY": "1"}, cwd=tmp_path)
    assert step.returncode == 0, step.stdout + step.stderr[-3000:]
    check = _run([str(venv_python), "-c", "import pytest, schemathesis, daemon; "
                  "print(daemon.__file__)"])
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip().startswith(str(REPO))  # the editable install of this checkout


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # --no-isolation: build with the setuptools already here, no download at test time
    built = _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                  str(REPO)], cwd=out)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


def _fresh_venv(where: Path) -> Path:
    """A new virtual environment; system packages visible so dependencies are not downloaded
    again (the Debian test above installs them from scratch)."""
    done = _run([sys.executable, "-m", "venv", "--system-site-packages", str(where)])
    assert done.returncode == 0, done.stderr
    return where / ("Scripts" if os.name == "nt" else "bin")


PACKAGE_DATA = ("daemon/web/static/dashboard.html", "daemon/web/openapi.yaml",
                "daemon/evidence/templates/report.html.j2", "daemon/demo/data/photos/shirt.jpg")


@pytest.mark.timeout(900)  # the build (in its fixture) and a demo run
def test_wheel_installs_cleanly_and_runs_the_demo(dist, tmp_path) -> None:
    [wheel] = dist.glob("picguard-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in PACKAGE_DATA:
        assert needed in names, f"{needed} missing from {wheel.name}"
    assert not any(n.startswith("tests/") for n in names)
    bin_dir = _fresh_venv(tmp_path / "venv")
    done = _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    outside = tmp_path / "elsewhere"  # not the checkout: the installed package must suffice
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PICGUARD_DATA_DIR")}
    demo = _run([str(bin_dir / "picguard"), "demo", "--no-serve", "--data-dir",
                 str(tmp_path / "demo")], cwd=outside, env=env, timeout=900)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "copied" in demo.stdout
    where = _run([str(bin_dir / "python"), "-c", "import daemon; from daemon.web.api_openapi "
                  "import load_openapi; print(daemon.__file__); print(len(load_openapi()"
                  "['paths']))"], cwd=outside, env=env)
    assert where.returncode == 0, where.stderr
    path, count = where.stdout.split()
    assert str(tmp_path / "venv") in path and int(count) >= 12


@pytest.mark.timeout(900)
def test_sdist_carries_what_the_wheel_needs(dist, tmp_path) -> None:
    [sdist] = dist.glob("picguard-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for needed in ("setup.cfg", "setup.py", "README.md", "docs/openapi.yaml",
                   *(p for p in PACKAGE_DATA if p != "daemon/web/openapi.yaml")):
        assert needed in names, f"{needed} missing from {sdist.name}"
    bin_dir = _fresh_venv(tmp_path / "venv")
    # as a user installs an sdist: pip builds it in an isolated environment from
    # pyproject.toml's build requirements, so those must be complete (a machine whose Python
    # lacks `wheel` failed here with --no-build-isolation)
    done = _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(sdist)])
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PICGUARD_DATA_DIR")}
    version = _run([str(bin_dir / "picguard"), "--version"], cwd=tmp_path, env=env)
    assert version.returncode == 0 and "picguard, version" in version.stdout
