#!/usr/bin/env bash
# Sets everything up and runs the whole test suite: lint, then pytest on SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
TEST_DATABASE_URL="$(bash scripts/postgres.sh)"
export TEST_DATABASE_URL
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/pytest "$@"
