#!/usr/bin/env bash
# The main job end to end on the shipped fixtures, into ./vipctl.db (the
# default database file): create the database with the menswear chain's
# program (002: grades A/B/C by points, enrolment at any amount),
# register staff, enrol members, import a month of receipts (twice: the second
# run only counts duplicates), re-rank tiers, look up a member, report and
# export the tiers, and audit the ledger.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# building vipctl (release; the first build takes a few minutes)"
cargo build --release --bin vipctl
vipctl() { target/release/vipctl "$@"; }
export VIPCTL_OPERATOR=${VIPCTL_OPERATOR:-demo}

# Only a database this demo created (it leaves a marker beside it) is
# removed; any other vipctl.db is someone's data and is left alone.
marker=.vipctl-demo-db
if [ -e vipctl.db ]; then
  if [ -e "$marker" ]; then
    echo "# removing the previous demo's vipctl.db"
    rm -f vipctl.db vipctl.db-wal vipctl.db-shm tiers.csv "$marker"
  else
    echo "error: ./vipctl.db exists and this demo did not create it; move it away (or run the demo in another checkout)" >&2
    exit 1
  fi
fi
touch "$marker"
step() { echo; echo "\$ vipctl $*"; vipctl "$@"; }

step init --program fixtures/programs/menswear.toml
step program show --explain
step staff add --file fixtures/staff.csv
step enroll --file fixtures/members.csv
step purchase --file fixtures/receipts.csv
echo "# the same file again: every receipt is a duplicate, nothing is credited twice"
step purchase --file fixtures/receipts.csv
step tier-recompute --changes -
step member show C000001
step member list --store BJ01
step report tiers
step export tiers --excel -o tiers.csv
step audit
