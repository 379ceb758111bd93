#!/usr/bin/env bash
# Make sure the `rclone` binary is there: the `archive` benchmark (bench/archive.py) measures
# receiver's archiver next to `rclone copyurl`. On a bare Debian machine it comes from Debian's
# own package (rclone 1.60 in bookworm), which ships no service: nothing starts on its own.
set -euo pipefail

if command -v rclone >/dev/null 2>&1; then exit 0; fi

echo "ensure-rclone: installing rclone from Debian's packages" >&2

# apt-get needs root; on a developer's machine that means sudo.
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-rclone: rclone is missing and installing it needs root (no sudo here)" >&2
    exit 1
  fi
  as_root=(sudo)
fi

# Quiet unless it fails: apt and its hooks (debconf, needrestart) chatter on stderr.
log=$(mktemp)
if ! {
  "${as_root[@]}" apt-get update -qq &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone
} >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "ensure-rclone: installing rclone failed" >&2
  exit 1
fi
rm -f "$log"

command -v rclone >/dev/null 2>&1 || {
  echo "ensure-rclone: rclone is still not on PATH after installing it" >&2
  exit 1
}
