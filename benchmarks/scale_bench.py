"""Scale-out benchmark: 1, 2 and 3 server processes on one PostgreSQL, 1, 6 and 12 devices.

Each configuration gets a fresh copy of a migrated database and its own ``serve``
processes (waitress, 8 threads each); the devices are tablets, one OS process each (the
real local store and sync engine), that send every request to one of the processes at
random, as behind a load balancer. Every configuration does the same total work:
``--visits`` check-ins (customer, car, visit, a later edit of the visit, a note: 5
changes each) split evenly over its devices, pushed 200 changes at a time.

Before the measured rush the shop has been open a while: another tablet has pushed a
few check-ins through every process (each process has served a push and a pull), and
every device has synced once (its cursor is at the feed's head; a new tablet's first
pull, the working set, is not what is measured). ``--fresh-devices`` skips both, as the
benchmark did before 2026-12-07. Each device then saves its work (untimed) and, on
"go", runs sync rounds as a tablet does (push, then pull what the others pushed so
far) until its outbox is empty.

Prints, for each configuration:

- push throughput: changes saved by the server per second, from "go" until the last
  device's last push was answered (not the end of the pull that follows it in its
  round);
- convergence: until every device holds every record of every device (each pulls the
  feed while the others push, and once more after the last push);
- CPU seconds per 1,000 changes of each part, from "go" to convergence and until the
  last push: the server processes, the database's PostgreSQL backends, the devices
  (``benchmarks/cpu_meter.py``: they hold on a busy machine, where times do not);
  ``--py-spy DIR`` also profiles the servers and two devices;

and as ratios: 2 and 3 processes against 1 with 12 devices (goal: 2 processes >= 1.6x
one), and 12 devices against 1 device doing the same work (goal: within 2x).

    .venv/bin/python benchmarks/scale_bench.py [--postgres URL] [--visits 960]
        [--processes 1,2,3] [--devices 1,6,12] [--server-code OTHER_CHECKOUT]
        [--fresh-devices] [--py-spy DIR]

A before/after of the devices' code too: run this file from a copy of the other
checkout with ``PYTHONPATH=<copy>`` and ``--server-code <copy>``.

``--postgres`` (or ``TEST_DATABASE_URL``) names a database the benchmark may create
databases from (``CREATE DATABASE``); they are dropped at the end.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from cpu_meter import PostgresBackends, cpu_seconds, parent_pid  # noqa: E402
from live_server import LiveServer  # noqa: E402
from sync_workload import save_workload  # noqa: E402

from kiosk.services.local_store import LocalStore  # noqa: E402
from kiosk.services.sync import SyncEngine, SyncError, SyncTransport  # noqa: E402

PROCESSES = (1, 2, 3)
DEVICES = (1, 6, 12)
SECRET = "one-key-for-every-process-of-this-shop"
PROFILE_DIR = ""  # ``--py-spy DIR``: where py-spy writes its profiles
FRESH_DEVICES = False  # ``--fresh-devices``: new tablets on an empty feed, cold processes


class ShopProcess(LiveServer):
    server_code = ""  # another checkout's server code (``--server-code``), to compare

    @property
    def env(self) -> dict[str, str]:
        extra = {"PYTHONPATH": self.server_code} if self.server_code else {}
        return {**super().env, "SECRET_KEY": SECRET, **extra}


class SwitchingTransport(SyncTransport):
    """Each request to one of ``urls`` at random (a load balancer); notes when the
    last push was answered."""

    def __init__(self, urls: list[str], token: str, seed: int) -> None:
        self.urls, self.rng = urls, random.Random(seed)
        self.last_push_answered = 0.0
        super().__init__(urls[0], token, timeout=(2, 60))

    def push(self, *args: Any, **kwargs: Any) -> Any:
        answer = super().push(*args, **kwargs)
        self.last_push_answered = time.perf_counter()
        return answer

    @property  # type: ignore[override]
    def base_url(self) -> str:
        return self.rng.choice(self.urls)

    @base_url.setter
    def base_url(self, _value: str) -> None:
        pass


def _device(
    n: int,
    folder: str,
    device: tuple[str, str],
    urls: list[str],
    visits: int,
    start: Any,
    all_pushed: Any,
    results: Any,
) -> None:
    logging.disable(logging.INFO)
    token, device_id = device
    store = LocalStore(Path(folder) / f"tablet{n}", device_id)
    transport = SwitchingTransport(urls, token, seed=n)
    engine = SyncEngine(store, transport, batch_size=200)
    if not FRESH_DEVICES:
        # A tablet in use: paired and in step with the feed before the rush (its
        # first pull, a new tablet's working set, is not what is measured).
        engine.sync_once()
    save_workload(store, visits, 0, seed=n + 1, device=device_id)
    results.put(("ready", n))
    start.wait()
    cpu_began = time.process_time()
    pages = 0
    # Sync rounds as a tablet runs them (push, then pull what the others pushed so far)
    # until its outbox is empty; "pushed" is when its last push was answered, not the
    # end of the round's pull after it.
    while store.status().pending_changes:
        try:
            pages += engine.sync_once().requests
        except SyncError as error:
            print(f"device {n}: round failed: {error}", flush=True)
    # Moments on the machine's monotonic clock, the same in every process: the times
    # count from the moment the benchmark said "go", not from this device's wake-up.
    results.put(("pushed", n, transport.last_push_answered, time.process_time() - cpu_began))
    all_pushed.wait()
    engine.sync_once()  # the records pushed after this device's last pull
    converged = time.perf_counter()
    results.put(("converged", n, converged, pages + 1, time.process_time() - cpu_began))
    transport.close()
    store.close()


def _profile(pids: list[tuple[str, int]], label: str) -> list[subprocess.Popen[bytes]]:
    """With ``--py-spy DIR``: sample these processes with py-spy until stopped (SIGINT),
    writing collapsed stacks to DIR/<label>-<name>.txt."""
    if not PROFILE_DIR:
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
                f"{PROFILE_DIR}/{label}-{name}.txt",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids
    ]


def _earlier_work(database_url: str, urls: list[str], folder: str) -> None:
    """The shop's work before the measured rush: a few check-ins from another tablet
    through every process, so the feed is not empty (the devices start in step with
    it) and every process has served a push and a pull, as in a shop open all day."""
    ((token, device_id),) = _pair(database_url, urls, 1)
    store = LocalStore(Path(folder) / "earlier", device_id)
    for k, server_url in enumerate(urls):
        save_workload(store, 2, 0, seed=1000 + k, device=device_id)
        with SyncTransport(server_url, token) as transport:
            SyncEngine(store, transport).sync_once()
    store.close()


def _applied_changes(database_url: str) -> int:
    check = create_engine(database_url)
    with check.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM applied_changes")).scalar_one()
    check.dispose()
    return int(count)


def _pair(database_url: str, urls: list[str], count: int) -> list[tuple[str, str]]:
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


def run(
    admin_url: str, template: str, processes: int, devices: int, visits: int
) -> dict[str, float]:
    """One configuration on a fresh copy of the migrated ``template``."""
    name = f"scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        postmaster = parent_pid(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as folder:
        servers = [ShopProcess(Path(folder) / f"p{k}", url) for k in range(processes)]
        try:
            for server in servers:
                server.launch()
            for server in servers:
                server.wait_until_up(timeout_s=120)
            urls = [server.url for server in servers]
            paired = _pair(url, urls, devices)
            if not FRESH_DEVICES:
                _earlier_work(url, urls, folder)
            earlier = _applied_changes(url)
            context = multiprocessing.get_context("fork")
            start, all_pushed = context.Event(), context.Event()
            results = context.Queue()
            workers = [
                context.Process(
                    target=_device,
                    args=(
                        n,
                        folder,
                        paired[n],
                        urls,
                        visits // devices,
                        start,
                        all_pushed,
                        results,
                    ),
                )
                for n in range(devices)
            ]
            for worker in workers:
                worker.start()
            for _ in workers:  # every device has saved its work
                results.get(timeout=600)
            backends = PostgresBackends(postmaster, name)
            backends.start()
            profilers = _profile(
                [(f"server{k}", server.pid or 0) for k, server in enumerate(servers)]
                + [(f"device{n}", worker.pid or 0) for n, worker in enumerate(workers[:2])],
                f"{processes}p{devices}d",
            )
            server_cpu = sum(cpu_seconds(server.pid) for server in servers)
            began = time.perf_counter()
            start.set()
            pushed = [results.get(timeout=600) for _ in workers]
            # What each part used until every device had pushed all (each device's own
            # figure ends with the round of its last push).
            push_cpu = (
                sum(cpu_seconds(server.pid) for server in servers) - server_cpu,
                backends.sample(),
                sum(item[3] for item in pushed),
            )
            all_pushed.set()
            converged = [results.get(timeout=600) for _ in workers]
            server_cpu = sum(cpu_seconds(server.pid) for server in servers) - server_cpu
            postgres_cpu = backends.stop()
            for profiler in profilers:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=60)
            for worker in workers:
                worker.join(timeout=60)
            changes = _applied_changes(url) - earlier
        finally:
            for server in servers:
                server.stop()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    push_s = max(item[2] for item in pushed) - began
    per_thousand = 1000 / changes
    return {
        "changes": changes,
        "push_s": push_s,
        "per_s": changes / push_s,
        "converge_s": max(item[2] for item in converged) - began,
        "requests": max(item[3] for item in converged),
        # CPU seconds per 1,000 changes, start to convergence (pushes and pulls).
        "cpu_server": server_cpu * per_thousand,
        "cpu_postgres": postgres_cpu * per_thousand,
        "cpu_devices": sum(item[4] for item in converged) * per_thousand,
        "connections": backends.connections,
        # The same until the last push (servers, postgres, devices).
        "push_cpu": tuple(seconds * per_thousand for seconds in push_cpu),
    }


def _template(admin_url: str) -> str:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL", ""))
    parser.add_argument("--visits", type=int, default=960, help="check-ins in all (5 changes each)")
    parser.add_argument("--processes", default=",".join(map(str, PROCESSES)))
    parser.add_argument("--devices", default=",".join(map(str, DEVICES)))
    parser.add_argument(
        "--server-code", default="", help="run the servers from this checkout (a before/after)"
    )
    parser.add_argument(
        "--py-spy", default="", help="profile servers and two devices into this folder"
    )
    parser.add_argument(
        "--fresh-devices",
        action="store_true",
        help="as before 2026-12-07: new tablets (cursor 0: a working set as first pull) on "
        "an empty feed, server processes that served nothing yet",
    )
    args = parser.parse_args()
    ShopProcess.server_code = args.server_code
    global PROFILE_DIR, FRESH_DEVICES
    PROFILE_DIR, FRESH_DEVICES = args.py_spy, args.fresh_devices
    if not args.postgres:
        parser.error("give --postgres URL (or set TEST_DATABASE_URL)")
    template = _template(args.postgres)
    logging.disable(logging.INFO)
    figures: dict[tuple[int, int], dict[str, float]] = {}
    print(f"load average before: {_load_average()}")
    try:
        for processes in map(int, args.processes.split(",")):
            for devices in map(int, args.devices.split(",")):
                figure = run(args.postgres, template, processes, devices, args.visits)
                figures[(processes, devices)] = figure
                print(
                    f"{processes} process(es), {devices:2d} device(s): "
                    f"{figure['changes']} changes pushed in {figure['push_s']:.2f} s "
                    f"= {figure['per_s']:,.0f}/s; converged in {figure['converge_s']:.2f} s "
                    f"({figure['requests']:.0f} requests per device at most); "
                    f"CPU s per 1,000 changes: servers {figure['cpu_server']:.2f}, "
                    f"postgres {figure['cpu_postgres']:.2f}, devices {figure['cpu_devices']:.2f} "
                    f"({figure['connections']} database connections); until the last push: "
                    + ", ".join(f"{value:.2f}" for value in figure["push_cpu"]),
                    flush=True,
                )
    finally:
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()
    print(f"load average after: {_load_average()}")
    most = max(map(int, args.devices.split(",")))
    one = figures.get((1, most))
    for processes in (2, 3):
        other = figures.get((processes, most))
        if one and other:
            goal = " (goal >= 1.6)" if processes == 2 else ""
            print(
                f"push throughput, {processes} processes / 1, {most} devices: "
                f"{other['per_s'] / one['per_s']:.2f}x{goal}"
            )
    for processes in map(int, args.processes.split(",")):
        single, many = figures.get((processes, 1)), figures.get((processes, most))
        if single and many:
            print(
                f"convergence, {most} devices / 1 device, {processes} process(es): "
                f"{many['converge_s'] / single['converge_s']:.2f}x (goal <= 2)"
            )


def _load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}, {five:.1f}, {fifteen:.1f}"


if __name__ == "__main__":
    main()
