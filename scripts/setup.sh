#!/usr/bin/env bash
# Sets the project up on a fresh Debian machine with Python 3.11; safe to run again.
#   bash scripts/setup.sh          what the server and the kiosk need
#   bash scripts/setup.sh --test   plus what the test suite needs (PostgreSQL, ...)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
  || { echo "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))" >&2; exit 1; }
"$PYTHON" -m venv --help >/dev/null 2>&1 && "$PYTHON" -c 'import ensurepip' 2>/dev/null \
  || missing+=(python3-venv)
if [ "$want_test" = 1 ]; then
  command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
  # The web pages' browser tests: Debian's Chromium (driven by Playwright) and CJK fonts.
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || missing+=(fonts-wqy-microhei)
  # The check-in sheet PDF test renders pages with pdftoppm and reads them with pdftotext.
  command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
extras="postgres"
[ "$want_test" = 1 ] && extras="postgres,dev"
# setuptools warns about every editable install (BuildBackendWarning): not for the shop's eyes.
PYTHONWARNINGS=ignore::UserWarning .venv/bin/python -m pip install -q -e ".[${extras}]" 2>&1 | grep -v "^WARNING: Location" || true
# Kivy (and alembic under Kivy's logger) would log a screenful at INFO on import.
KIVY_NO_CONSOLELOG=1 .venv/bin/python -c 'import kivy, flask, sqlalchemy, alembic, qrcode, PIL, babel' \
  || { echo "Python packages did not install" >&2; exit 1; }
