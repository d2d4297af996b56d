#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint, then pytest on SQLite and PostgreSQL.
#   bash scripts/test.sh            everything (what CI runs)
#   bash scripts/test.sh --fast     the quick loop: SQLite only, no server processes, no
#                                   Kivy rendering, no long fault runs
#   bash scripts/test.sh tests/test_x.py -k name   arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--fast" ]; then
  shift
  [ -x .venv/bin/pytest ] || bash scripts/setup.sh --test
  .venv/bin/ruff check .
  exec env -u TEST_DATABASE_URL .venv/bin/pytest -q -m "not slow and not live and not ui and not postgres" "$@"
fi
bash scripts/setup.sh --test
TEST_DATABASE_URL="$(bash scripts/postgres.sh)"
export TEST_DATABASE_URL
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/pytest "$@"
