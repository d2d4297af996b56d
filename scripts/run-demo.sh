#!/usr/bin/env bash
# Sets everything up, starts the server on its SQLite default with the demo shop,
# pairs a lobby kiosk with it and opens the kiosk app. Ctrl+C (or closing the kiosk) stops both.
#   HOST=0.0.0.0 bash scripts/run-demo.sh   reachable from phones and other PCs: links and
#                                          QR codes use this machine's LAN address
#                                          (or PUBLIC_URL when it is set)
#   MODE=tablet bash scripts/run-demo.sh    the advisor tablet instead of the kiosk
#   SETUP=0 bash scripts/run-demo.sh        skip the set-up step (already done)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SETUP:-1}" = 0 ] || bash scripts/setup.sh

export CHECKIN_INSTANCE_PATH="${CHECKIN_INSTANCE_PATH:-$PWD/var/instance}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-5000}"
LOCAL="http://127.0.0.1:${PORT}"
MODE="${MODE:-kiosk}"
KIOSK_DATA="${KIOSK_DATA:-$PWD/var/$MODE}"
if [ -z "${PUBLIC_URL:-}" ]; then
  # What phones and other PCs open: this machine's LAN address when it listens on it.
  PUBLIC_URL="$(.venv/bin/python -c 'import sys
from sync_server.public_address import public_base_url
print(public_base_url(sys.argv[1], int(sys.argv[2])))' "$HOST" "$PORT")"
  [ "$HOST" = "0.0.0.0" ] || [ "$HOST" = "::" ] || PUBLIC_URL="$LOCAL"
fi
export PUBLIC_URL

.venv/bin/checkin-server db upgrade >/dev/null
.venv/bin/checkin-server demo
.venv/bin/checkin-server serve --host "$HOST" --port "$PORT" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 50); do
  .venv/bin/python -c "import requests,sys; requests.get('$LOCAL/api/v1/health', timeout=1).raise_for_status()" \
    2>/dev/null && break
  sleep 0.2
done

echo "Back office: $PUBLIC_URL/board — sign in as manager / demo-pass-2026 (advisors: li.na, tom)"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  code="$(.venv/bin/checkin-server pair --role "$MODE" --name "Demo $MODE" --quiet)"
  echo "No screen on this machine: the $MODE app needs one. The server keeps running at $PUBLIC_URL."
  echo "Pairing code for a $MODE: $code (valid 10 minutes, once)."
  echo "On the touchscreen PC, in a checkout of this project after 'bash scripts/setup.sh':"
  echo "  .venv/bin/checkin-kiosk --mode $MODE --server $PUBLIC_URL --pair-code $code"
  echo "  (or start it without --pair-code and type $code on its pairing screen)"
  if [ "$PUBLIC_URL" = "$LOCAL" ]; then
    echo "Only this machine can reach $LOCAL: start with HOST=0.0.0.0 for other PCs and phones."
  fi
  echo "A new code any time: .venv/bin/checkin-server pair --role $MODE"
  wait "$server_pid"
  exit $?
fi

pair_args=()
if [ ! -s "$KIOSK_DATA/device.json" ]; then
  pair_args=(--pair-code "$(.venv/bin/checkin-server pair --role "$MODE" --name "Demo $MODE" --quiet)")
fi
.venv/bin/checkin-kiosk --mode "$MODE" --server "$LOCAL" --data-dir "$KIOSK_DATA" --windowed "${pair_args[@]}"
