#!/usr/bin/env bash
# Make sure the `caddy` binary is there for the HTTPS end-to-end test (tests/e2e/test_https.py).
# On a bare Debian machine it comes from Debian's own package (caddy 2.6 in bookworm). The test
# starts its own Caddy on a free port, so the system service the package ships is never started.
set -euo pipefail

if command -v caddy >/dev/null 2>&1; then exit 0; fi

echo "ensure-caddy: installing Caddy from Debian's packages" >&2

# The package enables and starts caddy.service (a file server on :80) from its postinst.
# A policy-rc.d that answers 101 ("action forbidden") stops that start for this install only;
# one that is already there (container images ship one) is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

# Quiet unless it fails: apt and its hooks (debconf, needrestart) chatter on stderr.
log=$(mktemp)
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq caddy; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "ensure-caddy: installing caddy failed" >&2
  exit 1
fi
rm -f "$log"

# Nor should it start at the next boot: nothing here wants a Caddy on :80.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --quiet caddy.service >/dev/null 2>&1 || true
fi

command -v caddy >/dev/null 2>&1 || {
  echo "ensure-caddy: caddy is still not on PATH after installing it" >&2
  exit 1
}
