#!/usr/bin/env bash
# Installs the web UI's npm packages (pinned by package-lock.json) and copies the few
# minified files the UI serves, with their licences, into src/vigil/web/static/vendor/
# (git-ignored: built third-party copies are never committed; the list is
# src/vigil/web/assets.py, which setup.py also uses when building the sdist and wheel).
# Also installs playwright-core, which drives Debian's /usr/bin/chromium in the browser
# tests (it never downloads a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
echo "web assets copied to src/vigil/web/static/vendor:"
python3 src/vigil/web/assets.py node_modules src/vigil/web/static/vendor
