"""Sending the outbox from several processes: a mail relay that takes a message but
answers too late gets the retry with the same Message-ID; a sender killed mid-send
(SIGKILL) holds its claim only until its lease runs out, then another process sends the
message; two senders at once never send one message twice. Each attempt is recorded."""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from live_server import free_port
from sqlalchemy import select
from web_fixtures import make_visit

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.back_office_tables import OutboundMessage
from sync_server.messaging import notify_customer, send_due
from sync_server.messaging.sending import EmailSender, attempts_of, claim_next, send_one
from sync_server.table_base import utcnow

SERVER_COMMAND = Path(sys.executable).with_name("checkin-server")


class Relay:
    """An SMTP server that keeps what it receives; it can answer the next message late
    (after the client gave up) or hold it until released."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.late_by = 0.0
        self.step_s = 0.0  # each of RCPT and DATA answered this late
        self.hold = False
        self.arrived = threading.Event()
        self.released = threading.Event()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        await asyncio.sleep(self.step_s)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.step_s)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=default_policy)  # type: ignore[arg-type]
        )
        self.arrived.set()
        if self.hold:
            while not self.released.is_set():
                await asyncio.sleep(0.02)
        if self.late_by:
            late, self.late_by = self.late_by, 0.0
            await asyncio.sleep(late)
        return "250 Message accepted for delivery"


@pytest.fixture
def relay(app: Flask) -> Iterator[Relay]:
    handler = Relay()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, MAIL_FROM="desk@shop.example")
    try:
        yield handler
    finally:
        handler.released.set()
        controller.stop()


def queue_ready(app: Flask, **visit: Any) -> int:
    made = make_visit(app, status=VisitStatus.ready, **{"channel": "email", **visit})
    with app.app_context():
        message = notify_customer(db.session(), made.visit_id, "ready", base_url="http://x")
        assert message is not None
        db.session().commit()
        return message.id


def test_a_late_answer_is_retried_with_the_same_message_id(app: Flask, relay: Relay) -> None:
    message_id = queue_ready(app, email="wang@example.com")
    app.config["SMTP_TIMEOUT_SECONDS"] = 0.5
    relay.late_by = 1.5  # took it, answers after our client gave up
    with app.app_context():
        session = db.session()
        assert send_due(session, app.config)["retry"] == 1
        message = session.get(OutboundMessage, message_id)
        assert message.state == "pending" and "timeout" in message.last_error
        later = utcnow() + timedelta(hours=1)
        assert send_due(session, app.config, now=later)["sent"] == 1
        message = session.get(OutboundMessage, message_id, populate_existing=True)
        assert message.state == "sent" and message.attempts == 2
        outcomes = [attempt.outcome for attempt in attempts_of(session, message_id)]
        assert outcomes == ["timeout", "sent"]
    assert len(relay.messages) == 2  # the relay has it twice: recognisably the same one
    ids = {received["Message-ID"] for received in relay.messages}
    assert ids == {message.email_message_id}


def test_a_sender_killed_mid_send_is_taken_over_after_its_lease(
    app: Flask, relay: Relay, tmp_path: Path
) -> None:
    message_id = queue_ready(app, email="zhao@example.com")
    relay.hold = True
    env = {
        **os.environ,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "CHECKIN_INSTANCE_PATH": str(tmp_path / "instance"),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(app.config["SMTP_PORT"]),
        "MAIL_FROM": "desk@shop.example",
    }
    sender = subprocess.Popen(
        [str(SERVER_COMMAND), "send-messages"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert relay.arrived.wait(60), "the sender never reached the relay"
        sender.send_signal(signal.SIGKILL)  # mid-send: the relay has not answered
        sender.wait(timeout=15)
    finally:
        if sender.poll() is None:
            sender.kill()
            sender.wait()
    relay.hold = False
    relay.released.set()
    with app.app_context():
        session = db.session()
        stuck = session.get(OutboundMessage, message_id)
        assert stuck.state == "sending" and stuck.claimed_until is not None
        # Within the dead sender's lease, another process leaves it alone...
        assert send_due(session, app.config, holder="second")["sent"] == 0
        # ...and takes it once the lease has run out.
        after_lease = stuck.claimed_until + timedelta(seconds=1)
        assert send_due(session, app.config, holder="second", now=after_lease)["sent"] == 1
        message = session.get(OutboundMessage, message_id, populate_existing=True)
        assert (message.state, message.attempts, message.claimed_by) == ("sent", 2, "")
        attempts = attempts_of(session, message_id)
        assert [a.outcome for a in attempts] == ["interrupted", "sent"]
        assert attempts[0].holder.endswith(f":{sender.pid}") and attempts[1].holder == "second"
    assert [m["Message-ID"] for m in relay.messages] == [message.email_message_id] * 2


def test_two_senders_at_once_send_each_message_once(app: Flask) -> None:
    for n in range(12):
        queue_ready(
            app, channel="sms", phone=f"+861390000{n:04d}", plate=f"京B0{n:04d}", ticket=f"K-{n}"
        )

    gateway = Gateway()
    together = threading.Barrier(2)

    def sender(name: str) -> None:
        with app.app_context():
            together.wait()
            send_due(db.session(), app.config, sms=gateway, holder=name)

    threads = [threading.Thread(target=sender, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        rows = db.session().scalars(select(OutboundMessage)).all()
        assert {row.state for row in rows} == {"sent"}
        assert sorted(gateway.keys) == sorted(row.idempotency_key for row in rows)


class Gateway:
    """An SMS gateway that keeps the idempotency key of every message it is given."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.lock = threading.Lock()

    def send(self, phone: str, text: str, *, idempotency_key: str) -> None:
        with self.lock:
            self.keys.append(idempotency_key)


