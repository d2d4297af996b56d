"""The shop the scale-out benchmark runs in: a fresh copy of a migrated PostgreSQL
database, ``serve`` processes on it, paired tablets, the shop's earlier work, and what
each part spends in a measured window (``benchmarks/scale_bench.py``,
``benchmarks/push_replay.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from cpu_meter import PostgresBackends, cpu_seconds, machine_seconds, parent_pid  # noqa: E402
from live_server import LiveServer  # noqa: E402
from sync_workload import save_workload  # noqa: E402

from kiosk.services.local_store import LocalStore  # noqa: E402
from kiosk.services.sync import SyncEngine, SyncTransport  # noqa: E402

SECRET = "one-key-for-every-process-of-this-shop"


class ShopProcess(LiveServer):
    server_code = ""  # another checkout's server code (``--server-code``), to compare

    @property
    def env(self) -> dict[str, str]:
        extra = {"PYTHONPATH": self.server_code} if self.server_code else {}
        return {**super().env, "SECRET_KEY": SECRET, **extra}


@dataclass
class Shop:
    """A running shop: its database, its server processes and its paired tablets."""

    url: str  # the database
    name: str  # the database's name
    postmaster: int
    folder: Path
    servers: list[ShopProcess]
    paired: list[tuple[str, str]]  # (token, device id) of each tablet
    earlier: int = 0  # changes saved before the measured rush

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def changes_since_earlier(self) -> int:
        return applied_changes(self.url) - self.earlier


@contextmanager
def shop(
    admin_url: str, template: str, processes: int, devices: int, *, earlier_work: bool = True
) -> Iterator[Shop]:
    """``processes`` server processes on a fresh copy of the migrated ``template``,
    ``devices`` tablets paired; with ``earlier_work``, the shop has been open a while
    (:func:`_earlier_work`). The database is dropped afterwards."""
    name = f"scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        postmaster = parent_pid(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory(prefix="scale-bench-") as folder_name:
            folder = Path(folder_name)
            servers = [ShopProcess(folder / f"p{k}", url) for k in range(processes)]
            try:
                for server in servers:
                    server.launch()
                for server in servers:
                    server.wait_until_up(timeout_s=120)
                running = Shop(url, name, postmaster, folder, servers, [])
                running.paired = pair(url, running.urls, devices)
                if earlier_work:
                    _earlier_work(url, running.urls, folder)
                running.earlier = applied_changes(url)
                yield running
            finally:
                for server in servers:
                    server.stop()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _earlier_work(database_url: str, urls: list[str], folder: Path) -> None:
    """The shop's work before the measured rush: a few check-ins from another tablet
    through every process, so the feed is not empty (the devices start in step with
    it) and every process has served a push and a pull, as in a shop open all day."""
    ((token, device_id),) = pair(database_url, urls, 1)
    store = LocalStore(folder / "earlier", device_id)
    for k, server_url in enumerate(urls):
        save_workload(store, 2, 0, seed=1000 + k, device=device_id)
        with SyncTransport(server_url, token) as transport:
            SyncEngine(store, transport).sync_once()
    store.close()


def applied_changes(database_url: str) -> int:
    check = create_engine(database_url)
    with check.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM applied_changes")).scalar_one()
    check.dispose()
    return int(count)


def pair(database_url: str, urls: list[str], count: int) -> list[tuple[str, str]]:
    """``count`` tablets paired (through the processes in turn): (token, device id) each."""
    from sqlalchemy.orm import Session

    from sync_server.models import DeviceRole
    from sync_server.pairing import issue_code

    engine = create_engine(database_url)
    with Session(engine) as session:
        codes = [issue_code(session, DeviceRole.TABLET).code for _ in range(count)]
    engine.dispose()
    paired = []
    for n, code in enumerate(codes):
        body = requests.post(
            f"{urls[n % len(urls)]}/api/v1/devices/pair",
            json={"code": code, "device_name": f"Tablet {n}"},
            timeout=30,
        ).json()
        paired.append((body["token"], body["device_id"]))
    return paired


def template_database(admin_url: str) -> str:
    """A migrated database to copy for each configuration (drop it at the end)."""
    from sync_server import create_app
    from sync_server.migrate import upgrade

    name = f"scale_template_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    upgrade(app)
    app.extensions["db_engine"].dispose()
    return name


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class CpuWindow:
    """What the servers, the database's PostgreSQL backends and the whole machine spent
    from :meth:`start` on (CPU seconds, from ``/proc``); :meth:`sample` reads it so far."""

    shop: Shop
    backends: PostgresBackends = field(init=False)
    began: float = 0.0
    _servers: float = 0.0
    _machine: tuple[float, float] = (0.0, 0.0)

    def start(self) -> None:
        self.backends = PostgresBackends(self.shop.postmaster, self.shop.name)
        self.backends.start()
        self._servers = self._server_seconds()
        self._machine = machine_seconds()
        self.began = time.perf_counter()

    def sample(self) -> dict[str, float]:
        """Seconds so far: ``servers``, ``postgres``, ``machine_busy`` (every process on
        the machine) and ``machine_cores`` (cores busy on average meanwhile)."""
        busy, total = machine_seconds()
        machine_busy = busy - self._machine[0]
        wall = (total - self._machine[1]) / (os.cpu_count() or 1)
        return {
            "servers": self._server_seconds() - self._servers,
            "postgres": self.backends.sample(),
            "machine_busy": machine_busy,
            "machine_cores": machine_busy / max(wall, 1e-9),
            "wall": time.perf_counter() - self.began,
        }

    def stop(self) -> None:
        self.backends.stop()

    def _server_seconds(self) -> float:
        return sum(cpu_seconds(server.pid or 0) for server in self.shop.servers)


def profile(
    profile_dir: str, pids: list[tuple[str, int]], label: str
) -> list[subprocess.Popen[bytes]]:
    """With ``--py-spy DIR``: sample these processes with py-spy until stopped (SIGINT),
    writing collapsed stacks to DIR/<label>-<name>.txt."""
    if not profile_dir:
        return []
    spy = Path(sys.executable).with_name("py-spy")
    return [
        subprocess.Popen(
            [
                str(spy),
                "record",
                "--pid",
                str(pid),
                "--rate",
                "100",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                f"{profile_dir}/{label}-{name}.txt",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids
    ]
