"""The README's demo path on a machine without a screen, reachable from the shop network:
``HOST=0.0.0.0 bash scripts/run-demo.sh`` prints the pairing code and the command to run
on the touchscreen PC, with the machine's LAN address in every printed link (and in the
links sent to customers), and starts quietly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import requests
from live_server import free_port

from sync_server.public_address import public_base_url

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


def run_demo(tmp_path: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "PUBLIC_URL", "DATABASE_URL")
    }
    env.update(
        HOST="0.0.0.0",
        PORT=str(port),
        SETUP="0",
        CHECKIN_INSTANCE_PATH=str(tmp_path / "instance"),
        MESSAGE_SEND_SECONDS="3600",
    )
    process = subprocess.Popen(
        ["bash", "scripts/run-demo.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 180
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("A new code any time"):
            return process, lines
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)
    process.stdout.close()
    raise AssertionError("run-demo.sh did not finish starting:\n" + "\n".join(lines))


def test_headless_demo_prints_the_pairing_code_and_the_kiosk_command(tmp_path: Path) -> None:
    port = free_port()
    public = public_base_url("0.0.0.0", port)
    process, lines = run_demo(tmp_path, port)
    try:
        output = "\n".join(lines)
        assert f"Back office: {public}/board" in output
        [command] = [line.strip() for line in lines if "checkin-kiosk" in line and "--pair" in line]
        assert command.startswith(".venv/bin/checkin-kiosk --mode kiosk")
        assert f"--server {public} " in command
        code = CODE.search(command)
        assert code is not None and f"type {code.group(1)}" in output

        # Quiet: no Alembic chatter, no line twice, no line per seeded sheet.
        assert "setup plugin" not in output and "Context impl" not in output
        assert "check-in sheet of visit" not in output
        logged = [line.split(" ", 2)[-1] for line in lines if " INFO " in line]
        assert len(logged) == len(set(logged)), logged

        # The touchscreen PC pairs with the printed code.
        paired = requests.post(
            f"http://127.0.0.1:{port}/api/v1/devices/pair",
            json={"code": code.group(1), "device_name": "Lobby kiosk"},
            timeout=30,
        )
        assert paired.status_code == 201, paired.text
        assert paired.json()["role"] == "kiosk"

        # The links sent to customers (here: the demo's messages) use the LAN address.
        desk = requests.Session()
        page = desk.get(f"http://127.0.0.1:{port}/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        desk.post(
            f"http://127.0.0.1:{port}/login",
            data={"username": "manager", "password": "demo-pass-2026", "csrf_token": token},
            timeout=30,
        )
        messages = desk.get(f"http://127.0.0.1:{port}/messages", timeout=30).text
        assert f"{public}/status/" in messages
        assert "http://127.0.0.1" not in messages or public.startswith("http://127.0.0.1")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
        if process.stdout is not None:
            process.stdout.close()
