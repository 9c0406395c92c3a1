#!/usr/bin/env python3
"""Run PicGuard from a checkout in its own virtual environment: `scripts/picguard.py serve`.

Current Debian, Ubuntu and Homebrew Pythons refuse `pip install` outside a virtual
environment (PEP 668, "externally-managed-environment"). This script never installs into
the system Python: it makes `.venv` beside the checkout (or uses the virtual environment it
already runs in), installs PicGuard there when setup.cfg/setup.py changed since the last
install, then runs `picguard ARGS...` with that environment's Python. Standard library only,
so it runs on any Python 3.11+, on Linux, macOS and Windows (`py scripts\\picguard.py serve`).

    python3 scripts/picguard.py [--extras test] [--install-only] [picguard args...]

PICGUARD_VENV=DIR puts the environment elsewhere (tests use it).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STAMP = "picguard-install.json"


def in_virtualenv() -> bool:
    """True when this Python already is a virtual environment's."""
    return sys.prefix != sys.base_prefix


def venv_python(env_dir: Path) -> Path:
    """The environment's interpreter (bin/python on POSIX, Scripts\\python.exe on Windows)."""
    if os.name == "nt":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def make_venv(env_dir: Path) -> Path:
    """Create the environment (with pip) unless it exists; returns its Python."""
    python = venv_python(env_dir)
    if python.exists():
        return python
    try:
        import ensurepip  # noqa: F401 - Debian ships venv without it unless python3-venv is in
    except ImportError:
        sys.exit("picguard: error: this Python cannot make virtual environments (no ensurepip);"
                 " on Debian/Ubuntu run `sudo apt install python3-venv`, then run this again")
    print(f"Creating the virtual environment {env_dir} ...", file=sys.stderr)
    # System site-packages stay visible (read-only): what the system already has is reused
    # instead of downloaded again; everything PicGuard needs beyond it goes into the venv.
    venv.EnvBuilder(with_pip=True, system_site_packages=True, upgrade_deps=False).create(env_dir)
    return python


def _wanted(extras: str) -> dict:
    digest = hashlib.sha256()
    for name in ("setup.cfg", "setup.py"):
        digest.update((REPO / name).read_bytes())
    return {"repo": str(REPO), "extras": extras, "metadata": digest.hexdigest()}


def install(python: Path, extras: str) -> None:
    """`pip install -e REPO[extras]` into the environment, skipped when nothing changed."""
    stamp = Path(subprocess.run(
        [str(python), "-c", "import sys; print(sys.prefix)"],
        capture_output=True, text=True, check=True).stdout.strip()) / STAMP
    wanted = _wanted(extras)
    try:
        if json.loads(stamp.read_text()) == wanted:
            return
    except (OSError, ValueError):
        pass
    target = f"{REPO}[{extras}]" if extras else str(REPO)
    print(f"Installing PicGuard{f' [{extras}]' if extras else ''} into {stamp.parent} ...",
          file=sys.stderr)
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", "-e", target], stdout=sys.stderr)
    if done.returncode != 0:
        sys.exit(f"picguard: error: installing PicGuard into {stamp.parent} failed (see pip's "
                 "message above); check the network or disk, then run this again")
    stamp.write_text(json.dumps(wanted))


def main(argv: list[str]) -> int:
    """Parse the bootstrap's own options; run picguard with the rest."""
    extras, install_only = "", False
    while argv and argv[0] in ("--extras", "--install-only"):
        if argv[0] == "--install-only":
            install_only, argv = True, argv[1:]
        elif len(argv) > 1:
            extras, argv = argv[1], argv[2:]
        else:
            sys.exit("picguard: error: --extras needs a value, e.g. --extras test")
    if sys.version_info < (3, 11):  # noqa: UP036 - runs on whatever python3 the seller has
        sys.exit(f"picguard: error: PicGuard needs Python 3.11 or newer, this is "
                 f"{sys.version.split()[0]}; install a newer Python and run this with it")
    if in_virtualenv() and "PICGUARD_VENV" not in os.environ:
        python = Path(sys.executable)
    else:
        python = make_venv(Path(os.environ.get("PICGUARD_VENV") or REPO / ".venv"))
    install(python, extras)
    if install_only:
        print(python)  # scripts/test.sh reads which interpreter to use
        return 0
    command = [str(python), "-m", "daemon", *argv]
    if os.name == "posix":
        # the daemon gets Ctrl-C and SIGTERM directly; no shell is involved
        os.execv(command[0], command)  # noqa: S606
    try:
        return subprocess.run(command).returncode
    except KeyboardInterrupt:  # Windows: the child got Ctrl-C too and is stopping
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
