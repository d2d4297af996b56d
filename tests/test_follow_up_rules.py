"""Reminder rules at their edges, through the daily run's plan: due by date versus by
mileage, the contact budget on the 7th and the 8th day, quiet hours across midnight, a
holiday greeting (none on a make-up working day), birthdays, an appointment already
booked, marketing only with consent, and a run repeated queueing nothing twice."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from flask import Flask
from follow_up_fixtures import Service, at, make_customer_with_car, reminder_app  # noqa: F401
from sqlalchemy import func, select

from shared import domain
from sync_server import db
from sync_server.back_office_tables import OutboundMessage
from sync_server.follow_up.rules import QuietHours, follow_up_settings
from sync_server.follow_up.run import plan_run, run, send_check
from sync_server.follow_up.tables import FollowUpContact
from sync_server.sync.records import lock_feed, put_server_record

BASE = "https://shop.example"


def plan_for(app: Flask, now: Any, *customer_ids: str) -> tuple[list[Any], list[Any]]:
    """What today's run would send to, and hold back from, these customers."""
    wanted = set(customer_ids)
    with app.app_context():
        plan = plan_run(db.session(), now)
        sending = [
            SimpleNamespace(customer_id=item.customer.id, candidate=item.candidate)
            for item in plan.to_send
            if item.customer.id in wanted
        ]
        held = [
            SimpleNamespace(customer_id=item.customer.id, candidate=item.candidate, why=item.why)
            for item in plan.held
            if item.customer.id in wanted
        ]
        db.session().rollback()
    return sending, held


def test_due_by_mileage_before_the_date_and_by_date_before_the_mileage(
    reminder_app: Flask,  # noqa: F811
) -> None:
    # 50 km a day: 5,000 km after the oil service at 20,000 km is reached on 9 August,
    # long before six months (1 November).
    fast = make_customer_with_car(
        reminder_app,
        "Fast Driver",
        [Service("2026-05-01", 20000), Service("2026-08-01", 24600, ("noise",))],
    )
    # 8 km a day: six months (10 August) come long before 5,000 km.
    slow = make_customer_with_car(
        reminder_app,
        "Slow Driver",
        [Service("2026-02-10", 30000), Service("2026-06-10", 31000, ("noise",))],
    )
    sending, held = plan_for(
        reminder_app, at("2026-08-05T10:00"), fast.customer_id, slow.customer_id
    )
    assert held == []
    due = {item.customer_id: item.candidate for item in sending}
    assert due[fast.customer_id].due_on == date(2026, 8, 9)
    assert due[fast.customer_id].reason.render("en").startswith("by mileage: 5,000 km")
    assert due[slow.customer_id].due_on == date(2026, 8, 10)
    assert due[slow.customer_id].reason.render("en").startswith("by date: 6 months")
    # Both are oil services, worded in the customer's language for the booking link.
    assert due[fast.customer_id].work_zh == "机油机滤保养"
    # A day before the lead time (7 days) the slow one is not due yet.
    sending, _held = plan_for(reminder_app, at("2026-08-02T10:00"), slow.customer_id)
    assert sending == []


def test_the_budget_holds_on_the_7th_day_and_frees_on_the_8th(reminder_app: Flask) -> None:  # noqa: F811
    made = make_customer_with_car(
        reminder_app,
        "Budget Case",
        [Service("2026-03-01", 10000), Service("2026-03-20", 10500, ("noise",))],
    )
    with reminder_app.app_context():
        # A greeting went on Monday 7 September at 20:30 (shop time).
        db.session().add(
            FollowUpContact(
                contact_key=f"holiday:{made.customer_id}:test:2026-09-07",
                customer_id=made.customer_id,
                kind="holiday",
                reason="test",
                due_on=date(2026, 9, 7),
                channel="sms",
                language="zh_CN",
                planned_at=at("2026-09-07T20:30"),
                token="budget-case-token-0000000000",
            )
        )
        db.session().commit()
    # The oil service is due by date on 1 September: overdue, still within 60 days.
    sending, held = plan_for(reminder_app, at("2026-09-13T09:00"), made.customer_id)
    assert sending == [] and [item.why for item in held] == ["budget"]
    sending, held = plan_for(reminder_app, at("2026-09-14T09:00"), made.customer_id)
    assert [item.candidate.kind for item in sending] == ["maintenance"] and held == []


