"""How fast the day plan and the appointments page answer with 100,000 visits and a
year of appointments, on SQLite and on PostgreSQL.

Seeds visits as ``board_bench`` does, then bulk-inserts 8 bays, 12 technicians and
about 60,000 appointments with their plans over the past and coming year (40 on the
timed day), and times ``/appointments/day-plan`` and ``/appointments`` (with its
capacity: technicians, absences, walk-in buffer from the visits) through the Flask test
client. Prints p50/p95; the goal is p95 ≤ 100 ms.

    .venv/bin/python benchmarks/day_plan_bench.py [--visits 100000] [--runs 60]
        [--postgres postgresql+psycopg://user:pw@host/db]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from board_bench import percentile, seed

APPOINTMENTS = 60_000


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
    parser.add_argument("--postgres", metavar="URL")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="day-plan-bench-"))
    os.environ["CHECKIN_INSTANCE_PATH"] = str(folder / "instance")
    from sync_server import create_app, db
    from sync_server.migrate import upgrade
    from sync_server.models import UserRole
    from sync_server.people import create_user

    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    admin = name = None
    if args.postgres:
        name = f"day_plan_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    try:
        upgrade(app)
        with app.app_context():
            advisors = [
                create_user(db.session(), "advisor0", "bench-password", UserRole.ADVISOR).id
            ]
        now = datetime.now(UTC)
        started = time.perf_counter()
        engine = app.extensions["db_engine"]
        seed(engine, args.visits, now, advisors)
        seed_appointments(engine, now)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        print(
            f"{engine.dialect.name}: seeded {args.visits:,} visits and {APPOINTMENTS:,} "
            f"appointments in {time.perf_counter() - started:.1f} s"
        )
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        client.post(
            "/login",
            data={"username": "advisor0", "password": "bench-password", "csrf_token": token},
        )
        print(f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8}")
        for label, target in (
            ("day plan", "/appointments/day-plan"),
            ("appointments", "/appointments"),
        ):
            timings = []
            for _ in range(args.runs):
                begin = time.perf_counter()
                response = client.get(target)
                response.get_data()
                timings.append((time.perf_counter() - begin) * 1000)
                assert response.status_code == 200, (target, response.status_code)
                response.close()
            print(f"{label:<28} {statistics.median(timings):8.1f} {percentile(timings, 0.95):8.1f}")
    finally:
        app.extensions["db_engine"].dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
