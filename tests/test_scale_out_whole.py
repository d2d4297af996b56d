"""The whole scale-out at once (issue 15): three ``serve`` processes started together on
one fresh PostgreSQL database, photos in an S3 bucket (moto in server mode), messages
through a slow SMTP relay (aiosmtpd). In one run:

- six tablets switching between the processes at random push check-ins and photos;
  one process is frozen (SIGSTOP) mid-push and the others' ``/health`` answers;
- hand-backs at the desk through random processes queue customer messages; the process
  sending the first one is SIGKILLed mid-send (the relay holds that conversation) and
  another process sends it after the lease;
- afterwards, with the killed process started again: every change saved once, every
  tablet's feed complete, every photo byte-identical from every process, every message
  at the relay exactly once under its one Message-ID.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from live_server import free_port
from server_fixtures import PASSWORD, Shop, _postgres_database
from sqlalchemy import create_engine, text
from sync_workload import (
    WORKLOAD_KINDS,
    device_records,
    save_workload,
    server_records,
    without_id,
)
from test_blob_bucket import BUCKET, CREDENTIALS, keys, s3_url  # noqa: F401 (a fixture)
from test_desk_steps_processes import csrf
from test_scale_out import ShopProcess, SwitchingTransport, _holds_push_locks, _pair_tablets
from web_fixtures import make_visit

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import SyncEngine, SyncError
from shared.visit_status import VisitStatus
from sync_server import create_app, db
from sync_server.messaging.sending import attempts_of

pytestmark = [pytest.mark.postgres, pytest.mark.live]

PROCESSES = 3
VISITS_PER_DEVICE = 12  # 5 changes each
PHOTOS_PER_DEVICE = 2
HAND_BACKS = 4
FROZEN_S = 2.0
LEASE_S = 8  # the killed sender's claim; its message goes out again after it (a sender
# gives the relay half of it: the held conversation must outlast the moment of the kill)
PREFIX = "whole-shop"
WAIT_S = 60  # bounds on waiting for something that must happen: a hang fails the test


class SlowRelay:
    """A mail relay that takes its time over every message, and holds one conversation
    (between RCPT and DATA) until released: the moment to kill its sender."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self.hold_next = False
        self.held_for = ""  # the recipient of the conversation held
        self.holding = threading.Event()
        self.released = threading.Event()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        envelope.rcpt_tos.append(address)
        if self.hold_next:
            self.hold_next = False
            self.held_for = address
            self.holding.set()
            while not self.released.is_set():
                await asyncio.sleep(0.02)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.2)  # a slow relay
        for line in envelope.content.splitlines():
            if line.lower().startswith(b"message-id:"):
                self.message_ids.append(line.split(b":", 1)[1].strip().decode())
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[SlowRelay, int]]:
    handler = SlowRelay()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.released.set()
        controller.stop()


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with _postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def shop(
    database: str,
    s3_url: str,  # noqa: F811
    relay: tuple[SlowRelay, int],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[ShopProcess]]:
    """Three processes launched at once on the empty database, each with its own
    instance folder, one bucket and one relay."""
    root = tmp_path_factory.mktemp("whole-shop")
    settings = {
        "BLOB_STORE": f"s3://{BUCKET}/{PREFIX}",
        "S3_ENDPOINT_URL": s3_url,
        **CREDENTIALS,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(relay[1]),
        "MAIL_FROM": "desk@shop.example",
        "MESSAGE_SEND_SECONDS": "1",
        "JOB_TICK_SECONDS": "1",
        "SMTP_TIMEOUT_SECONDS": str(LEASE_S - 1),
        "OUTBOX_LEASE_SECONDS": str(LEASE_S),
    }
    processes = [ShopProcess(root / f"p{n}", database, f"whole-shop-{n}") for n in range(PROCESSES)]
    try:
        for process in processes:
            process.extra_env.update(settings)
            process.launch()
        for process in processes:
            process.wait_until_up(timeout_s=90)
        yield processes
    finally:
        stopping = []
        for process in processes:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGCONT)
            stopping.append(threading.Thread(target=process.stop))
            stopping[-1].start()
        for process, thread in zip(processes, stopping, strict=True):
            thread.join()
            print(f"--- {process.name} log tail ---\n{process.log_tail(30)}")


