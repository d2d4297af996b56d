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
- the cores busy until the last push: the whole machine's (``/proc/stat``: everything on
  it, other people's work too) and this run's parts'. When the machine is at 2.00 of 2,
  the times say how much CPU the run got, not what the servers can do;

and, with ``--mode replay`` (the default runs both), **push throughput with lean
clients** (``benchmarks/push_replay.py``): the same tablets' pushes recorded ahead of
time by their own sync engines and replayed by one small OS process per tablet over
keep-alive HTTP, so the clients cost next to nothing of the two cores; then the
ceiling on this machine from each part's CPU per change (the arithmetic in the README);

and as ratios: 2 and 3 processes against 1 with 12 devices (goal: 2 processes >= 1.6x
one), and 12 devices against 1 device doing the same work (goal: within 2x).

    .venv/bin/python benchmarks/scale_bench.py [--postgres URL] [--visits 960]
        [--processes 1,2,3] [--devices 1,6,12] [--server-code OTHER_CHECKOUT]
        [--fresh-devices] [--py-spy DIR] [--mode devices,replay]

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
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from push_replay import run_replay  # noqa: E402
from scale_shop import (  # noqa: E402
    CpuWindow,
    Shop,
    ShopProcess,
    drop_database,
    profile,
    shop,
    template_database,
)
from sync_workload import save_workload  # noqa: E402

from kiosk.services.local_store import LocalStore  # noqa: E402
from kiosk.services.sync import SyncEngine, SyncError, SyncTransport  # noqa: E402

PROCESSES = (1, 2, 3)
DEVICES = (1, 6, 12)
PROFILE_DIR = ""  # ``--py-spy DIR``: where py-spy writes its profiles
FRESH_DEVICES = False  # ``--fresh-devices``: new tablets on an empty feed, cold processes


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


