#!/usr/bin/env bash
# Install everything (including Chromium for the browser tests), then check style (ruff, the project's
# rule set in pyproject.toml) and types (mypy over src/) and run the whole test suite. All three run
# even when one fails, so a single run shows every problem; the exit status is non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
failed=()
.venv/bin/ruff check src tests || failed+=(ruff)
.venv/bin/mypy || failed+=(mypy)
.venv/bin/python -m pytest -q -p no:cacheprovider "$@" || failed+=(pytest)
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: failed: ${failed[*]}" >&2
  exit 1
fi