def test_quiet_hours_across_midnight(reminder_app: Flask) -> None:  # noqa: F811
    made = make_customer_with_car(reminder_app, "Night Owl", [Service("2026-04-01", 8000)])
    for moment, quiet in (
        ("2026-10-01T20:59", False),
        ("2026-10-01T21:00", True),
        ("2026-10-01T23:59", True),
        ("2026-10-02T00:30", True),
        ("2026-10-02T08:59", True),
        ("2026-10-02T09:00", False),
    ):
        sending, held = plan_for(reminder_app, at(moment), made.customer_id)
        assert bool(held and held[0].why == "quiet_hours") is quiet, moment
        assert bool(sending) is not quiet, moment
    with reminder_app.app_context():
        hours = QuietHours.of(follow_up_settings(db.session()))
        db.session().rollback()
    # What comes due in the night goes at 09:00 — the same morning after midnight, the
    # next morning before it.
    assert hours.ends_after(at("2026-10-01T22:00"), "Asia/Shanghai") == at("2026-10-02T09:00")
    assert hours.ends_after(at("2026-10-02T01:00"), "Asia/Shanghai") == at("2026-10-02T09:00")
    assert hours.ends_after(at("2026-10-02T12:00"), "Asia/Shanghai") == at("2026-10-02T12:00")


def test_holiday_greeting_on_its_first_day_never_on_a_make_up_working_day(
    reminder_app: Flask,  # noqa: F811
) -> None:
    made = make_customer_with_car(reminder_app, "Holiday Case", [])
    # Saturday 14 February 2026 is worked in exchange for the Spring Festival (调休).
    sending, _held = plan_for(reminder_app, at("2026-02-14T10:00"), made.customer_id)
    assert sending == []
    sending, _held = plan_for(reminder_app, at("2026-02-15T10:00"), made.customer_id)
    assert [(item.candidate.kind, item.candidate.work) for item in sending] == [
        ("holiday", "Spring Festival")
    ]
    # The second day of the holiday: greeted already, no second greeting.
    sending, _held = plan_for(reminder_app, at("2026-02-16T10:00"), made.customer_id)
    assert sending == []


def test_birthday_consent_and_an_appointment_booked(reminder_app: Flask) -> None:  # noqa: F811
    born = make_customer_with_car(reminder_app, "Birthday Case", [], birthday=date(1990, 11, 3))
    no_consent = make_customer_with_car(
        reminder_app,
        "No Consent",
        [Service("2026-05-01", 8000)],
        birthday=date(1985, 11, 3),
        opt_in=False,
    )
    booked = make_customer_with_car(reminder_app, "Already Booked", [Service("2026-05-01", 8000)])
    with reminder_app.app_context():
        session = db.session()
        lock_feed(session)
        put_server_record(
            session,
            "appointment",
            domain.Appointment(
                code="FU0001",
                customer_id=booked.customer_id,
                vehicle_id=booked.vehicle_id,
                expected_arrival=at("2026-11-10T10:00"),
            ),
        )
        session.commit()
    ids = (born.customer_id, no_consent.customer_id, booked.customer_id)
    sending, held = plan_for(reminder_app, at("2026-11-03T10:00"), *ids)
    assert [(item.customer_id, item.candidate.kind) for item in sending] == [
        (born.customer_id, "birthday")
    ]
    assert [(item.customer_id, item.why) for item in held] == [(booked.customer_id, "appointment")]


def test_a_second_run_queues_nothing_and_a_run_in_the_night_nothing_at_all(
    reminder_app: Flask,  # noqa: F811
) -> None:
    made = make_customer_with_car(reminder_app, "Twice Case", [Service("2026-06-20", 12000)])

    def queued_for_customer() -> int:
        with reminder_app.app_context():
            return (
                db.session().scalar(
                    select(func.count())
                    .select_from(FollowUpContact)
                    .where(FollowUpContact.customer_id == made.customer_id)
                )
                or 0
            )

    with reminder_app.app_context():
        run(db.session(), at("2026-12-16T23:00"), BASE)
    assert queued_for_customer() == 0
    for _ in range(2):
        with reminder_app.app_context():
            run(db.session(), at("2026-12-17T10:00"), BASE)
    assert queued_for_customer() == 1
    with reminder_app.app_context():
        session = db.session()
        contact = session.scalars(
            select(FollowUpContact).where(FollowUpContact.customer_id == made.customer_id)
        ).one()
        message = session.get(OutboundMessage, contact.message_id)
        assert message is not None and message.event == "follow_up:maintenance"
        # In the customer's language, with the booking link and how to stop.
        assert "机油机滤保养" in message.body and f"{BASE}/book/{contact.token}" in message.body
        assert (
            "回复TD退订" in message.body and f"{BASE}/unsubscribe/{contact.token}" in message.body
        )
        # Checked again when it is sent: in quiet hours it waits for the morning.
        verdict, later, _headers = send_check(session, message, at("2026-12-17T21:30"))
        assert (verdict, later) == ("later", at("2026-12-18T09:00"))
        assert send_check(session, message, at("2026-12-17T10:05"))[0] == "send"
        session.rollback()