class HealthWatch:
    """Asks ``/health`` of every process in ``watched`` ten times a second, each process
    from its own thread: a request in flight to a process when it is frozen (or killed)
    waits for its timeout, and must not hold up the asking of the others."""

    def __init__(self, watched: list[ShopProcess]) -> None:
        self.watched = list(watched)
        self.misses: list[str] = []
        self.asked = 0
        self.counting = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.ask, args=(p,)) for p in watched]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def ask(self, process: ShopProcess) -> None:
        while not self.stop.is_set():
            if process in self.watched:
                try:
                    requests.get(f"{process.url}/api/v1/health", timeout=3).raise_for_status()
                    with self.counting:
                        self.asked += 1
                except requests.RequestException as error:
                    if process in self.watched:
                        self.misses.append(f"{process.name}: {error}")
            time.sleep(0.1)


def _push_with_one_frozen(
    shop: list[ShopProcess], database: str, engines: list[SyncEngine], watch: HealthWatch
) -> None:
    """Every tablet drains while process 0 is frozen for a while in the middle of a push."""
    frozen = shop[0]
    done = threading.Event()

    def run(engine: SyncEngine) -> None:
        while not done.is_set():
            try:
                engine.sync_once()
            except SyncError:
                continue
            if engine.store.status().pending_changes == 0:
                return

    threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            assert time.monotonic() < deadline, "no push through process 0 was caught"
            if _holds_push_locks(database, frozen.name):
                assert frozen.pid is not None
                watch.watched.remove(frozen)
                os.kill(frozen.pid, signal.SIGSTOP)
                if _holds_push_locks(database, frozen.name):
                    break
                os.kill(frozen.pid, signal.SIGCONT)  # it had just committed: try again
                watch.watched.append(frozen)
        asked_before = watch.asked
        time.sleep(FROZEN_S)
        assert watch.asked > asked_before, "/health was not asked while frozen"
        os.kill(frozen.pid, signal.SIGCONT)
        watch.watched.append(frozen)
        for thread in threads:
            thread.join(timeout=WAIT_S)
        assert not any(thread.is_alive() for thread in threads), "a tablet never drained"
    finally:
        done.set()
        if frozen.pid is not None:
            os.kill(frozen.pid, signal.SIGCONT)
        for thread in threads:
            thread.join(timeout=30)


def _hand_back_with_one_sender_killed(
    shop: list[ShopProcess],
    database: str,
    relay: SlowRelay,
    visit_ids: list[str],
    username: str,
    watch: HealthWatch,
) -> ShopProcess:
    """Hand the cars back through random processes; SIGKILL the process that is in the
    middle of sending the first message. Returns the killed process."""
    browsers = {}
    for process in shop:
        browser = requests.Session()
        form = {"username": username, "password": PASSWORD}
        form["csrf_token"] = csrf(browser, f"{process.url}/login")
        assert browser.post(f"{process.url}/login", data=form, timeout=30).ok
        browsers[process.name] = browser
    relay.hold_next = True
    rng = random.Random(15)
    for visit_id in visit_ids:
        process = rng.choice(shop)
        browser = browsers[process.name]
        url = f"{process.url}/visits/{visit_id}/hand-back"
        form = {
            "odometer_out_km": "42,000",
            "work_done": "Oil and filter changed",
            "parts": "",
            "from_status": "ready",
            "csrf_token": csrf(browser, url),
        }
        assert browser.post(url, data=form, timeout=30).status_code == 200
    assert relay.holding.wait(WAIT_S), "no process began to send a message"
    # The process to kill is the one whose conversation the relay holds (before DATA):
    # another process sending at that moment may have handed its message over already,
    # and a sender killed after that is sent again by design (same Message-ID, twice).
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            holder = connection.execute(
                text(
                    "SELECT claimed_by FROM outbound_messages "
                    "WHERE state = 'sending' AND recipient = :held"
                ),
                {"held": relay.held_for},
            ).scalar_one()
    finally:
        engine.dispose()
    senders = [process for process in shop if process.pid == int(holder.rsplit(":", 1)[1])]
    assert senders, f"no serving process holds the claim: {holder}"
    killed = senders[0]
    watch.watched.remove(killed)
    killed.kill()  # mid-send: the relay has not yet had the message
    relay.released.set()
    return killed


def _wait_until_all_sent(database: str) -> list[tuple[int, str]]:
    engine = create_engine(database)
    try:
        deadline = time.monotonic() + WAIT_S
        while True:
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT id, state, email_message_id FROM outbound_messages")
                ).all()
            if rows and all(state == "sent" for _, state, _ in rows):
                return [(row_id, message_id) for row_id, _, message_id in rows]
            assert time.monotonic() < deadline, f"messages never all sent: {rows}"
            time.sleep(0.2)
    finally:
        engine.dispose()


