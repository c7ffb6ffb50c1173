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
if ! $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core; then
  # The package lists may be missing or stale on a fresh machine: refresh once and retry.
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi
/usr/bin/chromium --version
