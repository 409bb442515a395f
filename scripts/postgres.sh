#!/usr/bin/env bash
# A throwaway PostgreSQL server for the LRS tests and benchmarks.
#   scripts/postgres.sh install           install the Debian packages when initdb/pg_ctl are missing
#   scripts/postgres.sh start DIR PORT    initialise (once) and start a cluster in DIR on 127.0.0.1:PORT;
#                                         prints its URL (trust authentication, loopback only)
#   scripts/postgres.sh stop DIR          stop it
set -euo pipefail

bindir() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"; return
  fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  done
  return 1
}

as_owner() {  # a cluster must not run as root: use the postgres account then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  install)
    if bindir >/dev/null; then echo "PostgreSQL present: $(bindir)"; exit 0; fi
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    if ! command -v apt-get >/dev/null; then echo "postgres.sh: no PostgreSQL and no apt-get to install it" >&2; exit 1; fi
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bindir >/dev/null || { echo "postgres.sh: installing PostgreSQL failed" >&2; exit 1; }
    ;;
  start)
    dir=${2:?usage: postgres.sh start DIR PORT}; port=${3:?usage: postgres.sh start DIR PORT}
    bin=$(bindir) || { echo "postgres.sh: PostgreSQL is not installed (scripts/postgres.sh install)" >&2; exit 1; }
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; chmod 700 "$dir"; fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $dir -c fsync=on -c max_connections=100" start >/dev/null
    fi
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir=${2:?usage: postgres.sh stop DIR}
    bin=$(bindir)
    as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: scripts/postgres.sh install | start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
