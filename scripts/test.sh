#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint, then pytest on SQLite and PostgreSQL.
#   bash scripts/test.sh            everything (what CI runs)
#   bash scripts/test.sh --fast     the quick loop: SQLite only, no server processes, no
#                                   Kivy rendering, no long fault runs
#   bash scripts/test.sh tests/test_x.py -k name   arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
# One pytest worker more than there are cores, at most four (pytest-xdist;
# PYTEST_WORKERS=n to choose): a worker spends about a third of its time waiting (on
# server processes, the browser, timers), and two workers left a 2-core machine 35 % idle.
# A test file stays on one worker, as the Kivy tests of a file share their window and
# event loop; the files go out longest first (tests/conftest.py orders them by
# tests/file_durations.json), not by their number of tests, so the workers end together.
workers=$(( $(nproc 2>/dev/null || echo 1) + 1 ))
[ "$workers" -gt 4 ] && workers=4
workers=${PYTEST_WORKERS:-$workers}
parallel=(-n "$workers" --dist loadfile --no-loadscope-reorder)
if [ "${1:-}" = "--fast" ]; then
  shift
  .venv/bin/python -c "import xdist" 2>/dev/null || bash scripts/setup.sh --test
  .venv/bin/ruff check .
  exec env -u TEST_DATABASE_URL .venv/bin/pytest -q -m "not slow and not live and not ui and not postgres" "${parallel[@]}" "$@"
fi
bash scripts/setup.sh --test
TEST_DATABASE_URL="$(bash scripts/postgres.sh)"
export TEST_DATABASE_URL
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/pytest "${parallel[@]}" "$@"
