#!/usr/bin/env bash
# One entry point for people and CI:
#   scripts/dev.sh demo   set everything up, then run the main job (learnsight demo) on the embedded store
#   scripts/dev.sh test   set everything up, start a throwaway PostgreSQL server (for the LRS tests),
#                         then run ruff, mypy --strict and the whole test suite
# Set-up is idempotent: a virtual environment in .venv with learnsight installed editable.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -c 'import sys; assert sys.version_info >= (3, 11), "learnsight needs Python 3.11+"'
  "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.learnsight-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  python -m pip install --quiet --upgrade pip
  python -m pip install --quiet -e '.[dev,spark,torch,postgres,video]'
  touch "$stamp"
fi

case "${1:-}" in
  demo)
    shift
    learnsight demo "$@"
    ;;
  test)
    shift
    # A real PostgreSQL server for the LRS tests on the PostgreSQL backend (scripts/postgres.sh).
    if [ -z "${LEARNSIGHT_TEST_POSTGRES:-}" ]; then
      bash scripts/postgres.sh install
      pgdir=$(mktemp -d /tmp/learnsight-pg.XXXXXX)
      pgport=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      LEARNSIGHT_TEST_POSTGRES=$(bash scripts/postgres.sh start "$pgdir" "$pgport")
      export LEARNSIGHT_TEST_POSTGRES
      trap 'bash scripts/postgres.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
    fi
    ruff check --no-cache src tests benchmarks
    mypy
    python -m pytest -n 2 --doctest-modules src/learnsight tests "$@"
    ;;
  *)
    echo "usage: scripts/dev.sh demo|test [args]" >&2
    exit 2
    ;;
esac
