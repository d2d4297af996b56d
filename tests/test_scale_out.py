"""Several ``serve`` processes on one PostgreSQL database (issue 15: scale-out).

- Six processes started at once on a fresh database all come up: the migrations run
  once, under an advisory lock, and the others wait for them.
- Three of them serve six tablets that switch between them at random. One process is
  frozen (SIGSTOP) while it is in the middle of a push, holding that push's locks: the
  pushes through the other two go on and their ``/health`` answers; after SIGCONT every
  change is saved exactly once and every tablet's feed holds every record.
- The feed never hands out a number past a transaction still open (two sessions).
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from live_server import LiveServer
from server_fixtures import _postgres_database
from sqlalchemy import create_engine, text
from sync_workload import (
    WORKLOAD_KINDS,
    device_records,
    save_workload,
    server_records,
    short_retry,
    without_id,
)

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import SyncEngine, SyncError, SyncTransport

pytestmark = [pytest.mark.postgres, pytest.mark.live]

PROCESSES_AT_START = 6
SERVING = 3
DEVICES = 6
VISITS_PER_DEVICE = 30  # 5 changes each: 150 changes a device, 900 in all
FROZEN_S = 3.0


class ShopProcess(LiveServer):
    """A ``serve`` process of a shop that runs several: the shop's one secret key, and
    its database sessions named after it (``application_name``), so the test can see
    which process holds which lock."""

    def __init__(self, root: Path, database_url: str, name: str) -> None:
        separator = "&" if "?" in database_url else "?"
        super().__init__(root, f"{database_url}{separator}application_name={name}")
        self.name = name

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "SECRET_KEY": "one-key-for-every-process-of-this-shop"}


class SwitchingTransport(SyncTransport):
    """A tablet behind a load balancer: each request goes to one of ``urls`` at random."""

    def __init__(self, urls: list[str], token: str, seed: int) -> None:
        self.urls = urls
        self.rng = random.Random(seed)
        self.pushes_done: list[tuple[float, str]] = []
        super().__init__(urls[0], token, timeout=(1, 4), retry=short_retry())

    @property  # type: ignore[override]
    def base_url(self) -> str:
        return self.rng.choice(self.urls)

    @base_url.setter
    def base_url(self, _value: str) -> None:
        pass

    def _send(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        status, body = super()._send(method, path, **kwargs)
        if path.endswith("/sync/push") and status == 200:
            self.pushes_done.append((time.monotonic(), method))
        return status, body


@pytest.fixture(scope="module")
def fresh_database() -> Iterator[str]:
    with _postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def shop(
    fresh_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[ShopProcess]]:
    """Six processes launched at once on an empty database; three kept serving."""
    root = tmp_path_factory.mktemp("shop")
    processes = [
        ShopProcess(root / f"p{n}", fresh_database, f"shop-process-{n}")
        for n in range(PROCESSES_AT_START)
    ]
    try:
        for process in processes:
            process.launch()
        for process in processes:
            process.wait_until_up(timeout_s=90)  # six start on two cores
        for process in processes[SERVING:]:
            process.stop()
        yield processes[:SERVING]
    finally:
        for process in processes:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGCONT)
            process.stop()
            print(f"--- {process.name} log tail ---\n{process.log_tail(30)}")


def test_six_processes_start_at_once_on_a_fresh_database(
    shop: list[ShopProcess], fresh_database: str
) -> None:
    from alembic.script import ScriptDirectory

    from sync_server.migrate import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    engine = create_engine(fresh_database)
    try:
        with engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert revision == [(head,)]
    logs = [process.log_path.read_text(encoding="utf-8") for process in shop]
    assert not any("Traceback" in log for log in logs), logs
    # Each migration ran once in all: in one process's log.
    assert sum(log.count("Running upgrade  -> 0001") for log in logs) <= 1


def _pair_tablets(database_url: str, urls: list[str]) -> list[tuple[str, str]]:
    """Pair ``DEVICES`` tablets, each through one of the processes: (token, device id)."""
    from sqlalchemy.orm import Session

    from sync_server.pairing import issue_code
    from sync_server.shop_tables import DeviceRole

    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            codes = [issue_code(session, DeviceRole.TABLET).code for _ in range(DEVICES)]
    finally:
        engine.dispose()
    paired = []
    for n, code in enumerate(codes):
        answer = requests.post(
            f"{urls[n % len(urls)]}/api/v1/devices/pair",
            json={"code": code, "device_name": f"Tablet {n}"},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        paired.append((answer.json()["token"], answer.json()["device_id"]))
    return paired


def _holds_push_locks(database_url: str, name: str) -> bool:
    """Whether a session of process ``name`` holds a push's record locks right now."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return bool(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                        " WHERE l.locktype = 'advisory' AND l.granted"
                        " AND a.application_name = :name"
                    ),
                    {"name": name},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_one_frozen_process_does_not_stop_the_shop(
    shop: list[ShopProcess], fresh_database: str, tmp_path: Path
) -> None:
    urls = [process.url for process in shop]
    frozen, others = shop[0], shop[1:]
    stores, engines, transports, saved = [], [], [], []
    for n, (token, device_id) in enumerate(_pair_tablets(fresh_database, urls)):
        store = LocalStore(tmp_path / f"tablet{n}", device_id)
        saved.append(save_workload(store, VISITS_PER_DEVICE, 0, seed=n + 1, device=device_id))
        transport = SwitchingTransport(urls, token, seed=n)
        stores.append(store)
        transports.append(transport)
        engines.append(SyncEngine(store, transport, batch_size=10))

    done = threading.Event()
    failures: list[str] = []

    def run(engine: SyncEngine) -> None:
        while not done.is_set():
            try:
                engine.sync_once()
            except SyncError as error:
                failures.append(str(error))
                continue
            status = engine.store.status()
            if status.pending_changes == 0:
                return

    health_misses: list[str] = []
    stop_watching = threading.Event()

    def watch_health() -> None:
        while not stop_watching.is_set():
            for process in others:
                try:
                    requests.get(f"{process.url}/api/v1/health", timeout=3).raise_for_status()
                except requests.RequestException as error:
                    health_misses.append(f"{process.name}: {error}")
            time.sleep(0.1)

    watcher = threading.Thread(target=watch_health)
    watcher.start()
    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    try:
        # Freeze process 0 while it holds a push's locks (mid-push), not between pushes.
        deadline = time.monotonic() + 30
        while True:
            assert time.monotonic() < deadline, "no push through process 0 was caught"
            if _holds_push_locks(fresh_database, frozen.name):
                assert frozen.pid is not None
                os.kill(frozen.pid, signal.SIGSTOP)
                if _holds_push_locks(fresh_database, frozen.name):
                    break
                os.kill(frozen.pid, signal.SIGCONT)  # it had just committed: try again
        frozen_at = time.monotonic()
        time.sleep(FROZEN_S)
        during = sum(
            1
            for t in transports
            for at, _ in t.pushes_done
            if frozen_at < at < frozen_at + FROZEN_S
        )
        os.kill(frozen.pid, signal.SIGCONT)
        for thread in threads:
            thread.join(timeout=90)
        assert not any(thread.is_alive() for thread in threads), "a tablet never drained"
    finally:
        done.set()
        if frozen.pid is not None:
            os.kill(frozen.pid, signal.SIGCONT)
        stop_watching.set()
        watcher.join()
        for thread in threads:
            thread.join(timeout=30)

    assert during >= 3, f"only {during} pushes went through the other processes while frozen"
    assert not health_misses, health_misses[:5]

    # Every change exactly once.
    all_change_ids = [cid for work in saved for cid in work.change_ids]
    engine = create_engine(fresh_database)
    try:
        with engine.connect() as connection:
            applied = list(
                connection.execute(text("SELECT change_id FROM applied_changes")).scalars()
            )
            visits = connection.execute(text("SELECT count(*) FROM visits")).scalar_one()
            seqs = list(connection.execute(text("SELECT seq FROM sync_records")).scalars())
    finally:
        engine.dispose()
    assert sorted(applied) == sorted(all_change_ids)
    assert visits == DEVICES * VISITS_PER_DEVICE
    assert min(seqs) > 0 and len(seqs) == len(set(seqs))  # no draft number left behind

    # Every tablet's feed complete: one more round each (nothing to push) then each holds
    # every record of every tablet, as the server holds it.
    for engine_ in engines:
        engine_.sync_once()
    on_server = server_records(shop[1], WORKLOAD_KINDS)
    for n in range(DEVICES):
        on_device = device_records(tmp_path / f"tablet{n}")
        for key, (fields, _clocks) in on_server.items():
            assert key in on_device, f"tablet {n} never got {key}"
            assert without_id(on_device[key][0]) == without_id(fields), key
    for store in stores:
        store.close()
    for transport in transports:
        transport.close()


