#!/usr/bin/env bash
# The tests, on both backends: the whole suite on SQLite (`cargo test
# --locked`), then the integration suite again on PostgreSQL, each test in a
# fresh database of its own.
#
#   bash scripts/test.sh                 # everything
#   bash scripts/test.sh test_purchase:: # a filter, passed to cargo test
#
# PostgreSQL: the server in $VIPCTL_TEST_PG (postgres://user@host:port/db, a
# role that may CREATE DATABASE), else a throwaway cluster that
# scripts/pg-cluster.sh starts here and stops after. Without PostgreSQL the
# run is SQLite only, with a warning, except under CI=true, where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== tests on SQLite"
env -u VIPCTL_TEST_PG cargo test --locked "$@"

cluster=""
stop_cluster() {
  if [ -n "$cluster" ]; then
    scripts/pg-cluster.sh stop "$cluster" || true
  fi
}
trap stop_cluster EXIT

url=${VIPCTL_TEST_PG:-}
if [ -z "$url" ]; then
  if ! scripts/pg-cluster.sh bindir >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then
      echo "error: PostgreSQL is not installed (no pg_ctl) and CI=true: the PostgreSQL run cannot be skipped" >&2
      exit 1
    fi
    {
      echo
      echo "################################################################"
      echo "# WARNING: PostgreSQL is not installed: the tests ran on SQLite"
      echo "# only. Install it (Debian/Ubuntu: apt-get install postgresql)"
      echo "# or point VIPCTL_TEST_PG at a server, then run this again."
      echo "################################################################"
    } >&2
    exit 0
  fi
  out=$(scripts/pg-cluster.sh start) || {
    echo "error: could not start a throwaway PostgreSQL cluster (see above)" >&2
    exit 1
  }
  eval "$out"
  cluster=$VIPCTL_PG_CLUSTER
  url=$VIPCTL_TEST_PG
fi

echo "== integration tests on PostgreSQL ($url)"
VIPCTL_TEST_PG=$url cargo test --locked --test tests "$@"
