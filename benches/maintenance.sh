#!/usr/bin/env bash
# Maintenance benchmark (tier recompute, tiers export, year-end reset, reports).
#
# Builds (once, then cached in bench-data/maint/) a mall-program database with
# MEMBERS members (examples/gen_members.rs + `vipctl enroll --file`) and LINES
# receipt lines over the 400 days 2025-10-17 … 2026-11-20
# (examples/gen_receipts.rs + `vipctl purchase --file`), then times on copies:
#   1. vipctl tier-recompute --as-of 2026-11-20   (goal < 30 s, aim 10 s; peak < 300 MB)
#   2. vipctl export tiers --as-of 2026-11-20      (goal < 10 s, memory flat)
#   3. vipctl audit, after them                   (issue 12: ≤ 1× the import floor)
#   4. vipctl year-end-reset --year 2026           (goal < 20 s, aim 5 s; memory flat)
#      --as-of 2027-01-01, on a fresh copy
#   5. vipctl report tiers --as-of 2026-11-20, and every other report that
#      `vipctl report --help` lists (care, dormant, birthdays, stores, staff,
#      top, …) with default options                (goal < 10 s each)
# then 1–4 again for MEMBERS/10 members and LINES/10 lines, to show that the
# export and the reset do not grow in memory with the database.
#
# Prints one markdown row per (job, size): wall seconds, user + system CPU
# seconds and peak RSS from GNU time, and the load average (1, 5, 15 min) when the job started — the machine
# has 2 cores and may be shared. The build (enroll, import) is timed too; when
# the database comes from the cache its build rows are re-printed, marked so.
#
# Usage: benches/maintenance.sh [MEMBERS] [LINES]   (default 1000000 10000000)
# Needs: GNU time (/usr/bin/time), python3. Data goes to bench-data/maint/
# (the cached databases are maint-MEMBERS-LINES.db; delete them after a
# schema change). The tiers export is written to bench-data/tiers.csv.
# A failed job prints a FAILED row (its stderr is in bench-data/maint/) and the
# run goes on; the script then exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
MEMBERS=${1:-1000000}
LINES=${2:-10000000}
DATA=bench-data/maint
mkdir -p "$DATA"
[ -x /usr/bin/time ] || { echo "benches/maintenance.sh needs GNU time (apt-get install time)"; exit 2; }
command -v python3 >/dev/null || { echo "benches/maintenance.sh needs python3"; exit 2; }
export VIPCTL_OPERATOR=${VIPCTL_OPERATOR:-bench}

# The rules test program the figures were taken with (the handbook mall
# program enrols only on receipts, R6).
PROGRAM=tests/programs/rules-mall.toml
START=2025-10-17
DAYS=400
AS_OF=2026-11-20
FAILED=0

cargo build --release --quiet --bin vipctl --example gen_members --example gen_receipts
# Private copies: others may rebuild target/release while this runs.
cp target/release/vipctl "$DATA/vipctl"
cp target/release/examples/gen_members target/release/examples/gen_receipts "$DATA/"
BIN=$DATA/vipctl

loadavg() { cut -d' ' -f1-3 /proc/loadavg | sed 's/ / \/ /g'; }

row() { # JOB MEMBERS LINES SECONDS PEAK_KB LOAD [USER_S SYS_S]
  python3 - "$@" <<'PY'
import sys
job, m, l, s, kb, load = sys.argv[1:7]
secs = f"{float(s):.2f}" if s.replace('.', '', 1).isdigit() else s
if len(sys.argv) > 8:
    secs += f" ({float(sys.argv[7]) + float(sys.argv[8]):.2f})"
mb = f"{int(kb) / 1024:.1f}" if kb.isdigit() else kb
print(f"| {job} | {int(m):,} | {int(l):,} | {secs} | {mb} | {load} |")
PY
}

# timed NAME MEMBERS LINES OK_CODES -- CMD...: run CMD under GNU time, print a
# row; stdout/stderr go to $DATA/NAME.out / .err. OK_CODES: e.g. "0" or "0 3".
timed() {
  local name=$1 m=$2 l=$3 ok=$4; shift 5
  local tag="${name// /-}-$m-$l" load rc=0
  load=$(loadavg)
  /usr/bin/time -f "%e %M %U %S" -o "$DATA/$tag.time" "$@" >"$DATA/$tag.out" 2>"$DATA/$tag.err" || rc=$?
  local s kb u y; read -r s kb u y < <(tail -n1 "$DATA/$tag.time")
  if [[ " $ok " == *" $rc "* ]]; then
    row "$name" "$m" "$l" "$s" "$kb" "$load" "$u" "$y"
  else
    row "$name FAILED (exit $rc)" "$m" "$l" "$s" "$kb" "$load" "$u" "$y"
    { echo "FAILED: $*"; tail -n 5 "$DATA/$tag.err"; } >&2
    FAILED=1
  fi
  return 0
}