def test_a_reader_never_passes_an_open_push(shop: list[ShopProcess], fresh_database: str) -> None:
    """Push A takes its numbers at its commit: a reader that read B (committed while A
    was open) still gets all of A afterwards."""
    from sync_server import create_app
    from sync_server.sync.feed import feed_page, next_seq, start_feed_writes
    from sync_server.sync.tables import SyncRecord

    del shop  # the database is migrated
    app = create_app({"DATABASE_URL": fresh_database, "TESTING": True})
    maker = app.extensions["db_sessionmaker"]
    kinds = frozenset({"note"})
    with app.app_context(), maker() as reader, maker() as push_a, maker() as push_b:
        head = feed_page(reader, 0, kinds, 10_000).next_since
        reader.rollback()
        start_feed_writes(push_a)
        first = next_seq(push_a)
        assert first < 0  # a draft: no number while the push is open
        push_a.rollback()
        start_feed_writes(push_a)
        start_feed_writes(push_b)
        for session, label in ((push_a, "a"), (push_b, "b")):
            for n in range(3):
                session.add(
                    SyncRecord(
                        kind="note",
                        id=f"{label}-{n}",
                        fields={"text": label},
                        clocks={},
                        seq=next_seq(session),
                        created_by="test",
                        updated_by="test",
                    )
                )
        push_b.commit()
        page = feed_page(reader, head, kinds, 10_000)
        reader.rollback()
        assert {c["id"] for c in page.changes} >= {"b-0", "b-1", "b-2"}
        assert not {c["id"] for c in page.changes} & {"a-0", "a-1", "a-2"}
        push_a.commit()
        later = feed_page(reader, page.next_since, kinds, 10_000)
        assert {c["id"] for c in later.changes} == {"a-0", "a-1", "a-2"}
    app.extensions["db_engine"].dispose()
