#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the browser tests (tests/web, marker `browser`).
# Never downloads a browser build from anywhere else: playwright-core drives /usr/bin/chromium.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
# apt's output goes to a log, printed only when the install fails
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "installing Debian's chromium for the browser tests (quietly; apt's log is shown on failure)"
if ! $SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >"$log" 2>&1; then
  # The package lists may be missing or stale on a fresh machine: refresh once and retry.
  { $SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core; } \
    >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
fi
/usr/bin/chromium --version