def test_a_sender_held_up_past_its_lease_leaves_the_message_to_the_one_that_took_it(
    app: Flask,
) -> None:
    """A sender claims a message, then is held up (a pause, a slow step) until its lease
    has run out; another sender takes the message over and sends it. When the first one
    goes on, it must not send the message a second time."""
    message_id = queue_ready(app, channel="sms", phone="+8613900001111")
    gateway = Gateway()
    lease = timedelta(seconds=5)
    with app.app_context():
        held_up, other = app.extensions["db_sessionmaker"](), db.session()
        claimed_at = utcnow()
        mine = claim_next(held_up, claimed_at, "held-up", lease)
        assert mine is not None and mine.id == message_id
        after_lease = claimed_at + lease + timedelta(seconds=1)
        counts = send_due(other, app.config, sms=gateway, holder="other", now=after_lease)
        assert counts["sent"] == 1
        counted = send_one(held_up, mine, EmailSender(app.config), gateway, "held-up", claimed_at)
        held_up.close()
        assert counted == "taken_over"
        message = other.get(OutboundMessage, message_id, populate_existing=True)
        assert (message.state, message.attempts) == ("sent", 2)
        assert [a.outcome for a in attempts_of(other, message_id)] == ["interrupted", "sent"]
    assert gateway.keys == [message.idempotency_key]  # delivered once


def test_a_slow_relay_is_cut_off_well_within_the_lease(app: Flask, relay: Relay) -> None:
    """Each step of the conversation within the SMTP time-out, the whole of it not
    within the sender's share of its lease: the sender ends it (a time-out) before
    another may take the message over, and the retry carries the same Message-ID."""
    message_id = queue_ready(app, email="sun@example.com")
    app.config.update(SMTP_TIMEOUT_SECONDS=5, OUTBOX_LEASE_SECONDS=2)
    relay.step_s = 0.7  # RCPT and DATA: 1.4 s in all, past half the lease (1 s)
    with app.app_context():
        session = db.session()
        assert send_due(session, app.config)["retry"] == 1
        message = session.get(OutboundMessage, message_id)
        assert message.state == "pending" and "timeout" in message.last_error
        relay.step_s = 0.0  # the relay answers promptly again; the usual lease
        app.config.update(OUTBOX_LEASE_SECONDS=120)
        later = utcnow() + timedelta(hours=1)
        assert send_due(session, app.config, now=later)["sent"] == 1
        outcomes = [attempt.outcome for attempt in attempts_of(session, message_id)]
        assert outcomes == ["timeout", "sent"]
    ids = {received["Message-ID"] for received in relay.messages}
    assert ids == {message.email_message_id}
