"""Each car's stored due dates (``follow_up_cars_due``) at their edges: a car with one
visit (due by date, its driving unknown) and then with many (due by its projected
mileage), moved on when a visit is delivered; declined work stored when declined and
gone when a later visit does it; a change of the intervals worked out for every car by
the job, not by the settings request; and the forward load counting the cars coming
due per week with their preset hours, a booked car once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from customer_file_fixtures import Line, VisitPlan, make_history
from flask import Flask
from follow_up_fixtures import (  # noqa: F401
    SHANGHAI,
    Service,
    at,
    make_customer_with_car,
    reminder_app,
)
from sqlalchemy import select

from shared.shop_calendar import ShopCalendar
from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.follow_up import cars_due, settings_form
from sync_server.follow_up.tables import CarDue, CarTouched, FollowUpSettings, ServiceInterval
from sync_server.jobs import run_due_jobs
from sync_server.reports.forward_load import forward_load
from sync_server.sync.records import lock_feed, put_server_record
from sync_server.visit_tables import Appointment, Visit


def caught_up(app: Flask) -> None:
    """What the ``cars_due`` job does: the cars whose history changed are worked out."""
    with app.app_context():
        session = db.session()
        cars_due.catch_up(session)
        session.commit()


def queued(app: Flask) -> set[str]:
    with app.app_context():
        return set(db.session().scalars(select(CarTouched.vehicle_id)))


def stored(app: Flask, vehicle_id: str, catch_up: bool = True) -> dict[str, tuple[date, str, str]]:
    """The car's rows (after the job's pass): subject → (due on, by, the reason)."""
    from shared.i18n import Text

    if catch_up:
        caught_up(app)
    with app.app_context():
        session = db.session()
        rows = session.scalars(select(CarDue).where(CarDue.vehicle_id == vehicle_id)).all()
        found = {
            row.subject: (
                row.due_on,
                row.by,
                Text.stored(row.reason, "server", row.reason_params).render("en"),
            )
            for row in rows
        }
        session.rollback()
    return found


def test_one_visit_is_due_by_date_many_by_mileage_and_a_delivery_moves_it(
    reminder_app: Flask,  # noqa: F811
) -> None:
    made = make_customer_with_car(
        reminder_app, "One Visit", [Service("2026-03-02", 40000)], plate="沪C00001"
    )
    # One reading and no purchase date: the car's driving is not known — by date only.
    assert stored(reminder_app, made.vehicle_id)["oil_service"] == (
        date(2026, 9, 2),
        "date",
        "by date: 6 months after the last service (2026-03-02); the car's driving is not known yet",
    )
    # A second visit (another concern) reads the odometer: 60 km a day, so 5,000 km after
    # 40,000 come on 24 May — before the six months.
    with reminder_app.app_context():
        session = db.session()
        lock_feed(session)
        visit_id = _visit(session, made, "2026-04-01", 41800, "noise", VisitStatus.checked_in)
        session.commit()
    # The check-in only queues the car; the job works it out.
    assert made.vehicle_id in queued(reminder_app)
    assert stored(reminder_app, made.vehicle_id, catch_up=False)["oil_service"][1] == "date"
    due_on, by, reason = stored(reminder_app, made.vehicle_id)["oil_service"]
    assert made.vehicle_id not in queued(reminder_app)
    assert (due_on, by) == (date(2026, 5, 24), "mileage")
    assert reason.startswith("by mileage: 5,000 km after the last service at 40,000 km")
    # That visit becomes an oil service only when it is handed back (delivered).
    with reminder_app.app_context():
        session = db.session()
        row = session.get(Visit, visit_id)
        assert row is not None
        row.concern_codes = ["oil_change"]
        session.commit()
        assert stored(reminder_app, made.vehicle_id)["oil_service"][0] == date(2026, 5, 24)
        row = session.get(Visit, visit_id)
        assert row is not None
        row.status = VisitStatus.delivered
        session.commit()
    # 41,800 + 5,000 at 60 km a day from 1 April: 23 June.
    assert stored(reminder_app, made.vehicle_id)["oil_service"][:2] == (
        date(2026, 6, 23),
        "mileage",
    )


def _visit(session: Any, made: Any, day: str, km: int, code: str, status: VisitStatus) -> str:
    from shared import domain

    visit = domain.Visit(
        ticket_number=f"V-{day}",
        customer_id=made.customer_id,
        vehicle_id=made.vehicle_id,
        status=status,
        concern_codes=[domain.ConcernCode(code)],
        mileage_in_km=km,
        checked_in_at=at(f"{day}T10:00"),
        status_token=domain.new_status_token(),
        reminders_opt_in=True,
    )
    put_server_record(session, "visit", visit)
    return visit.id


def test_declined_work_is_stored_when_declined_and_gone_once_done(
    reminder_app: Flask,  # noqa: F811
) -> None:
    made = make_customer_with_car(reminder_app, "Declines", [], plate="沪C00002")
    march = datetime(2026, 3, 2, 2, tzinfo=UTC)
    make_history(
        reminder_app,
        made.customer_id,
        made.vehicle_id,
        [VisitPlan(march, 10000, lines=[Line("Brake pads", "declined", "labour", "300")])],
    )
    [(line_id, row)] = stored(reminder_app, made.vehicle_id).items()
    # Yellow: due 90 days after it was declined; its quoted labour hour is kept.
    assert row[:2] == (date(2026, 5, 31), "yellow")
    assert row[2] == "work declined on 2026-03-02, due by 2026-05-31"
    with reminder_app.app_context():
        assert db.session().scalar(select(CarDue.hours).where(CarDue.subject == line_id)) == 1.0
    make_history(
        reminder_app,
        made.customer_id,
        made.vehicle_id,
        [VisitPlan(march + timedelta(days=40), 11000, lines=[Line("Brake pads", "approved")])],
    )
    assert stored(reminder_app, made.vehicle_id) == {}


def test_an_interval_change_is_worked_out_by_the_job_for_every_car(
    reminder_app: Flask,  # noqa: F811
) -> None:
    cars = [
        make_customer_with_car(
            reminder_app, f"Interval {n}", [Service("2026-01-10", None)], plate=f"沪C1000{n}"
        )
        for n in range(2)
    ]
    assert {stored(reminder_app, car.vehicle_id)["oil_service"][0] for car in cars} == {
        date(2026, 7, 10)
    }
    with reminder_app.app_context():
        session = db.session()
        interval = session.scalars(
            select(ServiceInterval).where(ServiceInterval.service_type == "oil_service")
        ).one()
        # What the settings page's request does: saved, every car marked — not worked out.
        errors = settings_form.save_interval(
            session, interval.id, {"months": "4", "km": "5000", "active": "on"}
        )
        assert errors == {}
        session.commit()
        assert session.get(FollowUpSettings, 1).cars_due_stale_since is not None  # type: ignore[union-attr]
    assert stored(reminder_app, cars[0].vehicle_id)["oil_service"][0] == date(2026, 7, 10)
    with reminder_app.app_context():
        session = db.session()
        # The job, as ``serve`` runs it (a day on: due whatever ran before).
        ran = run_due_jobs(
            session, reminder_app.config, "test", now=datetime.now(UTC) + timedelta(days=1)
        )
        assert "cars_due" in ran
        assert session.get(FollowUpSettings, 1).cars_due_stale_since is None  # type: ignore[union-attr]
    for car in cars:
        assert stored(reminder_app, car.vehicle_id)["oil_service"][:2] == (
            date(2026, 5, 10),
            "date",
        )
    with reminder_app.app_context():  # back as it was, for the other tests of the module
        session = db.session()
        settings_form.save_interval(
            session, interval.id, {"months": "6", "km": "5000", "active": "on"}
        )
        session.commit()
        run_due_jobs(
            session, reminder_app.config, "test", now=datetime.now(UTC) + timedelta(days=2)
        )


def test_the_forward_load_counts_cars_coming_due_once_with_their_preset_hours(
    reminder_app: Flask,  # noqa: F811
) -> None:
    # Oil services six months ago: due in the week of 7 December 2026, 1 hour each (the
    # oil service preset). One of the two is booked in already: counted as booked only.
    due = [
        make_customer_with_car(
            reminder_app, f"Due {n}", [Service("2027-06-08", None)], plate=f"沪D0000{n}"
        )
        for n in range(3)
    ]
    with reminder_app.app_context():
        session = db.session()
        session.add(
            Appointment(
                id="appt-forward-load",
                code="FL0001",
                customer_id=due[0].customer_id,
                vehicle_id=due[0].vehicle_id,
                expected_arrival=at("2027-12-08T09:00").astimezone(UTC),
            )
        )
        session.commit()
    caught_up(reminder_app)
    with reminder_app.app_context():
        session = db.session()
        calendar = ShopCalendar(timezone=SHANGHAI)
        weeks = forward_load(session, calendar, date(2027, 11, 30), 3)
        assert [w.week_start for w in weeks] == [
            date(2027, 11, 29),
            date(2027, 12, 6),
            date(2027, 12, 13),
        ]
        assert [(w.due_cars, w.due_hours) for w in weeks] == [(0, 0.0), (2, 2.0), (0, 0.0)]
        # The appointment cancelled: the car is coming due again.
        booked = session.get(Appointment, "appt-forward-load")
        assert booked is not None
        booked.status = "cancelled"
        session.commit()
        weeks = forward_load(session, calendar, date(2027, 11, 30), 3)
        assert (weeks[1].due_cars, weeks[1].due_hours) == (3, 3.0)
