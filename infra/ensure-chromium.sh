#!/usr/bin/env bash
# Make sure Debian's chromium is installed for the browser test (never a browser download of
# a test tool's own: Playwright drives this one through its executable path).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
echo "ensure-chromium: installing chromium from Debian's packages" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
