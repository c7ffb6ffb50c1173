#!/usr/bin/env bash
# Installs the web UI's npm packages (pinned by package-lock.json) and copies the few
# minified files the UI serves into src/vigil/web/static/vendor/ (git-ignored: built
# third-party copies are never committed). Also installs playwright-core, which drives
# Debian's /usr/bin/chromium in the browser tests (it never downloads a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
VENDOR=src/vigil/web/static/vendor
rm -rf "$VENDOR"
mkdir -p "$VENDOR/leaflet/images" "$VENDOR/topojson" "$VENDOR/world-atlas"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$VENDOR/leaflet/"
cp node_modules/leaflet/dist/images/*.png "$VENDOR/leaflet/images/"
cp node_modules/leaflet/LICENSE "$VENDOR/leaflet/LICENSE"
cp node_modules/topojson-client/dist/topojson-client.min.js "$VENDOR/topojson/"
cp node_modules/topojson-client/LICENSE "$VENDOR/topojson/LICENSE"
cp node_modules/world-atlas/countries-50m.json "$VENDOR/world-atlas/"
cp node_modules/world-atlas/LICENSE "$VENDOR/world-atlas/LICENSE"
echo "web assets copied to $VENDOR:"
find "$VENDOR" -type f | sort
