"""Migration 0018 upgrades a filled outbox with nothing lost: every message gets its own
Message-ID and SMS idempotency key and the quote version it was queued at; a message a
desk step queued twice before keeps its first copy under the new unique key and the
second, not sent yet, is withdrawn; one stuck "sending" (no lease) goes out again."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import select, text
from web_fixtures import make_visit

from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.back_office_tables import OutboundMessage
from sync_server.messaging import notify_customer, send_due
from sync_server.migrate import alembic_config, upgrade

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _message(connection, visit_id: str | None, event: str, state: str, minutes: int) -> int:  # type: ignore[no-untyped-def]
    at = T0 + timedelta(minutes=minutes)
    connection.execute(
        text(
            "INSERT INTO outbound_messages (visit_id, event, channel, recipient, language,"
            " subject, body, state, attempts, next_attempt_at, last_error, created_at)"
            " VALUES (:visit, :event, 'sms', '+8613812345678', 'en', '', 'Hello', :state,"
            " 0, :at, '', :at)"
        ),
        {"visit": visit_id, "event": event, "state": state, "at": at},
    )
    return connection.execute(text("SELECT max(id) FROM outbound_messages")).scalar_one()


def _quote(connection, visit_id: str, version: int, minutes: int) -> None:  # type: ignore[no-untyped-def]
    connection.execute(
        text(
            "INSERT INTO quotes (id, visit_id, version, option_label, currency, notes,"
            " tax_rate, subtotal, discount_total, tax, total, sent_at)"
            " VALUES (:id, :visit, :version, '', 'CNY', '', 0.13, 100, 0, 13, 113, :at)"
        ),
        {
            "id": f"q-{visit_id[:8]}-{version}",
            "visit": visit_id,
            "version": version,
            "at": T0 + timedelta(minutes=minutes),
        },
    )


def test_a_filled_outbox_upgrades_to_0018_with_its_duplicates_resolved(app: Flask) -> None:
    delivered = make_visit(app, status=VisitStatus.delivered, ticket="K-1")
    quoted = make_visit(app, status=VisitStatus.quote_sent, plate="京A54321", ticket="K-2")
    config = alembic_config(app)
    before = ScriptDirectory.from_config(config).get_revision("0018").down_revision
    command.downgrade(config, str(before))
    with app.extensions["db_engine"].begin() as connection:
        first = _message(connection, delivered.visit_id, "delivered", "sent", 0)
        second = _message(connection, delivered.visit_id, "delivered", "pending", 1)
        stuck = _message(connection, delivered.visit_id, "ready", "sending", -60)
        booked = _message(connection, None, "appointment_booked", "pending", 2)
        _quote(connection, quoted.visit_id, 1, 10)
        quote_1 = _message(connection, quoted.visit_id, "quote_sent", "sent", 11)
        _quote(connection, quoted.visit_id, 2, 30)
        quote_2 = _message(connection, quoted.visit_id, "quote_sent", "pending", 31)
    upgrade(app)
    with app.app_context():
        session = db.session()
        rows = {row.id: row for row in session.scalars(select(OutboundMessage))}
        assert len(rows) == 6
        assert len({row.idempotency_key for row in rows.values()}) == 6
        assert len({row.email_message_id for row in rows.values()}) == 6
        assert all(
            re.fullmatch(r"<[0-9a-f]{32}@[\w.-]+>", row.email_message_id) for row in rows.values()
        )
        assert (rows[first].state, rows[first].quote_version) == ("sent", 0)
        assert (rows[second].state, rows[second].quote_version) == ("withdrawn", None)
        assert f"second copy of message {first}" in rows[second].last_error
        assert rows[booked].quote_version is None and rows[booked].state == "pending"
        assert [rows[quote_1].quote_version, rows[quote_2].quote_version] == [1, 2]
        assert rows[quote_2].state == "pending"
        # The key now holds: the step cannot queue its message again.
        url = "http://shop.example"
        assert notify_customer(session, delivered.visit_id, "delivered", base_url=url) is None
        session.rollback()

        class Gateway:
            def __init__(self) -> None:
                self.bodies: list[str] = []

            def send(self, phone: str, text: str, *, idempotency_key: str) -> None:
                self.bodies.append(idempotency_key)

        gateway = Gateway()
        counts = send_due(session, app.config, sms=gateway, now=datetime.now(UTC))
        assert counts["sent"] == 3  # the stuck one, the booking and quote version 2
        assert rows[stuck].idempotency_key in gateway.bodies
        assert session.get(OutboundMessage, stuck, populate_existing=True).state == "sent"
