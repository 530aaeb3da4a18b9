#!/usr/bin/env bash
# Makes sure the browser tests have a Chromium: Debian's package when we are root on
# Debian (Playwright cannot download its own build on every network), else Playwright's own.
set -euo pipefail
bin_dir="${1:-.venv/bin}"

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "No /usr/bin/chromium and not root on Debian: installing Playwright's Chromium."
"$bin_dir/python" -m playwright install chromium
