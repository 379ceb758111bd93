#!/usr/bin/env bash
# Make sure the PostgreSQL that the tests use answers on 127.0.0.1:5432 with trust auth.
# This machine kind ships one and starts it; this script starts it again if it stopped, and on
# a bare Debian machine installs it from Debian's packages first.
set -euo pipefail

ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }

if ready; then exit 0; fi

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ensure-postgres: installing PostgreSQL from Debian's packages" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  # Local test server only: trust connections from loopback, as the tests expect.
  echo "host all all 127.0.0.1/32 trust" > "/etc/postgresql/$version/main/pg_hba.conf.new"
  cat "/etc/postgresql/$version/main/pg_hba.conf" >> "/etc/postgresql/$version/main/pg_hba.conf.new"
  mv "/etc/postgresql/$version/main/pg_hba.conf.new" "/etc/postgresql/$version/main/pg_hba.conf"
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "ensure-postgres: starting PostgreSQL $version" >&2
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do
  if ready; then exit 0; fi
  sleep 1
done
echo "ensure-postgres: PostgreSQL is not answering on 127.0.0.1:5432" >&2
exit 1
