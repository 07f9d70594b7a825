#!/usr/bin/env bash
# Import benchmark (issue: nightly receipt import). Times, side by side in one
# run on the same machine and file:
#   1. sqlite3 .import of the receipts file into a plain table keyed by
#      (store, receipt, line) — the floor;
#   2. vipctl purchase --file, first import (200,000 members enrolled);
#   3. vipctl purchase --file, re-import of the same file (all duplicates);
# and the peak RSS of each vipctl run, for LINES and for 5×LINES.
#
# Usage: benches/import.sh [LINES] [MEMBERS]     (default 1000000 200000)
# Needs: sqlite3 and GNU time (/usr/bin/time); data goes to bench-data/.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
MEMBERS=${2:-200000}
DATA=bench-data
mkdir -p "$DATA"
command -v sqlite3 >/dev/null || { echo "benches/import.sh needs sqlite3 (apt-get install sqlite3)"; exit 2; }
[ -x /usr/bin/time ] || { echo "benches/import.sh needs GNU time (apt-get install time)"; exit 2; }

cargo build --release --quiet --bin vipctl --example gen_members --example gen_receipts
BIN=target/release/vipctl
EX=target/release/examples

[ -f "$DATA/members-$MEMBERS.csv" ] || "$EX/gen_members" "$MEMBERS" > "$DATA/members-$MEMBERS.csv"

secs() { python3 -c "import sys; print(f'{float(sys.argv[1]):.2f}')" "$1"; }

run_one() { # LINES
  local lines=$1
  local csv="$DATA/receipts-$lines.csv"
  [ -f "$csv" ] || "$EX/gen_receipts" "$lines" "$MEMBERS" > "$csv"
  local size; size=$(du -m "$csv" | cut -f1)

  # The floor: sqlite3 .import into a keyed table.
  rm -f "$DATA/floor.db"
  sqlite3 "$DATA/floor.db" "CREATE TABLE r (store TEXT, receipt TEXT, member TEXT, time TEXT, amount TEXT, list_amount TEXT, category TEXT, staff TEXT, line INTEGER DEFAULT 0, PRIMARY KEY (store, receipt, amount, category, list_amount, time)) WITHOUT ROWID;"
  local t0 t1
  t0=$(date +%s.%N)
  sqlite3 "$DATA/floor.db" ".mode csv" ".import --skip 1 $csv r" 2>/dev/null || true
  t1=$(date +%s.%N)
  local floor; floor=$(python3 -c "print($t1-$t0)")

  # A fresh vipctl database with the members enrolled.
  local db="$DATA/bench.db"
  rm -f "$db" "$db-wal" "$db-shm"
  "$BIN" --db "$db" init -q >/dev/null
  local te0 te1; te0=$(date +%s.%N)
  "$BIN" --db "$db" -q enroll --file "$DATA/members-$MEMBERS.csv" >/dev/null
  te1=$(date +%s.%N)
  local enroll; enroll=$(python3 -c "print($te1-$te0)")

  /usr/bin/time -f "%e %M" -o "$DATA/first.time" "$BIN" --db "$db" -q purchase --file "$csv" --format json > "$DATA/first.json"
  /usr/bin/time -f "%e %M" -o "$DATA/again.time" "$BIN" --db "$db" -q purchase --file "$csv" --format json > "$DATA/again.json"
  read -r first first_kb < "$DATA/first.time"
  read -r again again_kb < "$DATA/again.time"
  "$BIN" --db "$db" audit >/dev/null
  python3 - "$lines" "$size" "$floor" "$first" "$first_kb" "$again" "$again_kb" "$enroll" "$MEMBERS" <<'PY'
import sys
lines, size, floor, first, fkb, again, akb, enroll, members = sys.argv[1:]
floor, first, again = float(floor), float(first), float(again)
print(f"| {int(lines):,} lines ({size} MB) | sqlite3 .import keyed {floor:.2f} s | first import {first:.2f} s ({first/floor:.2f}×), peak {int(fkb)//1024} MB | re-import {again:.2f} s ({again/floor:.2f}×), peak {int(akb)//1024} MB | enroll {int(members):,} members {float(enroll):.2f} s |")
PY
}

echo "| file | floor | vipctl first import | vipctl re-import | enrolment |"
echo "| --- | --- | --- | --- | --- |"
run_one "$LINES"
if [ "${BENCH_BIG:-1}" = 1 ]; then
  run_one $((LINES * 5))
fi