def run_devices(shop: Shop, devices: int, visits: int) -> dict[str, float]:
    """Real tablets push and pull until they converge; the figures."""
    context = multiprocessing.get_context("fork")
    start, all_pushed = context.Event(), context.Event()
    results = context.Queue()
    workers = [
        context.Process(
            target=_device,
            args=(
                n,
                str(shop.folder),
                shop.paired[n],
                shop.urls,
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
    window = CpuWindow(shop)
    window.start()
    profilers = profile(
        PROFILE_DIR,
        [(f"server{k}", server.pid or 0) for k, server in enumerate(shop.servers)]
        + [(f"device{n}", worker.pid or 0) for n, worker in enumerate(workers[:2])],
        f"{len(shop.servers)}p{devices}d",
    )
    start.set()
    pushed = [results.get(timeout=600) for _ in workers]
    # What each part used until every device had pushed all (each device's own figure
    # ends with the round of its last push, its pull included).
    at_push = window.sample()
    all_pushed.set()
    converged = [results.get(timeout=600) for _ in workers]
    spent = window.sample()
    window.stop()
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)
    for worker in workers:
        worker.join(timeout=60)
    changes = shop.changes_since_earlier()
    push_s = max(item[2] for item in pushed) - window.began
    per_thousand = 1000 / changes
    devices_at_push = sum(item[3] for item in pushed)
    return {
        "changes": changes,
        "push_s": push_s,
        "per_s": changes / push_s,
        "converge_s": max(item[2] for item in converged) - window.began,
        "requests": max(item[3] for item in converged),
        # CPU seconds per 1,000 changes, start to convergence (pushes and pulls).
        "cpu_server": spent["servers"] * per_thousand,
        "cpu_postgres": spent["postgres"] * per_thousand,
        "cpu_devices": sum(item[4] for item in converged) * per_thousand,
        "connections": window.backends.connections,
        # The same until the last push (servers, postgres, devices).
        "push_cpu": (
            at_push["servers"] * per_thousand,
            at_push["postgres"] * per_thousand,
            devices_at_push * per_thousand,
        ),
        # Cores busy on average until every device had pushed: the whole machine
        # (everything on it), and this run's parts.
        "machine_cores": at_push["machine_cores"],
        "our_cores": (at_push["servers"] + at_push["postgres"] + devices_at_push) / at_push["wall"],
    }


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
    parser.add_argument(
        "--mode",
        default="devices,replay",
        help="devices: real tablets push and pull (push throughput and convergence); "
        "replay: their pushes recorded, then replayed by lean clients (push throughput)",
    )
    args = parser.parse_args()
    ShopProcess.server_code = args.server_code
    global PROFILE_DIR, FRESH_DEVICES
    PROFILE_DIR, FRESH_DEVICES = args.py_spy, args.fresh_devices
    if not args.postgres:
        parser.error("give --postgres URL (or set TEST_DATABASE_URL)")
    modes = args.mode.split(",")
    template = template_database(args.postgres)
    logging.disable(logging.INFO)
    figures: dict[tuple[str, int, int], dict[str, float]] = {}
    print(f"load average before: {_load_average()}")
    try:
        for processes in map(int, args.processes.split(",")):
            for devices in map(int, args.devices.split(",")):
                if "devices" in modes:
                    with shop(
                        args.postgres, template, processes, devices,
                        earlier_work=not FRESH_DEVICES,
                    ) as running:  # fmt: skip
                        figure = run_devices(running, devices, args.visits)
                    figures[("devices", processes, devices)] = figure
                    print(_devices_line(processes, devices, figure), flush=True)
                if "replay" in modes:
                    with shop(args.postgres, template, processes, devices) as running:
                        figure = run_replay(
                            running, devices, args.visits // devices, PROFILE_DIR,
                            f"{processes}p{devices}d",
                        )  # fmt: skip
                    figures[("replay", processes, devices)] = figure
                    print(_replay_line(processes, devices, figure), flush=True)
    finally:
        drop_database(args.postgres, template)
    print(f"load average after: {_load_average()}")
    _print_ratios(figures, modes, args)


def _devices_line(processes: int, devices: int, figure: dict[str, float]) -> str:
    return (
        f"real devices, {processes} process(es), {devices:2d} device(s): "
        f"{figure['changes']} changes pushed in {figure['push_s']:.2f} s "
        f"= {figure['per_s']:,.0f}/s; converged in {figure['converge_s']:.2f} s "
        f"({figure['requests']:.0f} requests per device at most); "
        f"CPU s per 1,000 changes: servers {figure['cpu_server']:.2f}, "
        f"postgres {figure['cpu_postgres']:.2f}, devices {figure['cpu_devices']:.2f} "
        f"({figure['connections']} database connections); until the last push: "
        + " / ".join(f"{value:.2f}" for value in figure["push_cpu"])
        + f"; cores busy until the last push: machine {figure['machine_cores']:.2f} "
        f"of {os.cpu_count()}, this run {figure['our_cores']:.2f}"
    )


def _replay_line(processes: int, devices: int, figure: dict[str, float]) -> str:
    return (
        f"replayed pushes, {processes} process(es), {devices:2d} client(s): "
        f"{figure['changes']} changes pushed in {figure['push_s']:.2f} s "
        f"= {figure['per_s']:,.0f}/s ({figure['retried']:.0f} pushes sent again after 503); "
        f"CPU s per 1,000 changes: servers {figure['cpu_server']:.2f}, "
        f"postgres {figure['cpu_postgres']:.2f}, clients {figure['cpu_clients']:.2f}; "
        f"cores busy: machine {figure['machine_cores']:.2f} of {os.cpu_count()}, "
        f"this run {figure['our_cores']:.2f} (servers {figure['server_cores']:.2f}, "
        f"postgres {figure['postgres_cores']:.2f})"
    )


def _print_ratios(
    figures: dict[tuple[str, int, int], dict[str, float]], modes: list[str], args: Any
) -> None:
    most = max(map(int, args.devices.split(",")))
    cores = os.cpu_count() or 1
    for mode in modes:
        one = figures.get((mode, 1, most))
        if not one:
            continue
        for processes in (2, 3):
            other = figures.get((mode, processes, most))
            if other:
                goal = " (goal >= 1.6)" if processes == 2 else ""
                print(
                    f"push throughput, {mode}, {processes} processes / 1, {most} devices: "
                    f"{other['per_s'] / one['per_s']:.2f}x{goal}"
                )
        # The ceiling: every part's CPU per change (one process's figures, until the
        # last push) from this machine's cores; and, if one process is held to one
        # core (its interpreter lock), that process's best, 1 / server CPU per change.
        server, postgres, others = (
            one["push_cpu"] if mode == "devices"
            else (one["cpu_server"], one["cpu_postgres"], one["cpu_clients"])
        )  # fmt: skip
        whole = server + postgres + others
        print(
            f"ceiling, {mode}: {cores} cores / ({server:.2f} + {postgres:.2f} + "
            f"{others:.2f} ms per change) = {1000 * cores / whole:,.0f}/s = "
            f"{1000 * cores / whole / one['per_s']:.2f}x the measured one process; one "
            f"process on one core at most {1000 / server:,.0f}/s; so 2 processes / 1 at "
            f"most {cores * server / whole:.2f}x when one process is held to one core"
        )
    if "devices" in modes:
        for processes in map(int, args.processes.split(",")):
            single = figures.get(("devices", processes, 1))
            many = figures.get(("devices", processes, most))
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