copy_db() { # SRC DST
  rm -f "$2" "$2-wal" "$2-shm"
  cp "$1" "$2"
  [ ! -f "$1-wal" ] || cp "$1-wal" "$2-wal"
}

# build_db MEMBERS LINES: sets DB to the cached database, building it if absent.
build_db() {
  local m=$1 l=$2
  DB="$DATA/maint-$m-$l.db"
  local rows="$DATA/maint-$m-$l.build.md"
  if [ -f "$DB" ] && [ -f "$rows" ]; then
    sed 's/^| \(enroll\|import\) /| \1 (cached build) /' "$rows"
    return 0
  fi
  local members="$DATA/members-$m.csv" receipts="$DATA/receipts-$l-$m.csv"
  [ -f "$members" ] || "$DATA/gen_members" "$m" > "$members"
  [ -f "$receipts" ] || "$DATA/gen_receipts" "$l" "$m" 42 G 9 "$START" "$DAYS" > "$receipts"
  local tmp="$DATA/building.db"
  rm -f "$tmp" "$tmp-wal" "$tmp-shm"
  "$BIN" --db "$tmp" -q init --program "$PROGRAM" >/dev/null
  local before=$FAILED
  # enroll/purchase exit 3 when rows were rejected (counted in the .out file).
  timed enroll "$m" "$l" "0 3" -- "$BIN" --db "$tmp" -q enroll --file "$members" \
    --rejects "$DATA/members-$m.rejects.csv" --format json | tee "$rows"
  timed import "$m" "$l" "0 3" -- "$BIN" --db "$tmp" -q purchase --file "$receipts" \
    --rejects "$DATA/receipts-$l-$m.rejects.csv" --format json | tee -a "$rows"
  if grep -q FAILED "$rows"; then
    FAILED=1; rm -f "$rows"; DB=""; return 0
  fi
  FAILED=$before
  mv "$tmp" "$DB"
  [ ! -f "$tmp-wal" ] || mv "$tmp-wal" "$DB-wal"
  rm -f "$tmp-shm"
}

# Reports listed by `vipctl report --help` (tiers first).
REPORTS=$("$BIN" report --help | awk '/^Commands:/{c=1;next} c&&/^[^ ]/{c=0} c&&/^  [^ ]/{print $1}' | grep -vx help || true)
REPORTS="tiers $(echo "$REPORTS" | grep -vx tiers | tr '\n' ' ')"

run_size() { # MEMBERS LINES FULL(1: with reports)
  local m=$1 l=$2 full=$3
  build_db "$m" "$l"
  if [ -z "$DB" ]; then echo "build of $m/$l failed; skipping its jobs" >&2; FAILED=1; return 0; fi
  local a="$DATA/work-a.db" b="$DATA/work-b.db"
  copy_db "$DB" "$a"
  timed tier-recompute "$m" "$l" 0 -- "$BIN" --db "$a" -q --as-of "$AS_OF" tier-recompute
  timed "export tiers" "$m" "$l" 0 -- "$BIN" --db "$a" -q --as-of "$AS_OF" export tiers -o bench-data/tiers.csv
  timed audit "$m" "$l" 0 -- "$BIN" --db "$a" -q audit
  copy_db "$DB" "$b"
  timed year-end-reset "$m" "$l" 0 -- "$BIN" --db "$b" -q --as-of 2027-01-01 year-end-reset --year 2026 --allow-future-date
  rm -f "$b" "$b-wal" "$b-shm"
  if [ "$full" = 1 ]; then
    local r
    for r in $REPORTS; do
      timed "report $r" "$m" "$l" 0 -- "$BIN" --db "$a" -q --as-of "$AS_OF" report "$r"
    done
  fi
  rm -f "$a" "$a-wal" "$a-shm"
}

echo "| job | members | lines | seconds (CPU s) | peak MB | load avg (1/5/15 min) at start |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
run_size "$MEMBERS" "$LINES" 1
run_size $((MEMBERS / 10)) $((LINES / 10)) 0
exit $FAILED
