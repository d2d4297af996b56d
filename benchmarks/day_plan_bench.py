"""How fast the day plan and the appointments page answer with 100,000 visits and a
year of appointments, on SQLite and on PostgreSQL.

Seeds visits as ``board_bench`` does, then bulk-inserts 8 bays, 12 technicians (half
of them with their own weekly hours), 300 absences and about 60,000 appointments with
their plans over the past and coming year (40 on the timed day), and times
``/appointments/day-plan``, ``/appointments`` (with its capacity: technicians, their
hours and absences, walk-in buffer from the visits), the manager's
``/settings/capacity`` through the Flask test client, and the reminder job the message
sender runs before every pass. Prints p50/p95 wall time and the p95 of the process's
CPU time (all of SQLite's work; on PostgreSQL the server's is not in it); the goal is
p95 ≤ 100 ms.

    .venv/bin/python benchmarks/day_plan_bench.py [--visits 100000] [--runs 60]
        [--postgres postgresql+psycopg://user:pw@host/db]

``--postgres`` defaults to ``TEST_DATABASE_URL`` when it is set (a database is made
for the run and dropped after it); ``--sqlite`` runs on SQLite regardless.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import add_user, analyze, bench_server, database_options, signed_in
from board_bench import seed
from timing import Timings, time_pages

APPOINTMENTS = int(os.environ.get("BENCH_APPOINTMENTS", "60000"))


def seed_capacity(engine, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """Weekly hours for half the technicians and 300 absences over two years."""
    from datetime import time as clock

    from sync_server.appointment_tables import TechnicianAbsence, TechnicianHours

    rng = random.Random(17)
    with engine.begin() as connection:
        connection.execute(
            insert(TechnicianHours),
            [
                {"technician_id": tech, "weekday": day, "starts": clock(8), "ends": clock(17)}
                for tech in range(1, 7)
                for day in range(6)
            ],
        )
        absences = []
        for _ in range(300):
            first = now.date() + timedelta(days=rng.randint(-365, 365))
            absences.append(
                {
                    "technician_id": rng.randint(1, 12),
                    "day": first,  # the first day's column
                    "last_day": first + timedelta(days=rng.randint(0, 4)),
                    "reason": "Leave",
                }
            )
        connection.execute(insert(TechnicianAbsence), absences)


def seed_appointments(engine, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from sync_server.appointment_tables import AppointmentPlan, ServiceBay
    from sync_server.models import Appointment, Technician, Vehicle

    rng = random.Random(13)
    with engine.begin() as connection:
        connection.execute(
            insert(ServiceBay), [{"name": f"Bay {n}", "active": True} for n in range(8)]
        )
        connection.execute(
            insert(Technician),
            [
                {"name": f"Tech {n}", "specialities": ["engine", "brakes"], "active": True}
                for n in range(12)
            ],
        )
        cars = connection.execute(select(Vehicle.id, Vehicle.customer_id).limit(20_000)).all()
        rows, plans = [], []
        for n in range(APPOINTMENTS):
            today = n < 40
            start = now.replace(minute=0, second=0, microsecond=0) + (
                timedelta(hours=n % 9 - 4)
                if today
                else timedelta(days=rng.randint(-365, 365), hours=rng.randint(-4, 4))
            )
            car = cars[n % len(cars)]
            appointment_id = str(uuid.uuid4())
            rows.append(
                {
                    "id": appointment_id,
                    "code": f"B{n:07d}",
                    "customer_id": car.customer_id,
                    "vehicle_id": car.id,
                    "expected_arrival": start,
                    "requested_work": "Oil service",
                    "concern_codes": [],
                    "expected_duration_minutes": 60,
                    "channel": "phone",
                    "status": "booked",
                    "created_at": now,
                }
            )
            plans.append(
                {
                    "appointment_id": appointment_id,
                    "starts_at": start,
                    "ends_at": start + timedelta(hours=1),
                    "bay_id": n % 8 + 1,
                    "technician_id": n % 12 + 1,
                    "speciality": "engine",
                    "vip": n % 10 == 0,
                    "sequence": 0,
                    "state": "booked",
                    "note": "",
                    "updated_at": now,
                }
            )
            if len(rows) >= 5000:
                connection.execute(insert(Appointment), rows)
                connection.execute(insert(AppointmentPlan), plans)
                rows, plans = [], []
        if rows:
            connection.execute(insert(Appointment), rows)
            connection.execute(insert(AppointmentPlan), plans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=60)
    database_options(parser, from_environment=True)
    args = parser.parse_args()
    if args.sqlite:
        args.postgres = None
    with bench_server("day_plan", args.postgres) as app:
        from sync_server import db
        from sync_server.models import UserRole

        with app.app_context():
            advisors = [add_user(db.session(), "advisor0", UserRole.ADVISOR)]
            add_user(db.session(), "manager0", UserRole.MANAGER)
        now = datetime.now(UTC)
        started = time.perf_counter()
        engine = app.extensions["db_engine"]
        seed(engine, args.visits, now, advisors)
        seed_appointments(engine, now)
        seed_capacity(engine, now)
        analyze(engine)
        print(
            f"{engine.dialect.name}: seeded {args.visits:,} visits and {APPOINTMENTS:,} "
            f"appointments in {time.perf_counter() - started:.1f} s"
        )
        print(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'CPU p95':>8}")
        for person, label, target in (
            ("advisor0", "day plan", "/appointments/day-plan"),
            ("advisor0", "appointments", "/appointments"),
            ("manager0", "capacity settings", "/settings/capacity"),
        ):
            client = signed_in(app, person)
            client.get(target).close()  # warm up: templates, the holiday calendars' imports
            t = time_pages(client, [target] * args.runs)
            print(f"{label:<28} {t.p50:8.1f} {t.p95:8.1f} {t.cpu_p95:8.1f}")
        from sync_server.appointments.reminders import prepare_reminders

        t = Timings()
        with app.app_context():
            for run in range(args.runs):
                with t.run():
                    prepare_reminders(db.session(), now + timedelta(seconds=15 * run))
        print(f"{'reminder job (each pass)':<28} {t.p50:8.1f} {t.p95:8.1f} {t.cpu_p95:8.1f}")


if __name__ == "__main__":
    main()
