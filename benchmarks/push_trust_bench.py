"""Push throughput with the sync trust boundary's checks, against the code before them.

The checks of issue 10 (clock limits, column bounds, status tokens, the savepoint around
a push) run for every change a device pushes. This prints, from one run on this machine,
the records per second of the same pushes to a server of this tree and to one of an
older revision (``--old``, default: where this branch left ``main``), alternating the
two so that the machine's other work weighs on both alike, and the records per second
of the server process's own CPU time (user + system, from ``/proc``), which the other
work on a shared machine moves far less than the wall clock:

    .venv/bin/python benchmarks/push_trust_bench.py [--visits 1000] [--rounds 3] [--old REV]
    .venv/bin/python benchmarks/push_trust_bench.py --in-process [--rounds 8]

``--in-process`` leaves out HTTP and the device: each round is a fresh process that
pushes 8 batches of 498 changes through Flask's test client and reports the changes per
second of its own CPU time, the steadiest figure on a busy machine.

Both servers use SQLite (the shop's default), each with a fresh database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

# Nothing of this tree at the top: a child measuring the old code imports only that.


def old_tree(revision: str, folder: Path) -> Path:
    """The server's code at ``revision``, unpacked into ``folder``."""
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "shared", "sync_server"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def push_seconds(root: Path, visits: int, code: Path | None) -> tuple[int, float, float]:
    """Changes pushed, the seconds it took and the server's CPU seconds for it, to a
    fresh server running ``code``."""
    from live_server import LiveServer
    from sync_bench import save_visits

    from kiosk.services.local_store import LocalStore
    from kiosk.services.sync import SyncEngine, SyncTransport

    saved = os.environ.get("PYTHONPATH")
    if code is not None:  # found before the editable install of this tree
        os.environ["PYTHONPATH"] = str(code)
    try:
        server = LiveServer(root / "server").start()
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    try:
        tablet = server.pair_device("tablet")
        with LocalStore(root / "tablet", tablet.device_id) as store:
            save_visits(store, visits)
            changes = store.status().pending_changes
            with SyncTransport(server.url, tablet.token) as transport:
                engine = SyncEngine(store, transport, batch_size=500)
                cpu_before = cpu_seconds(server.pid)
                start = time.perf_counter()
                engine.sync_once()
                seconds = time.perf_counter() - start
                cpu = cpu_seconds(server.pid) - cpu_before
            assert store.status().pending_changes == 0
    finally:
        server.stop()
    return changes, seconds, cpu


def in_process_rate() -> float:
    """Changes per CPU second of pushes through the test client (run in a child)."""
    import logging
    import uuid

    from server_fixtures import Shop, bearer

    from shared import domain
    from shared.hlc import wall_clock_ms
    from shared.wire import to_wire
    from sync_server import create_app
    from sync_server.migrate import upgrade

    logging.disable(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="push-trust-child-"))
    os.environ["CHECKIN_INSTANCE_PATH"] = str(tmp / "instance")
    url = f"sqlite:///{tmp / 'db.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "t"})
    upgrade(app)
    token = Shop(app).device_token("tablet")
    client = app.test_client()
    # The device's status-link key: its visits' tokens are the ones the server keeps.
    link_key = client.get("/api/v1/devices/me", headers=bearer(token)).json.get("status_link_key")
    start_ms = wall_clock_ms() - 10_000_000

    def fields_of(record: object) -> dict[str, object]:
        data = to_wire(record)
        data.pop("id")
        return data

    def batch(number: int) -> list[dict[str, object]]:
        changes = []
        for n in range(166):
            customer = domain.Customer(name=f"Customer {n}", phone=f"+86138{n:08d}")
            vehicle = domain.Vehicle(customer_id=customer.id, plate=f"京A{n:05d}")
            visit = domain.Visit(
                ticket_number=f"B-{n:04d}",
                customer_id=customer.id,
                vehicle_id=vehicle.id,
                concern_text="Benchmark visit",
            )
            visit.status_token = (
                domain.status_token_for(link_key, visit.id)
                if link_key
                else domain.new_status_token()  # a tree before status-link keys
            )
            for offset, (kind, record) in enumerate(
                (("customer", customer), ("vehicle", vehicle), ("visit", visit))
            ):
                at = start_ms + (number * 166 + n) * 3 + offset
                changes.append(
                    {"change_id": str(uuid.uuid4()), "kind": kind, "id": record.id,
                     "hlc": f"{at:016d}-0000-dev-a", "fields": fields_of(record)}
                )  # fmt: skip
        return changes

    batches = [batch(number) for number in range(9)]
    headers = bearer(token)
    client.post("/api/v1/sync/push", json={"schema": 1, "changes": batches[0]}, headers=headers)
    start = time.process_time()
    for changes in batches[1:]:
        answer = client.post(
            "/api/v1/sync/push", json={"schema": 1, "changes": changes}, headers=headers
        )
        assert all(result["status"] == 201 for result in answer.json["results"])
    return 8 * 498 / (time.process_time() - start)


def in_process(rounds: int, code: Path) -> dict[str, list[float]]:
    rates: dict[str, list[float]] = {"old": [], "new": []}
    for round_number in range(rounds):
        for name in ("old", "new") if round_number % 2 == 0 else ("new", "old"):
            env = dict(os.environ)
            if name == "old":
                env["PYTHONPATH"] = str(code)
            output = subprocess.run(
                [sys.executable, __file__, "--child"],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rates[name].append(float(output.split()[-1]))
            print(f"round {round_number + 1} {name}: {rates[name][-1]:,.0f} changes per CPU s")
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--old", default="")
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(f"{in_process_rate():.1f}")
        return
    revision = (
        args.old
        or subprocess.run(
            ["git", "-C", str(ROOT), "merge-base", "HEAD", "main"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    rates: dict[str, list[float]] = {"old": [], "new": []}
    cpu_rates: dict[str, list[float]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory(prefix="push-trust-bench-") as tmp_name:
        tmp = Path(tmp_name)
        code = old_tree(revision, tmp / "old-code")
        if args.in_process:
            rates = in_process(args.rounds, code)
            old, new = statistics.median(rates["old"]), statistics.median(rates["new"])
            print(f"\nold ({revision[:10]}): median {old:,.0f} changes per CPU s")
            print(f"new (this tree): median {new:,.0f} changes per CPU s")
            print(f"new / old = {new / old:.0%} (goal >= 90%)")
            return
        for round_number in range(args.rounds):
            for name in ("old", "new") if round_number % 2 == 0 else ("new", "old"):
                root = tmp / f"{name}-{round_number}"
                changes, seconds, cpu = push_seconds(
                    root, args.visits, code if name == "old" else None
                )
                rates[name].append(changes / seconds)
                cpu_rates[name].append(changes / cpu)
                print(
                    f"round {round_number + 1} {name}: {changes / seconds:,.0f} records/s, "
                    f"{changes / cpu:,.0f} records per server CPU second",
                    flush=True,
                )
    old, new = statistics.median(rates["old"]), statistics.median(rates["new"])
    print()
    print(f"old ({revision[:10]}): median {old:,.0f} records/s")
    print(f"new (this tree): median {new:,.0f} records/s")
    print(f"new / old = {new / old:.0%} (goal >= 90%)")
    old_cpu, new_cpu = statistics.median(cpu_rates["old"]), statistics.median(cpu_rates["new"])
    print(
        f"per server CPU second: old {old_cpu:,.0f}, new {new_cpu:,.0f} records, "
        f"new / old = {new_cpu / old_cpu:.0%}"
    )


if __name__ == "__main__":
    main()
