#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what it needs, then runs pytest.
# README.md names this script; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

# The extension's end-to-end tests drive Debian's chromium (never `playwright install`).
# A CJK font makes the Chinese in saved screenshots readable (tests do not depend on it).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

python3 -m ruff check .
exec python3 -m pytest "$@"
