#!/usr/bin/env bash
# Packs the browser extension for the stores, into dist/:
#   dist/picguard-<version>-chrome.zip   Chrome Web Store (and Edge Add-ons): the extension
#                                        folder zipped, manifest.json at the root
#   dist/picguard-<version>.zip          Firefox Add-ons (AMO), built by Mozilla's web-ext
#                                        (npm), which lints as it builds
# The extension's own unit checks (extension/tests/) are left out of both.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(python3 -c 'import json; print(json.load(open("extension/manifest.json"))["version"])')
mkdir -p dist
chrome="dist/picguard-${version}-chrome.zip"
rm -f "$chrome"
python3 - "$chrome" <<'PY'
import sys
import zipfile
from pathlib import Path

root = Path("extension")
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as zf:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and rel.parts[0] != "tests" and not path.name.startswith("."):
            zf.write(path, rel.as_posix())
PY
echo "Chrome Web Store: $chrome"

if ! command -v npx >/dev/null 2>&1; then
  echo "npx (node/npm) is missing: the Firefox package needs Mozilla's web-ext" >&2
  exit 2
fi
npm_config_update_notifier=false npx --yes web-ext@10 build --source-dir extension \
  --artifacts-dir dist --filename "picguard-${version}.zip" --overwrite-dest \
  --ignore-files tests "tests/**" --no-input >/dev/null
echo "Firefox Add-ons:   dist/picguard-${version}.zip"
