#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, from the distribution's
# PostgreSQL binaries (Debian: /usr/lib/postgresql/<version>/bin, the highest
# version installed; else pg_ctl on PATH).
#
#   eval "$(scripts/pg-cluster.sh start)"   # exports VIPCTL_PG_CLUSTER and VIPCTL_TEST_PG
#   scripts/pg-cluster.sh url  [DIR]        # prints postgres://postgres@127.0.0.1:PORT/postgres
#   scripts/pg-cluster.sh stop [DIR]        # stops it and removes DIR; safe to repeat
#   scripts/pg-cluster.sh bindir            # prints the binaries' directory, or fails
#
# DIR defaults to $VIPCTL_PG_CLUSTER. `start` makes a fresh temp dir (or uses
# DIR when given and empty or missing) holding the data, the socket and the
# log; it listens on 127.0.0.1 only, on a free port, with trust
# authentication and fsync off: for tests, never for data anyone keeps.
# Run as root, the cluster runs as the `postgres` user (initdb refuses root).
set -euo pipefail

die() { echo "pg-cluster: $*" >&2; exit 1; }

bindir() {
  local d best=""
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] || continue
    local v=${d#/usr/lib/postgresql/}
    v=${v%/bin}
    if [ -z "$best" ] || [ "${v%%.*}" -gt "${best%%.*}" ]; then best=$v; fi
  done
  if [ -n "$best" ]; then
    echo "/usr/lib/postgresql/$best/bin"
  elif command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
  else
    return 1
  fi
}

# Runs a command as the cluster's owner: `postgres` when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cluster_dir() {
  local dir=${1:-${VIPCTL_PG_CLUSTER:-}}
  [ -n "$dir" ] || die "which cluster? give its directory or set VIPCTL_PG_CLUSTER"
  echo "$dir"
}

start() {
  local bin dir port tries
  bin=$(bindir) || die "PostgreSQL is not installed (no pg_ctl): apt-get install postgresql"
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    die "running as root and there is no 'postgres' user to own the cluster"
  fi
  if [ -n "${1:-}" ]; then
    dir=$1
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/vipctl-pg.XXXXXX")
  fi
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
  fi
  if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
      --locale=C --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    die "initdb failed in $dir"
  fi
  for tries in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    port_in_use "$port" && continue
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$dir' \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
            -c max_connections=200 -c wal_level=minimal -c max_wal_senders=0" >"$dir/pg_ctl.log" 2>&1; then
      echo "$port" >"$dir/port"
      echo "export VIPCTL_PG_CLUSTER=$dir"
      echo "export VIPCTL_TEST_PG=postgres://postgres@127.0.0.1:$port/postgres"
      return 0
    fi
    # Another process may have taken the port between the check and the
    # start: try another one, unless the server failed for another reason.
    if ! grep -qi "address already in use\|could not bind\|could not create any TCP/IP sockets" \
        "$dir/server.log" 2>/dev/null; then
      break
    fi
  done
  echo "pg-cluster: the server did not start; its log ($dir/server.log):" >&2
  cat "$dir/pg_ctl.log" "$dir/server.log" >&2 2>/dev/null || true
  as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit 1
}

url() {
  local dir
  dir=$(cluster_dir "${1:-}")
  [ -f "$dir/port" ] || die "no running cluster in $dir"
  echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres"
}

stop() {
  local dir bin
  dir=$(cluster_dir "${1:-}")
  [ -e "$dir" ] || return 0
  # Only ever remove a directory this script made.
  [ -d "$dir/data" ] || [ -f "$dir/initdb.log" ] || die "$dir is not a cluster of this script"
  if [ -f "$dir/data/postmaster.pid" ]; then
    bin=$(bindir) || die "PostgreSQL binaries not found to stop $dir"
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 \
      || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  url) shift; url "$@" ;;
  bindir) bindir || exit 1 ;;
  *) echo "usage: $0 start [DIR] | stop [DIR] | url [DIR] | bindir" >&2; exit 2 ;;
esac
