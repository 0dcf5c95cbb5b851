#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the server's tests, on loopback and a free port.
#
#   scripts/postgres.sh start DIR   initialise DIR (must not exist, or be empty), start the
#                                   server, print its URL (postgresql://nbflow:...@127.0.0.1:PORT/nbflow)
#   scripts/postgres.sh stop DIR    stop it (DIR is left for the caller to remove)
#
# initdb and pg_ctl refuse to run as root, so as root they run as the `postgres` user
# (Debian's `postgresql` package creates it). The cluster listens on 127.0.0.1 only, with a
# password, and its Unix socket lives inside DIR.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
dir=$2

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "$0: PostgreSQL's server programs were not found under /usr/lib/postgresql/*/bin." \
    "Fix: apt-get install -y postgresql" >&2
  exit 1
fi

as_db_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
start)
  mkdir -p "$dir"
  if [ -n "$(ls -A "$dir")" ]; then
    echo "$0: $dir is not empty. Fix: pass a new directory." >&2
    exit 1
  fi
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  chmod 700 "$dir"
  if ! as_db_user test -w "$dir"; then
    echo "$0: the postgres user cannot write to $dir (a parent directory is closed to it)." \
      "Fix: pass a directory whose parents others may enter (e.g. chmod 755 the parent)." >&2
    exit 1
  fi
  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf '%s\n' "$password" >"$dir/.pwfile"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/.pwfile"
  as_db_user "$bindir/initdb" -D "$dir/data" -U nbflow --pwfile="$dir/.pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions >"$dir/initdb.log"
  rm -f "$dir/.pwfile"
  as_db_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  as_db_user "$bindir/psql" -h "$dir" -p "$port" -U nbflow -d postgres -q \
    -c "CREATE DATABASE nbflow" >/dev/null
  echo "postgresql://nbflow:$password@127.0.0.1:$port/nbflow"
  ;;
stop)
  if [ -d "$dir/data" ]; then
    as_db_user "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  fi
  ;;
*)
  usage
  ;;
esac
