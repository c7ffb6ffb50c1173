#!/usr/bin/env bash
# The main job on the embedded default: install, simulate a small tenant, ingest it into
# ./vigil.duckdb, analyse it, print the summary, then serve the web UI (Ctrl-C to stop;
# pass --no-serve to stop after the summary).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/vigil demo "$@"
