#!/usr/bin/env bash
# Makes sure the store tests have PostgreSQL 15 (tests/postgres.py starts a throwaway cluster
# with its initdb and pg_ctl): Debian's package when we are root on Debian. Does nothing when
# the binaries are there. `make run` never needs it: without REELSCOPE_DATABASE_URL the stores
# are SQLite files in the data folder.
set -euo pipefail
pg_bin="/usr/lib/postgresql/15/bin"

if [ -x "$pg_bin/initdb" ] && [ -x "$pg_bin/pg_ctl" ] \
  && [ -e /usr/share/postgresql/15/extension/pg_trgm.control ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's PostgreSQL 15 for the store tests…"
  apt-get update -qq
  # postgresql-15 carries the contrib extensions (pg_trgm) on bookworm.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  exit 0
fi
echo "PostgreSQL 15 is missing ($pg_bin/initdb) and this is not root on Debian:" >&2
echo "install it (Debian/Ubuntu: sudo apt-get install -y postgresql), then run make test again." >&2
exit 1
