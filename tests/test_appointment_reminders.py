"""The day-before reminder job: a booking made too late for its planned reminder gets one
when the quiet hours end; the job queues nothing twice and at most its cap per run; a
reminder that comes due in quiet hours (the sender was off) waits for the morning, and
one whose booking is about to start or was cancelled is withdrawn — never sent."""

from __future__ import annotations

from datetime import timedelta

from appointment_fixtures import EARLY, at, engine_session, plan_shop
from flask import Flask
from sqlalchemy import select
from test_appointment_capacity import CALENDAR, MONDAY, request_for

from sync_server.appointment_tables import AppointmentPlan
from sync_server.appointments.booking import book, cancel
from sync_server.appointments.confirmation import notify_appointment
from sync_server.appointments.reminders import prepare_reminders, queue_missing_reminders
from sync_server.back_office_tables import OutboundMessage
from sync_server.messaging import send_due

SUNDAY = MONDAY - timedelta(days=1)


class Texts:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str, *, idempotency_key: str) -> None:
        self.sent.append((phone, text))


def reminders(session):  # type: ignore[no-untyped-def]
    return session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.event.like("appointment_reminder%"))
        .order_by(OutboundMessage.id)
    ).all()


def test_a_late_evening_booking_is_reminded_after_quiet_hours_once(app: Flask) -> None:
    made = plan_shop(app)
    texts = Texts()
    late_evening = at(SUNDAY, 22)
    with engine_session(app) as session:
        booked = book(session, CALENDAR, request_for(made, at(MONDAY, 14)), now=EARLY)
        notify_appointment(session, booked.id, "booked", now=late_evening)
        session.commit()
        assert reminders(session) == []  # 10:00 the day before has passed, and it is quiet
        assert prepare_reminders(session, late_evening)["queued"] == 0
        assert prepare_reminders(session, at(MONDAY, 7, 59))["queued"] == 0
        send_due(session, app.config, sms=texts, now=at(MONDAY, 8))
        (reminder,) = reminders(session)
        assert reminder.state == "sent" and "14:00" in reminder.body
        assert texts.sent[-1][1] == reminder.body and booked.code in reminder.body
        # Another run (or a second server process) queues nothing again.
        assert prepare_reminders(session, at(MONDAY, 8, 5))["queued"] == 0
        assert len(reminders(session)) == 1


def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(app: Flask) -> None:
    made = plan_shop(app)
    texts = Texts()
    wednesday = MONDAY + timedelta(days=2)
    with engine_session(app) as session:
        booked = book(session, CALENDAR, request_for(made, at(wednesday, 10)), now=EARLY)
        notify_appointment(session, booked.id, "booked", now=EARLY)
        session.commit()
        (reminder,) = reminders(session)
        assert reminder.next_attempt_at == at(wednesday - timedelta(days=1), 10)
        # The sender was off all Tuesday and starts at 22:00: nothing goes out now.
        send_due(session, app.config, sms=texts, now=at(wednesday - timedelta(days=1), 22))
        session.refresh(reminder)
        assert reminder.state == "pending"
        assert reminder.body not in [body for _phone, body in texts.sent]
        assert reminder.next_attempt_at == at(wednesday, 8)
        send_due(session, app.config, sms=texts, now=at(wednesday, 8))
        session.refresh(reminder)
        assert reminder.state == "sent" and texts.sent[-1][1] == reminder.body


def test_a_reminder_too_close_to_the_booking_or_for_a_cancelled_one_is_withdrawn(
    app: Flask,
) -> None:
    made = plan_shop(app, bays=2, specialities=(("engine",), ("engine",)))
    texts = Texts()
    with engine_session(app) as session:
        early = book(session, CALENDAR, request_for(made, at(MONDAY, 8, 30)), now=EARLY)
        later = book(session, CALENDAR, request_for(made, at(MONDAY, 15)), now=EARLY)
        for booking in (early, later):
            notify_appointment(session, booking.id, "booked", now=EARLY)
        session.commit()
        cancel(session, later.id)
        session.commit()  # cancelled without telling: the job withdraws its reminder
        # Sender off from Sunday morning to 22:00: the 08:30 booking's reminder would
        # wait until 08:00, too close to the arrival: withdrawn.
        send_due(session, app.config, sms=texts, now=at(SUNDAY, 22))
        withdrawn = reminders(session)
        assert [message.state for message in withdrawn] == ["withdrawn", "withdrawn"]
        sent = [body for _phone, body in texts.sent]
        assert all(message.body not in sent for message in withdrawn)


def test_the_job_queues_at_most_its_cap_per_run(app: Flask) -> None:
    made = plan_shop(app, bays=3, specialities=(("engine",), ("engine",), ("engine",)))
    with engine_session(app) as session:
        for _ in range(3):
            book(session, CALENDAR, request_for(made, at(MONDAY, 11)), now=EARLY)
        session.commit()
        now = at(SUNDAY, 12)
        assert queue_missing_reminders(session, now, cap=2) == 2
        session.commit()
        assert queue_missing_reminders(session, now, cap=2) == 1
        session.commit()
        assert queue_missing_reminders(session, now, cap=2) == 0
        plans = session.scalars(select(AppointmentPlan)).all()
        assert all(plan.reminder_message_id for plan in plans)
        assert {message.next_attempt_at for message in reminders(session)} == {now}
