#!/usr/bin/env bash
# Make sure the `nginx` binary is there for the nginx end-to-end test (tests/e2e/test_nginx.py),
# which runs the shipped infra/nginx.conf on free loopback ports. On a bare Debian machine it
# comes from Debian's own package (nginx-light 1.22 in bookworm: the core modules the shipped
# config uses, ssl and http2). The system service the package ships is never started.
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then exit 0; fi

echo "ensure-nginx: installing nginx from Debian's packages" >&2

# The package starts nginx.service (a default site on :80) from its postinst: a policy-rc.d
# that answers 101 ("action forbidden") stops that start for this install only.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi

log=$(mktemp)
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "ensure-nginx: installing nginx failed" >&2
  exit 1
fi
rm -f "$log"

if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --quiet nginx.service >/dev/null 2>&1 || true
fi

[ -x /usr/sbin/nginx ] || {
  echo "ensure-nginx: /usr/sbin/nginx is still missing after installing it" >&2
  exit 1
}
