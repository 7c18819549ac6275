#!/usr/bin/env bash
# Install the Debian packages the test suite needs when they are missing; with --bench, also what
# the benchmarks need (wrk, the HTTP load generator).
# Runs apt-get only as root and only for what is absent, so a ready machine pays nothing.
set -euo pipefail
missing=()
if [ "${1:-}" = "--bench" ]; then
  command -v wrk >/dev/null || missing+=(wrk)
fi
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
command -v chromium >/dev/null || missing+=(chromium)
fc-list 2>/dev/null | grep -qi 'noto sans cjk' || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]} — run as root or install them: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
