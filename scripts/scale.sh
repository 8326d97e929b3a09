#!/usr/bin/env bash
# The scale test with a real PostgreSQL stop: three herald processes on one database deliver a
# campaign (20,000 recipients unless given), the tenant's dispatcher is killed with SIGKILL a
# quarter of the way, and the PostgreSQL server itself is stopped for 10 s past half way.
#
#   scripts/scale.sh [RECIPIENTS]
#
# Stops the local cluster with pg_ctlcluster (Debian's postgresql-common): every other user of
# that server loses it for 10 s too, so run this on its own. Needs the server on
# 127.0.0.1:5432 with trust auth for user postgres (override with HERALD_TEST_POSTGRES_URL).
set -euo pipefail
cd "$(dirname "$0")/.."

recipients="${1:-20000}"
version="$(ls /etc/postgresql | sort -V | tail -1)"
export HERALD_TEST_POSTGRES_URL="${HERALD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export HERALD_SCALE_RECIPIENTS="$recipients"
export HERALD_SCALE_DB_STOP="pg_ctlcluster --skip-systemctl-redirect $version main stop -m fast"
export HERALD_SCALE_DB_START="pg_ctlcluster --skip-systemctl-redirect $version main start"

# Whatever happens, leave the server running.
trap '$HERALD_SCALE_DB_START 2>/dev/null || true' EXIT
cargo test --release --test scale -- --nocapture
