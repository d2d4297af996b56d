"""The customer hears about their appointment in their language: an e-mail (through an
SMTP server inside the test) with an iCalendar invite — stable UID, SEQUENCE raised on
every change, METHOD:CANCEL on cancelling, the shop's VTIMEZONE — and the QR code; a
text with the code; a reminder the day before, never in quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
from appointment_fixtures import EARLY, ZONE, at, engine_session, plan_shop
from flask import Flask
from sqlalchemy import select
from test_appointment_capacity import CALENDAR, MONDAY, request_for
from test_web_messages import Inbox, smtp  # noqa: F401

from sync_server.appointments.booking import book, cancel, move
from sync_server.appointments.confirmation import notify_appointment, reminder_time
from sync_server.back_office_tables import OutboundMessage
from sync_server.messaging import send_due


def test_invites_and_reminders_follow_the_appointment(app: Flask, smtp: Inbox) -> None:  # noqa: F811
    made = plan_shop(app)
    with engine_session(app) as session:
        booked = book(session, CALENDAR, request_for(made, at(MONDAY, 10)), now=EARLY)
        notify_appointment(session, booked.id, "booked", now=EARLY)
        session.commit()
        move(session, CALENDAR, booked.id, at(MONDAY, 14), now=EARLY)
        notify_appointment(session, booked.id, "moved", now=EARLY)
        session.commit()
        reminders = session.scalars(
            select(OutboundMessage).where(OutboundMessage.event.like("appointment_reminder%"))
        ).all()
        assert [m.state for m in reminders] == ["withdrawn", "pending"]
        assert reminders[1].next_attempt_at == at(MONDAY - timedelta(days=1), 10)
        assert "14:00" in reminders[1].body
        cancel(session, booked.id)
        notify_appointment(session, booked.id, "cancelled", now=EARLY)
        session.commit()
        assert (
            session.scalars(
                select(OutboundMessage.state).where(OutboundMessage.id == reminders[1].id)
            ).one()
            == "withdrawn"
        )
        counts = send_due(session, app.config, now=EARLY)
        assert counts["sent"] == 3  # three e-mails; the texts wait for an SMS gateway
        texts = session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.event == "appointment_booked", OutboundMessage.channel == "sms"
            )
        ).all()
        assert len(texts) == 1 and booked.code in texts[0].body

    assert len(smtp.messages) == 3
    invites = []
    for message in smtp.messages:
        parts = {part.get_filename(): part for part in message.iter_attachments()}
        assert "invite.ics" in parts
        invites.append(icalendar.Calendar.from_ical(parts["invite.ics"].get_content()))
    first = smtp.messages[0]
    assert f"{booked.code}.png" in {part.get_filename() for part in first.iter_attachments()}
    png = next(p for p in first.iter_attachments() if p.get_filename().endswith(".png"))
    assert png.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "预约" in str(first["Subject"])  # the shop's language: Chinese

    events = [next(iter(cal.walk("VEVENT"))) for cal in invites]
    assert len({str(event["UID"]) for event in events}) == 1
    assert [int(event["SEQUENCE"]) for event in events] == [0, 1, 2]
    assert [str(cal["METHOD"]) for cal in invites] == ["REQUEST", "REQUEST", "CANCEL"]
    assert str(events[2]["STATUS"]) == "CANCELLED"
    assert [str(tz["TZID"]) for tz in invites[0].walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert events[0].decoded("DTSTART") == at(MONDAY, 10)
    assert events[1].decoded("DTSTART") == at(MONDAY, 14)


def test_a_reminder_is_never_in_quiet_hours() -> None:
    arrival = at(MONDAY, 9)
    assert reminder_time(arrival, EARLY, "Asia/Shanghai") == at(MONDAY - timedelta(days=1), 10)
    # Booked late on the evening before: too late for the planned time, quiet now.
    late = at(MONDAY - timedelta(days=1), 22).astimezone(UTC)
    assert reminder_time(arrival, late, "Asia/Shanghai") is None
    # Booked the afternoon before an afternoon arrival: reminded at once.
    afternoon = at(MONDAY - timedelta(days=1), 15)
    assert reminder_time(at(MONDAY, 15), afternoon, "Asia/Shanghai") == afternoon
    assert ZONE.key == "Asia/Shanghai" and isinstance(afternoon, datetime)
