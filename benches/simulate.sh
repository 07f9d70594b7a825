#!/usr/bin/env bash
# What-if benchmark (issue: finance and operations). On the same file and
# machine, times:
#   1. sqlite3 .import of the receipts file into a keyed table — the import
#      floor (as benches/import.sh);
#   2. vipctl simulate --program DRAFT over every stored receipt, after the
#      file was imported for MEMBERS members;
# and the peak RSS of simulate. The draft earns 1 point per 2 yuan and
# lifts members to the second tier at half the spend.
#
# Usage: benches/simulate.sh [LINES] [MEMBERS]     (default 1000000 200000)
# Needs: sqlite3 and GNU time (/usr/bin/time); data goes to bench-data/.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
MEMBERS=${2:-200000}
DATA=bench-data
mkdir -p "$DATA"
command -v sqlite3 >/dev/null || { echo "benches/simulate.sh needs sqlite3"; exit 2; }
[ -x /usr/bin/time ] || { echo "benches/simulate.sh needs GNU time"; exit 2; }

cargo build --release --quiet --bin vipctl --example gen_members --example gen_receipts
BIN=target/release/vipctl
EX=target/release/examples

[ -f "$DATA/members-$MEMBERS.csv" ] || "$EX/gen_members" "$MEMBERS" > "$DATA/members-$MEMBERS.csv"
csv="$DATA/receipts-$LINES.csv"
[ -f "$csv" ] || "$EX/gen_receipts" "$LINES" "$MEMBERS" > "$csv"

rm -f "$DATA/floor.db"
sqlite3 "$DATA/floor.db" "CREATE TABLE r (store TEXT, receipt TEXT, member TEXT, time TEXT, amount TEXT, list_amount TEXT, category TEXT, staff TEXT, line INTEGER DEFAULT 0, PRIMARY KEY (store, receipt, amount, category, list_amount, time)) WITHOUT ROWID;"
t0=$(date +%s.%N)
sqlite3 "$DATA/floor.db" ".mode csv" ".import --skip 1 $csv r" 2>/dev/null || true
t1=$(date +%s.%N)
floor=$(python3 -c "print($t1-$t0)")

db="$DATA/simulate.db"
rm -f "$db" "$db-wal" "$db-shm"
"$BIN" --db "$db" init -q >/dev/null
"$BIN" --db "$db" -q enroll --file "$DATA/members-$MEMBERS.csv" >/dev/null
"$BIN" --db "$db" -q purchase --file "$csv" >/dev/null

# The draft: the program in force with half the earning rate and the second
# tier's thresholds halved.
"$BIN" --db "$db" program show > "$DATA/current.toml"
python3 - "$DATA/current.toml" "$DATA/draft.toml" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
src = re.sub(r'(?m)^yuan_per_point = "1"', 'yuan_per_point = "2"', src, count=1)
src = re.sub(r'min = "(\d+)"', lambda m: f'min = "{int(m.group(1)) // 2}"', src)
open(sys.argv[2], "w").write(src)
PY
sum_before=$(sha256sum "$db" | cut -c1-16)
/usr/bin/time -f "%e %M" -o "$DATA/simulate.time" "$BIN" --db "$db" -q simulate --program "$DATA/draft.toml" --changes "$DATA/changes.csv" --format json > "$DATA/simulate.json"
sum_after=$(sha256sum "$db" | cut -c1-16)
[ "$sum_before" = "$sum_after" ] || { echo "simulate changed the database"; exit 1; }
read -r secs kb < "$DATA/simulate.time"
python3 - "$LINES" "$MEMBERS" "$floor" "$secs" "$kb" "$DATA/simulate.json" <<'PY'
import json, sys
lines, members, floor, secs, kb, summary = sys.argv[1:]
floor, secs = float(floor), float(secs)
s = json.load(open(summary))
print("| file | floor | vipctl simulate | receipts replayed | members changed |")
print("| --- | --- | --- | --- | --- |")
print(f"| {int(lines):,} lines, {int(members):,} members | sqlite3 .import keyed {floor:.2f} s | {secs:.2f} s ({secs/floor:.2f}×), peak {int(kb)//1024} MB | {s['receipts']:,} | {s['members_changed']:,} |")
PY
