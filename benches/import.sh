#!/usr/bin/env bash
# Import benchmark (issue: the nightly import at the floor). For each shape
# of receipts file, times back to back on the same machine, REPEAT times,
# and prints the medians:
#   1. the floor: `sqlite3 .import` of the file into a table keyed by
#      (store, receipt, amount, category, list_amount, time), WITHOUT ROWID;
#   2. `vipctl purchase --file`, first import, into a copy of a database
#      with the members enrolled;
#   3. the same file again (re-import: every receipt a duplicate);
# with peak RSS from GNU time and user + system CPU. Ratios are against the
# floor of the same run, of wall time and of CPU time (on a shared machine
# the CPU ratio is the steadier one).
#
# Shapes (every one: 10% non-member sales, 2% returns, every member with a
# stated birthday, 1–3 lines a receipt):
#   phone-7m-50s  members named by phone, 7 months, 50 stores (a chain's night)
#   card-7m-50s   by card
#   number-7m-50s by member number
#   phone-1m-50s  one month
#   phone-7m-3s   3 stores
#   card-1m-3s    the project's earlier shape (by card, one month, 3 stores)
#
# Usage: benches/import.sh [SHAPE...]      (default: all six)
#   LINES (1000000), MEMBERS (200000), REPEAT (3), BENCH_DATA (bench-data)
#   from the environment; BENCH_BIN=path times that vipctl build instead of
#   building one (the generators must then be in BENCH_DATA already).
#   MAINT=1 also times tier-recompute, export tiers, year-end-reset and audit
#   on the database the first shape's import left, against its floor.
# Needs sqlite3, GNU time (/usr/bin/time), python3. Data in bench-data/.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-1000000}
MEMBERS=${MEMBERS:-200000}
REPEAT=${REPEAT:-3}
# REPEAT_OTHERS: repeats for every shape after the first (default REPEAT).
REPEAT_OTHERS=${REPEAT_OTHERS:-$REPEAT}
DATA=${BENCH_DATA:-bench-data}
mkdir -p "$DATA"
command -v sqlite3 >/dev/null || { echo "needs sqlite3"; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)"; exit 2; }
SHAPES=("$@")
[ ${#SHAPES[@]} -gt 0 ] || SHAPES=(phone-7m-50s card-7m-50s number-7m-50s phone-1m-50s phone-7m-3s card-1m-3s)

if [ -n "${BENCH_BIN:-}" ] && [ -x "$DATA/gen_members" ] && [ -x "$DATA/gen_receipts" ]; then
  # A given build (BENCH_BIN), with the generators already in $DATA.
  cp "$BENCH_BIN" "$DATA/vipctl"
else
  cargo build --release --quiet --bin vipctl --example gen_members --example gen_receipts
  # Private copies: others may rebuild target/release while this runs.
  cp target/release/vipctl target/release/examples/gen_members target/release/examples/gen_receipts "$DATA/"
fi
BIN=$DATA/vipctl
export VIPCTL_OPERATOR=bench
# A backtrace captured for every error made and handled on the way would
# be timed too.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE

members="$DATA/members-$MEMBERS-all.csv"
[ -f "$members" ] || "$DATA/gen_members" "$MEMBERS" 42 all > "$members"
base="$DATA/enrolled-$MEMBERS.db"
if [ ! -f "$base" ]; then
  rm -f "$base.tmp" "$base.tmp-wal" "$base.tmp-shm"
  "$BIN" --db "$base.tmp" -q init >/dev/null
  "$BIN" --db "$base.tmp" -q enroll --file "$members" >/dev/null
  sqlite3 "$base.tmp" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  mv "$base.tmp" "$base"; rm -f "$base.tmp-wal" "$base.tmp-shm"
fi

fresh() { rm -f "$1" "$1-wal" "$1-shm"; cp "$base" "$1"; }

# timed OUT CMD...: wall, user+sys seconds and peak KB of CMD into OUT.
timed() { local out=$1; shift; /usr/bin/time -f "%e %U %S %M" -o "$out" "$@" >/dev/null; }

floor_run() { # CSV -> "wall cpu" seconds
  local csv=$1 db="$DATA/floor.db"
  rm -f "$db"
  local cols; cols=$(head -1 "$csv" | sed 's/,/ TEXT, /g; s/$/ TEXT/')
  sqlite3 "$db" "CREATE TABLE r ($cols, PRIMARY KEY (store, receipt, amount, category, list_amount, time)) WITHOUT ROWID;"
  # A few generated receipts repeat a line (same category and amount):
  # the keyed table refuses the repeat, which sqlite3 reports and skips.
  timed "$DATA/floor.time" sqlite3 "$db" ".mode csv" ".import --skip 1 $csv r" 2>/dev/null || true
  local e u s kb; read -r e u s kb < "$DATA/floor.time"
  echo "$e $(python3 -c "print($u+$s)")"
}

median() { python3 -c "import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }

echo "| shape | lines | members | floor s (CPU s) | first import s (CPU s) | ratio wall (CPU) | peak MB | re-import s (CPU s) | ratio wall (CPU) | peak MB |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
first_shape=1
for shape in "${SHAPES[@]}"; do
  IFS=- read -r by months stores <<<"$shape"
  days=$(( ${months%m} == 1 ? 30 : 210 ))
  csv="$DATA/receipts-$shape-$LINES-$MEMBERS.csv"
  [ -f "$csv" ] || "$DATA/gen_receipts" "$LINES" "$MEMBERS" 42 G 9 2026-05-01 "$days" 0 "${stores%s}" 20 "$by" "$members" 3 > "$csv"
  F=(); FC=(); I=(); C=(); M=(); R=(); RC=(); RM=()
  n=$REPEAT; [ $first_shape = 1 ] || n=$REPEAT_OTHERS
  for _ in $(seq "$n"); do
    read -r fe fc < <(floor_run "$csv")
    F+=("$fe"); FC+=("$fc")
    db="$DATA/work.db"; fresh "$db"
    timed "$DATA/first.time" "$BIN" --db "$db" -q purchase --file "$csv"
    read -r e u s kb < "$DATA/first.time"
    I+=("$e"); C+=("$(python3 -c "print($u+$s)")"); M+=("$kb")
    timed "$DATA/again.time" "$BIN" --db "$db" -q purchase --file "$csv"
    read -r e u s kb < "$DATA/again.time"
    R+=("$e"); RC+=("$(python3 -c "print($u+$s)")"); RM+=("$kb")
  done
  "$BIN" --db "$db" -q audit >/dev/null || echo "AUDIT FAILED after $shape" >&2
  python3 - "$shape" "$LINES" "$MEMBERS" "$(median "${F[@]}")" "$(median "${FC[@]}")" "$(median "${I[@]}")" "$(median "${C[@]}")" \
      "$(median "${M[@]}")" "$(median "${R[@]}")" "$(median "${RC[@]}")" "$(median "${RM[@]}")" <<'PY'
import sys
shape, lines, members = sys.argv[1:4]
floor, fcpu, first, cpu, kb, again, acpu, akb = map(float, sys.argv[4:])
print(f"| {shape} | {int(lines):,} | {int(members):,} | {floor:.2f} ({fcpu:.2f}) | {first:.2f} ({cpu:.2f}) | {first/floor:.2f}× ({cpu/fcpu:.2f}×) | {kb/1024:.0f} | {again:.2f} ({acpu:.2f}) | {again/floor:.2f}× ({acpu/fcpu:.2f}×) | {akb/1024:.0f} |")
PY
  if [ "${MAINT:-0}" = 1 ] && [ $first_shape = 1 ]; then
    floor=$(median "${F[@]}"); floor_cpu=$(median "${FC[@]}")
    maint="$DATA/maint-after-$shape.db"; rm -f "$maint"*; cp "$db" "$maint"; [ ! -f "$db-wal" ] || cp "$db-wal" "$maint-wal"
    echo
    echo "| job ($shape, $LINES lines, $MEMBERS members) | seconds (CPU s), median of $REPEAT | ratio to the floor, wall ($floor s) and CPU ($floor_cpu s) | peak MB |"
    echo "| --- | ---: | ---: | ---: |"
    for job in "tier-recompute" "export tiers" "year-end-reset" "audit"; do
      T=(); TC=(); K=()
      for _ in $(seq "$REPEAT"); do
        w="$DATA/maint-work.db"; rm -f "$w" "$w-wal" "$w-shm"; cp "$maint" "$w"; [ ! -f "$maint-wal" ] || cp "$maint-wal" "$w-wal"
        case $job in
          tier-recompute) timed "$DATA/job.time" "$BIN" --db "$w" -q --as-of 2026-11-28 tier-recompute ;;
          "export tiers") timed "$DATA/job.time" "$BIN" --db "$w" -q --as-of 2026-11-28 export tiers -o "$DATA/tiers.csv" ;;
          year-end-reset) timed "$DATA/job.time" "$BIN" --db "$w" -q --as-of 2027-01-01 year-end-reset --year 2026 --allow-future-date ;;
          audit) timed "$DATA/job.time" "$BIN" --db "$w" -q audit ;;
        esac
        read -r e u s kb < "$DATA/job.time"; T+=("$e"); TC+=("$(python3 -c "print($u+$s)")"); K+=("$kb")
      done
      python3 -c "import sys; t,tc,f,fc,kb=map(float,sys.argv[2:]); print(f'| {sys.argv[1]} | {t:.2f} ({tc:.2f}) | {t/f:.2f}× ({tc/fc:.2f}×) | {kb/1024:.0f} |')" \
        "$job" "$(median "${T[@]}")" "$(median "${TC[@]}")" "$floor" "$floor_cpu" "$(median "${K[@]}")"
    done
    echo
  fi
  first_shape=0
done
