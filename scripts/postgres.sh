#!/usr/bin/env bash
# Starts the machine's PostgreSQL cluster and makes a test role; prints the URL to use.
#   export TEST_DATABASE_URL="$(bash scripts/postgres.sh)"
set -euo pipefail
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { as_root runuser -u postgres -- "$@"; }

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$version/main"; then
  as_root pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -qx online; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 30); do
  as_postgres psql -p "$port" -qtAc 'select 1' >/dev/null 2>&1 && break
  sleep 1
done
as_postgres psql -p "$port" -qtAc \
  "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'checkin_test') THEN
     CREATE ROLE checkin_test LOGIN CREATEDB PASSWORD 'checkin_test'; END IF; END \$\$;" >&2
# Dropping a test database WITH (FORCE) must be able to end an autovacuum worker in it.
as_postgres psql -p "$port" -qtAc "GRANT pg_signal_backend TO checkin_test" >&2
if ! as_postgres psql -p "$port" -qtAc "select 1 from pg_database where datname='checkin_test'" | grep -q 1; then
  as_postgres createdb -p "$port" -O checkin_test checkin_test >&2
fi
echo "postgresql+psycopg://checkin_test:checkin_test@127.0.0.1:${port}/checkin_test"
