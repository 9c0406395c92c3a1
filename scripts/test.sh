#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what it needs, then runs pytest.
# README.md names this script; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

# PEP 668 (Debian 12, Ubuntu 24.04, Homebrew) refuses system-wide pip installs. Outside a
# virtual environment scripts/picguard.py makes .venv (PICGUARD_VENV moves it) and installs
# there; inside one (a developer's), it installs into that one. $PY is the Python to use.
if python3 -c 'import sys; sys.exit(sys.prefix != sys.base_prefix)' \
    && ! python3 -c 'import ensurepip' 2>/dev/null && command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
fi
PY=$(python3 scripts/picguard.py --extras test --install-only)
[ -z "${PICGUARD_INSTALL_ONLY:-}" ] || exit 0  # tests/test_packaging.py checks this step

# The extension's end-to-end tests drive Debian's chromium (never `playwright install`).
# A CJK font makes the Chinese in saved screenshots readable (tests do not depend on it).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
# Firefox e2e (tests/test_extension_firefox.py): Debian's firefox-esr, driven by npm
# puppeteer-core. The per-site permission prompt (tests/test_extension_marketplaces.py)
# needs a headed chromium on a private X server and a keyboard: xvfb, xdotool; openssl
# makes the stand-in marketplaces' throw-away certificate.
command -v firefox-esr >/dev/null 2>&1 || need+=(firefox-esr)
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
(cd tests/firefox && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)

"$PY" -m ruff check .
# The layer contracts in setup.cfg: imports only go down, scraper stays pure.
# (lint-imports' entry point, run through $PY: a venv that reuses system packages has no
# lint-imports script of its own)
"$PY" -c 'from importlinter.cli import lint_imports_command; lint_imports_command()'
exec "$PY" -m pytest "$@"
