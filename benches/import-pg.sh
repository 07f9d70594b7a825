#!/usr/bin/env bash
# Import benchmark on PostgreSQL (issue: many stores, one database). Times,
# back to back on the same server:
#   1. the floor: `psql \copy` of the receipts file into a table keyed by
#      (store, receipt, amount, category, list_amount, time);
#   2. `vipctl purchase --file` into a database with the members enrolled
#      (first import), and the same file again (re-import);
#   3. with STORES_AT_ONCE=N (default "2 4"): the file split by store into N
#      files imported by N processes at once into a fresh copy, then audit and
#      the totals checked equal to the single import's.
# Prints a markdown table of wall seconds and ratios to the floor.
#
# Usage: PGURL=postgres://user@host:port benches/import-pg.sh
#   LINES (100000), MEMBERS (20000), BENCH_DATA (bench-data), STORES_AT_ONCE
#   from the environment. PGURL names a server where databases may be
#   created and dropped (without a database name; `postgres` is used to
#   create them). BENCH_BIN=path times that build instead of building one.
#   Needs psql, createdb/dropdb on PATH or in
#   /usr/lib/postgresql/*/bin, python3, GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${PGURL:?set PGURL=postgres://user@host:port (a server where databases may be created)}"
LINES=${LINES:-100000}
MEMBERS=${MEMBERS:-20000}
DATA=${BENCH_DATA:-bench-data}
STORES_AT_ONCE=${STORES_AT_ONCE:-2 4}
mkdir -p "$DATA"
command -v psql >/dev/null || { echo "needs psql"; exit 2; }
if [ -n "${BENCH_BIN:-}" ] && [ -x "$DATA/gen_members" ] && [ -x "$DATA/gen_receipts" ]; then
  cp "$BENCH_BIN" "$DATA/vipctl"   # a given build, generators already in $DATA
else
  cargo build --release --quiet --bin vipctl --example gen_members --example gen_receipts
  cp target/release/vipctl target/release/examples/gen_members target/release/examples/gen_receipts "$DATA/"
fi
BIN=$DATA/vipctl
export VIPCTL_OPERATOR=bench
unset RUST_BACKTRACE RUST_LIB_BACKTRACE  # no backtrace per handled error
psql_db() { psql -qAt "$PGURL/$1" "${@:2}"; }
recreate() { psql_db postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null 2>&1; }
clone() { psql_db postgres -c "DROP DATABASE IF EXISTS $2" -c "CREATE DATABASE $2 TEMPLATE $1" >/dev/null 2>&1; }
timed() { local out=$1; shift; /usr/bin/time -f "%e %U %S %M" -o "$out" "$@" >/dev/null; }

members="$DATA/members-$MEMBERS-all.csv"
[ -f "$members" ] || "$DATA/gen_members" "$MEMBERS" 42 all > "$members"
csv="$DATA/receipts-pg-$LINES-$MEMBERS.csv"
[ -f "$csv" ] || "$DATA/gen_receipts" "$LINES" "$MEMBERS" 42 G 9 2026-05-01 210 0 50 20 phone "$members" 3 > "$csv"

# The enrolled database, kept as a template.
base=vipctl_bench_enrolled_$MEMBERS
if ! psql_db "$base" -c "SELECT 1" >/dev/null 2>&1; then
  recreate "$base"
  "$BIN" --db "$PGURL/$base" -q init >/dev/null
  "$BIN" --db "$PGURL/$base" -q enroll --file "$members" >/dev/null
fi

# 1. The floor.
recreate vipctl_bench_floor
cols=$(head -1 "$csv" | sed 's/,/ TEXT, /g; s/$/ TEXT/')
psql_db vipctl_bench_floor -c "CREATE TABLE r ($cols, PRIMARY KEY (store, receipt, amount, category, list_amount, time))" >/dev/null
# A few generated receipts repeat a line: copy into a staging table, then
# insert with ON CONFLICT, both inside the timed command, as a keyed load.
timed "$DATA/floor.time" psql -qAt "$PGURL/vipctl_bench_floor" \
  -c "CREATE TEMP TABLE s (LIKE r)" \
  -c "\\copy s FROM '$csv' WITH (FORMAT csv, HEADER true, NULL '\\N')" \
  -c "INSERT INTO r SELECT * FROM s ON CONFLICT DO NOTHING"
read -r floor _ <"$DATA/floor.time"

# 2. One import, then again.
clone "$base" vipctl_bench_work
timed "$DATA/first.time" "$BIN" --db "$PGURL/vipctl_bench_work" -q purchase --file "$csv"
read -r first _ _ first_kb <"$DATA/first.time"
timed "$DATA/again.time" "$BIN" --db "$PGURL/vipctl_bench_work" -q purchase --file "$csv"
read -r again _ _ again_kb <"$DATA/again.time"
"$BIN" --db "$PGURL/vipctl_bench_work" -q audit >/dev/null || echo "AUDIT FAILED after the single import" >&2
totals() { psql_db "$1" -c "SELECT (SELECT COUNT(*) FROM receipts), (SELECT COALESCE(SUM(points), 0) FROM ledger), (SELECT COALESCE(SUM(balance), 0) FROM members)"; }
single=$(totals vipctl_bench_work)

echo "| job ($LINES lines, $MEMBERS members, PostgreSQL) | seconds | ratio to the floor ($floor s) | peak MB |"
echo "| --- | ---: | ---: | ---: |"
python3 -c "import sys; f=float(sys.argv[1]); 
for name, s, kb in [('first import', sys.argv[2], sys.argv[3]), ('re-import', sys.argv[4], sys.argv[5])]:
    print(f'| {name} | {float(s):.2f} | {float(s)/f:.2f}× | {int(kb)/1024:.0f} |')" "$floor" "$first" "$first_kb" "$again" "$again_kb"

# 3. Several stores at once, one process each.
for n in $STORES_AT_ONCE; do
  clone "$base" vipctl_bench_par
  python3 - "$csv" "$n" "$DATA/part" <<'PY'
import csv, sys
src, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(src, newline='', encoding='utf-8') as f:
    r = csv.reader(f)
    header = next(r)
    si = header.index('store')
    outs = [open(f"{prefix}-{i}.csv", 'w', newline='', encoding='utf-8') for i in range(n)]
    ws = [csv.writer(o) for o in outs]
    for w in ws:
        w.writerow(header)
    stores = {}
    for row in r:
        i = stores.setdefault(row[si], len(stores) % n)
        ws[i].writerow(row)
    for o in outs:
        o.close()
PY
  start=$(date +%s.%N)
  pids=()
  for i in $(seq 0 $((n - 1))); do
    "$BIN" --db "$PGURL/vipctl_bench_par" -q --wait 3600 purchase --file "$DATA/part-$i.csv" >/dev/null &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  end=$(date +%s.%N)
  "$BIN" --db "$PGURL/vipctl_bench_par" -q audit >/dev/null || echo "AUDIT FAILED after $n imports at once" >&2
  same=$([ "$(totals vipctl_bench_par)" = "$single" ] && echo "equal" || echo "DIFFERENT: $(totals vipctl_bench_par) vs $single")
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); f=float(sys.argv[3]); print(f'| {sys.argv[4]} stores at once (totals {sys.argv[5]}) | {s:.2f} | {s/f:.2f}× | |')" \
    "$start" "$end" "$floor" "$n" "$same"
done
