#!/usr/bin/env bash
# Sets everything up, starts the server on its SQLite default with the demo shop,
# pairs a lobby kiosk with it and opens the kiosk app. Ctrl+C (or closing the kiosk) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export CHECKIN_INSTANCE_PATH="${CHECKIN_INSTANCE_PATH:-$PWD/var/instance}"
PORT="${PORT:-5000}"
SERVER="http://127.0.0.1:${PORT}"
MODE="${MODE:-kiosk}"
KIOSK_DATA="${KIOSK_DATA:-$PWD/var/$MODE}"

.venv/bin/checkin-server db upgrade
.venv/bin/checkin-server demo
.venv/bin/checkin-server serve --host "${HOST:-127.0.0.1}" --port "$PORT" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 50); do
  .venv/bin/python -c "import requests,sys; requests.get('$SERVER/api/v1/health', timeout=1).raise_for_status()" \
    2>/dev/null && break
  sleep 0.2
done

echo "Back office sign-in: manager / demo-pass-2026 (advisors: li.na, tom)"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No screen on this machine: the kiosk app needs one. The server keeps running at $SERVER."
  echo "On a touchscreen PC: checkin-kiosk --mode kiosk --server http://<this machine>:$PORT"
  wait "$server_pid"
  exit $?
fi

pair_args=()
if [ ! -s "$KIOSK_DATA/device.json" ]; then
  pair_args=(--pair-code "$(.venv/bin/checkin-server pair --role "$MODE" --name "Demo $MODE" --quiet)")
fi
.venv/bin/checkin-kiosk --mode "$MODE" --server "$SERVER" --data-dir "$KIOSK_DATA" --windowed "${pair_args[@]}"
