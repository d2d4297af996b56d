"""Migration 0012 upgrades a filled database with nothing lost: single-day absences
become absences from that day to the same day, customers of the VIP tier become VIPs,
the rules start from what the code fixed before, and a booking's pending reminder is
found again as its reminder."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import command
from appointment_fixtures import EARLY, at, engine_session, plan_shop
from flask import Flask
from sqlalchemy import select, text
from test_appointment_capacity import CALENDAR, MONDAY, request_for

from sync_server.appointment_tables import AppointmentPlan, AppointmentSettings, TechnicianAbsence
from sync_server.appointments.booking import book
from sync_server.appointments.confirmation import notify_appointment
from sync_server.migrate import alembic_config, upgrade
from sync_server.visit_tables import Customer


def test_a_filled_database_upgrades_to_0012_with_nothing_lost(app: Flask) -> None:
    made = plan_shop(app)
    with engine_session(app) as session:
        booked = book(session, CALENDAR, request_for(made, at(MONDAY, 10)), now=EARLY)
        notify_appointment(session, booked.id, "booked", now=EARLY)
        session.commit()
        reminder = session.get(AppointmentPlan, booked.id).reminder_message_id  # type: ignore[union-attr]
        assert reminder is not None
    command.downgrade(alembic_config(app), "0011")
    engine = app.extensions["db_engine"]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO technician_absences (technician_id, day, reason)"
                " VALUES (:t, :d, 'Sick')"
            ),
            {"t": made.technician_ids[0], "d": date(2026, 12, 21)},
        )
        connection.execute(
            text("UPDATE customers SET tier = 'vip' WHERE id = :id"), {"id": made.customer_id}
        )
        connection.execute(text("UPDATE shop SET phone_region = 'DE'"))
    upgrade(app)
    with engine_session(app) as session:
        (absence,) = session.scalars(select(TechnicianAbsence)).all()
        assert (absence.first_day, absence.last_day, absence.reason) == (
            date(2026, 12, 21),
            date(2026, 12, 21),
            "Sick",
        )
        customer = session.get(Customer, made.customer_id)
        assert customer is not None and customer.vip and customer.vip_reason == "VIP tier"
        rules = session.get(AppointmentSettings, 1)
        assert rules is not None
        assert (rules.vip_share_percent, rules.vip_cutoff_hours, rules.no_show_grace_minutes) == (
            20,
            24,
            30,
        )
        assert rules.holiday_country == "DE"
        assert session.get(AppointmentPlan, booked.id).reminder_message_id == reminder  # type: ignore[union-attr]
        assert rules.updated_at <= datetime.now(UTC)
