#!/usr/bin/env bash
# Re-takes the screenshots in docs/ui/ (docs/ui.md): every page at 1400x900 and 390x844, by the browser
# test tests/web/test_layout.py on a simulated tenant, shrunk with Debian's pngquant.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
command -v pngquant >/dev/null || { apt-get install -y -q pngquant >/dev/null 2>&1 \
  || { apt-get update -q >/dev/null && apt-get install -y -q pngquant >/dev/null; }; }
VIGIL_DOCS_SCREENSHOTS=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/web/test_layout.py
ls -l docs/ui/*.png | awk '{ s += $5 } END { printf "docs/ui: %d files, %.0f kB\n", NR, s / 1024 }'
