"""A real sync server process on loopback, for tests that cross the network.

:class:`LiveServer` runs ``checkin-server serve`` (waitress, migrations applied on
start) with its own instance folder and database, so devices talk to it over real
sockets with real retries, and a test can kill it (SIGKILL, like a power cut) and start
it again on the same data. Import the fixture into a test module::

    from live_server import LiveServer, live_server_fixture  # noqa: F401

and name ``live_server: LiveServer`` as a test's argument.

The fixture runs each test on SQLite and, when ``TEST_DATABASE_URL`` is set, again on
PostgreSQL. The server's log goes to ``server.log`` in the test's folder; its tail is
printed at teardown, which pytest shows only when the test failed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, create_engine

REPO = Path(__file__).resolve().parents[1]
SERVER_COMMAND = Path(sys.executable).with_name("checkin-server")
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class PairedDevice:
    """A device paired with the live server: its bearer token and its uid."""

    token: str
    device_id: str
    role: str
    status_link_key: str = ""  # the key it makes its visits' status links with


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """One ``checkin-server`` process with its data under ``root``."""

    def __init__(self, root: Path, database_url: str | None = None) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.instance_path = root / "instance"
        self.database_url = database_url or f"sqlite:///{root / 'server.sqlite3'}"
        self.log_path = root / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._engine: Engine | None = None
        # Settings for this server alone (e.g. ``LIVE_MAX_STREAMS``), set before start.
        self.extra_env: dict[str, str] = {}

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CHECKIN_INSTANCE_PATH": str(self.instance_path),
            "DATABASE_URL": self.database_url,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def copy_database(self, template: Path) -> LiveServer:
        """Start from a copy of a migrated SQLite file (the session's ``sqlite_template``),
        so that the server starts without running the migrations."""
        shutil.copyfile(template, self.root / "server.sqlite3")
        return self

    # -- process -----------------------------------------------------------------------

    def start(self) -> LiveServer:
        self.launch()
        self._wait_until_healthy()
        return self

    def launch(self) -> None:
        """Start the process without waiting for it (several at once: then
        :meth:`wait_until_up` each)."""
        if self._process is not None:
            raise RuntimeError("the server is already running")
        with self.log_path.open("ab") as log:
            log.write(f"--- start on port {self.port} ---\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [str(SERVER_COMMAND), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                cwd=self.root,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_up(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until the launched process answers ``/health`` (raises if it exited)."""
        self._wait_until_healthy(timeout_s)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM) and release the database engine."""
        self._end(signal.SIGTERM)
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def terminate(self) -> None:
        """SIGTERM without waiting: to stop several at once, terminate each, then
        :meth:`stop` each."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)

    def restart(self) -> None:
        """Kill and start again on the same port and data."""
        self.kill()
        self.start()

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs (to read its memory use, say)."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _end(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _wait_until_healthy(self, timeout_s: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"checkin-server exited at start:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"checkin-server did not answer in time:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- shop set-up -------------------------------------------------------------------

    def cli(self, *args: str) -> str:
        """Run ``checkin-server ARGS`` on this server's data; returns its output."""
        result = subprocess.run(
            [str(SERVER_COMMAND), *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"checkin-server {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def pairing_code(self, role: str = "tablet") -> str:
        """A pairing code, issued as ``checkin-server pair --role ROLE`` issues it (the
        same ``issue_code``) but in this process: a CLI process costs about two seconds,
        and tests pair dozens of devices. The command itself runs as a process in
        ``test_kiosk_flow_live.py`` and in-process in ``test_server_cli.py``."""
        from sqlalchemy.orm import Session

        from sync_server.models import DeviceRole
        from sync_server.pairing import issue_code

        # An engine of its own, closed at once: a backup restored under the server
        # replaces its database, and a pooled connection would write to the old one.
        engine = create_engine(self.database_url)
        try:
            with Session(engine) as session:
                return issue_code(session, DeviceRole(role)).display
        finally:
            engine.dispose()

    def pair_device(self, role: str = "tablet", name: str = "Test device") -> PairedDevice:
        """Redeem a fresh pairing code over HTTP, as a new device would."""
        code = self.pairing_code(role)
        response = requests.post(
            f"{self.url}/api/v1/devices/pair",
            json={"code": code, "device_name": name},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return PairedDevice(
            body["token"], body["device_id"], body["role"], body.get("status_link_key", "")
        )

    def pair(self, role: str = "tablet") -> str:
        """A fresh bearer token for a device of ``role``."""
        return self.pair_device(role).token

    def revoke(self, device_id: str) -> None:
        self.cli("devices", "revoke", device_id)

    def db_engine(self) -> Engine:
        """An engine on the server's database, for assertions (reads only, please)."""
        if self._engine is None:
            self._engine = create_engine(self.database_url)
        return self._engine


@pytest.fixture(
    name="live_server",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def live_server_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """A running server on SQLite in this test's folder, and again on PostgreSQL.

    The database is a copy of the session's migrated template (``server_fixtures``); the
    PostgreSQL run is skipped without ``TEST_DATABASE_URL`` and required under CI.
    """
    if request.param == "postgres":
        server = LiveServer(tmp_path / "server", request.getfixturevalue("migrated_postgres_url"))
    else:
        server = LiveServer(tmp_path / "server")
        # A copy of the session's migrated database: the server starts without migrating.
        server.copy_database(request.getfixturevalue("sqlite_template"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        print(f"--- server log tail ({server.log_path}) ---\n{server.log_tail()}")
