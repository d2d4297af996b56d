"""``checkin-server serve`` runs the reminders on its schedule: two real server processes
on one database, with a one-second job tick, send a due maintenance reminder once,
through the outbox, to an SMTP server inside the test; the reminders' job made due
again runs and sends nothing twice."""

from __future__ import annotations

import email
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from dateutil.relativedelta import relativedelta
from follow_up_fixtures import SHANGHAI, Service, make_customer_with_car, shop_app
from live_server import LiveServer
from sqlalchemy import func, select, update

from sync_server import db
from sync_server.back_office_tables import OutboundMessage
from sync_server.follow_up.rules import follow_up_settings
from sync_server.job_tables import JobLease

WAIT_S = 20.0


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def wait_for(what: Callable[[], Any], why: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"waited {WAIT_S:.0f} s: {why}")


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A copy of the migrated SQLite database (the leases across processes are tested
    on PostgreSQL in ``test_jobs``; here it is ``serve`` that runs them, on time)."""
    path = tmp_path / "server.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    found = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(found, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield found, port
    finally:
        controller.stop()


def server(root: Path, database_url: str, smtp_port: int) -> LiveServer:
    live = LiveServer(root, database_url)
    live.extra_env.update(
        PUBLIC_URL="https://shop.example",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        MAIL_FROM="desk@shop.example",
        JOB_TICK_SECONDS="1",
        MESSAGE_SEND_SECONDS="1",
    )
    return live


def test_two_serve_processes_send_a_due_reminder_once_and_not_again(
    database_url: str, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    mails, smtp_port = inbox
    # An oil service six months ago less three days: due in three days (the reminder
    # goes seven days ahead). No quiet hours, whatever the time of day the test runs.
    app = shop_app(database_url, tmp_path / "setup")
    try:
        serviced = (datetime.now(SHANGHAI) - relativedelta(months=6) + timedelta(days=3)).date()
        make_customer_with_car(
            app,
            "Mail Customer",
            [Service(serviced.isoformat(), None)],
            email="due@customer.example",
            channel="email",
            language="en",
        )
        with app.app_context():
            rules = follow_up_settings(db.session())
            rules.quiet_from = rules.quiet_until = "00:00"
            db.session().commit()
    finally:
        app.extensions["db_engine"].dispose()
        os.environ.pop("CHECKIN_INSTANCE_PATH", None)

    # Two processes serve the same database from the start; the job is leased to one.
    servers = [server(tmp_path / name, database_url, smtp_port) for name in ("one", "two")]
    for live in servers:
        live.launch()
    try:
        for live in servers:
            live.wait_until_up()
        [mail] = wait_for(lambda: mails.messages, "the reminder e-mail")
        assert mail["To"] == "due@customer.example"
        assert "https://shop.example/unsubscribe/" in mail["List-Unsubscribe"]
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "Oil and filter service" in mail.get_content()
        engine = servers[0].db_engine()

        def reminders_lease() -> Any:
            with engine.connect() as connection:
                return connection.execute(
                    select(JobLease.last_finished_at, JobLease.last_outcome).where(
                        JobLease.name == "reminders"
                    )
                ).one()

        finished, outcome = wait_for(
            lambda: (found := reminders_lease()) and found[0] and found, "the run's outcome"
        )
        assert "'queued': 1" in outcome
        # The job made due again (the next hour, or the next day): a run sends nothing.
        with engine.begin() as connection:
            connection.execute(
                update(JobLease)
                .where(JobLease.name == "reminders")
                .values(next_run_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        wait_for(lambda: reminders_lease()[0] > finished, "the second run")
        assert "'queued': 0" in reminders_lease()[1]
        with engine.connect() as connection:
            queued = connection.scalar(
                select(func.count(OutboundMessage.id)).where(
                    OutboundMessage.event == "follow_up:maintenance"
                )
            )
        assert queued == 1
    finally:
        for live in servers:
            live.terminate()
        for live in servers:
            live.stop()
    assert len(mails.messages) == 1