def test_three_processes_one_frozen_one_killed_lose_and_double_nothing(
    shop: list[ShopProcess],
    database: str,
    relay: tuple[SlowRelay, int],
    s3_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slow_relay = relay[0]
    urls = [process.url for process in shop]
    # The desk's side of the shop: an advisor and cars ready for their customers.
    monkeypatch.setenv("CHECKIN_INSTANCE_PATH", str(tmp_path / "desk-instance"))
    desk = create_app({"DATABASE_URL": database, "TESTING": True})
    username = Shop(desk).user("li.na", "advisor")
    ready = [
        make_visit(
            desk,
            status=VisitStatus.ready,
            channel="email",
            email=f"owner{n}@example.com",
            plate=f"沪C3000{n}",
            ticket=f"H-{n}",
        ).visit_id
        for n in range(HAND_BACKS)
    ]

    stores, engines, saved, tokens, transports = [], [], [], [], []
    for n, (token, device_id) in enumerate(_pair_tablets(database, urls)):
        store = LocalStore(tmp_path / f"tablet{n}", device_id)
        saved.append(
            save_workload(store, VISITS_PER_DEVICE, PHOTOS_PER_DEVICE, seed=n + 1, device=device_id)
        )
        stores.append(store)
        tokens.append(token)
        transports.append(SwitchingTransport(urls, token, seed=n))
        engines.append(SyncEngine(store, transports[-1], batch_size=10))

    watch = HealthWatch(shop)
    watch.start()
    try:
        _push_with_one_frozen(shop, database, engines, watch)
        killed = _hand_back_with_one_sender_killed(
            shop, database, slow_relay, ready, username, watch
        )
        sent = _wait_until_all_sent(database)
    finally:
        watch.join()
    assert not watch.misses, watch.misses[:5]

    # Every customer message at the relay exactly once, under its one Message-ID; the
    # killed process's try is on record as interrupted, the message sent after it.
    assert len(sent) >= HAND_BACKS
    assert Counter(slow_relay.message_ids) == Counter(message_id for _, message_id in sent)
    with desk.app_context():
        outcomes = [
            [attempt.outcome for attempt in attempts_of(db.session(), row_id)] for row_id, _ in sent
        ]
    assert outcomes.count(["interrupted", "sent"]) == 1, outcomes
    assert all(o == ["sent"] for o in outcomes if o != ["interrupted", "sent"]), outcomes

    # The killed process comes back: all three serve again.
    killed.start()
    for process in shop:
        requests.get(f"{process.url}/api/v1/health", timeout=5).raise_for_status()

    # Every change exactly once.
    all_change_ids = [cid for work in saved for cid in work.change_ids]
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            applied = list(
                connection.execute(text("SELECT change_id FROM applied_changes")).scalars()
            )
            visits = connection.execute(text("SELECT count(*) FROM visits")).scalar_one()
    finally:
        engine.dispose()
    assert len(applied) == len(set(applied))
    assert set(all_change_ids) <= set(applied)  # the desk's own steps are there too
    assert visits == len(engines) * VISITS_PER_DEVICE + HAND_BACKS

    # Every photo in the bucket, and byte-identical from every process.
    photos = [sha for work in saved for sha in work.photo_shas]
    assert len(photos) == len(set(photos)) == len(engines) * PHOTOS_PER_DEVICE
    in_bucket = "\n".join(keys(s3_url, PREFIX))
    assert all(sha in in_bucket for sha in photos), in_bucket
    for process in shop:
        for sha in photos:
            answer = requests.get(
                f"{process.url}/api/v1/blobs/{sha}",
                headers={"Authorization": f"Bearer {tokens[0]}"},
                timeout=10,
            )
            assert answer.status_code == 200, (process.name, sha, answer.status_code)
            assert hashlib.sha256(answer.content).hexdigest() == sha, (process.name, sha)

    # Every tablet's feed complete: one more round each, then each holds every record.
    for engine_ in engines:
        engine_.sync_once()
    on_server = server_records(shop[1], WORKLOAD_KINDS)
    for n in range(len(engines)):
        on_device = device_records(tmp_path / f"tablet{n}")
        for key, (fields, _clocks) in on_server.items():
            assert key in on_device, f"tablet {n} never got {key}"
            assert without_id(on_device[key][0]) == without_id(fields), key
    for store in stores:
        store.close()
    for transport in transports:
        transport.close()
    desk.extensions["db_engine"].dispose()
