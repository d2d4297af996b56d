"""How fast the survey figures answer with 100,000 visits handed back over two years and
20,000 answered surveys, on SQLite and on PostgreSQL: ``satisfaction_by_month`` over 12
shop months, ``service_star`` for one month, and the star page through the Flask test
client. Prints p50/p95 of the wall clock and p95 of the CPU time; the goal is
p95 ≤ 300 ms (issue 14, reports).

    .venv/bin/python benchmarks/surveys_bench.py [--visits 100000] [--surveys 20000]
        [--runs 30] [--postgres postgresql+psycopg://user:pw@host/db] [--keep]
    .venv/bin/python benchmarks/surveys_bench.py --seeded URL   # time a kept database again

Seeding 100,000 visits takes minutes: ``--keep`` keeps the database (its URL is
printed) and ``--seeded URL`` times it again (migrated to the newest revision first, as
a shop's server would be).
"""

from __future__ import annotations

import argparse
import random
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import add_user, analyze, bench_server, database_options, signed_in
from timing import time_calls

SHANGHAI = ZoneInfo("Asia/Shanghai")
CODES = ["brakes", "tyres", "noise", "maintenance", "oil_change", "air_conditioning"]


def seed(engine, visits: int, surveys: int, end: datetime, advisors: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Customers, cars, visits handed back over two years before ``end``, their quality
    checks, and answered surveys for ``surveys`` of them (typed rows, bulk inserted)."""
    from sync_server.models import Customer, Vehicle, Visit
    from sync_server.surveys.tables import Survey
    from sync_server.work_tables import HandBack, HandedBackJob, QualityCheck

    rng = random.Random(2026)
    cars = max(1, visits * 6 // 10)
    customer_ids = [str(uuid.uuid4()) for _ in range(cars)]
    with engine.begin() as connection:
        for start in range(0, cars, 5000):
            chunk = range(start, min(cars, start + 5000))
            connection.execute(
                insert(Customer),
                [
                    {"id": customer_ids[n], "name": f"Customer {n}", "phone": f"+86138{n:08d}"}
                    for n in chunk
                ],
            )
            connection.execute(
                insert(Vehicle),
                [
                    {"id": customer_ids[n], "customer_id": customer_ids[n], "plate": f"京A{n:05d}"}
                    for n in chunk
                ],
            )
    surveyed = set(rng.sample(range(visits), min(surveys, visits)))
    span = timedelta(days=730).total_seconds()
    rows: dict[type, list[dict]] = {  # type: ignore[type-arg]
        Visit: [], HandBack: [], QualityCheck: [], Survey: []
    }  # fmt: skip

    def flush(connection) -> None:  # type: ignore[no-untyped-def]
        for model, batch in rows.items():
            if batch:
                connection.execute(insert(model), batch)
                batch.clear()

    jobs: list[dict] = []  # type: ignore[type-arg]
    with engine.begin() as connection:
        for n in range(visits):
            visit_id = str(uuid.uuid4())
            car = customer_ids[rng.randrange(cars)]
            handed = end - timedelta(seconds=rng.random() * span)
            checked_in = handed - timedelta(hours=rng.randint(2, 30))
            advisor = advisors[n % len(advisors)]
            codes = [rng.choice(CODES)]
            promised = handed - timedelta(minutes=rng.randint(-120, 240))
            rows[Visit].append(
                {
                    "id": visit_id,
                    "ticket_number": f"K-{n % 1000:03d}",
                    "customer_id": car,
                    "vehicle_id": car,
                    "status": "delivered",
                    "concern_codes": codes,
                    "concern_text": "",
                    "checked_in_at": checked_in,
                    "advisor_user_id": advisor,
                    "expected_ready_at": promised,
                    "status_token": secrets.token_urlsafe(16),
                }
            )
            rows[HandBack].append(
                {
                    "visit_id": visit_id,
                    "odometer_out_km": 1000,
                    "work_done": "Service",
                    "parts_replaced": [],
                    "handed_back_by_user_id": advisor,
                    "handed_back_at": handed,
                }
            )
            jobs.append(
                {
                    "visit_id": visit_id,
                    "handed_back_at": handed,
                    "advisor_user_id": advisor,
                    "vehicle_id": car,
                    "promised_at": promised,
                    "ready_at": handed - timedelta(hours=1),
                }
            )
            rows[QualityCheck].append(
                {
                    "visit_id": visit_id,
                    "job_type": "",
                    "items": [],
                    "passed": True,
                    "notes": "",
                    "checked_at": handed - timedelta(hours=1),
                }
            )
            if n in surveyed:
                rows[Survey].append(
                    {
                        "visit_id": visit_id,
                        "customer_id": car,
                        "advisor_user_id": advisor,
                        "token": secrets.token_urlsafe(32),
                        "language": "zh_CN",
                        "handed_back_at": handed,
                        "send_at": handed + timedelta(days=1),
                        "queued_at": handed + timedelta(days=1),
                        "answered_at": handed + timedelta(days=1, hours=1),
                        "overall": rng.randint(1, 5),
                        "advisor_score": rng.randint(2, 5),
                        "work_score": rng.randint(2, 5),
                        "recommend": rng.randint(0, 10),
                        "comment": "",
                        "hot": False,
                        "created_at": handed,
                    }
                )
            if len(rows[Visit]) >= 5000:
                flush(connection)
        flush(connection)
        # The star's rows in the order a shop adds them: by hand-back.
        jobs.sort(key=lambda job: job["handed_back_at"])
        for start in range(0, len(jobs), 5000):
            connection.execute(insert(HandedBackJob), jobs[start : start + 5000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--surveys", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=30)
    database_options(parser, keep=True)
    args = parser.parse_args()

    started = time.perf_counter()
    with bench_server("surveys", args.postgres, seeded=args.seeded, keep=args.keep) as app:
        from sync_server import db
        from sync_server.models import UserRole
        from sync_server.shop import shop_settings
        from sync_server.surveys.figures import satisfaction_by_month, service_star

        engine = app.extensions["db_engine"]
        end = datetime(2026, 12, 1, tzinfo=SHANGHAI).astimezone(UTC)
        if args.seeded:
            print(
                f"{engine.dialect.name}: {args.seeded} migrated in "
                f"{time.perf_counter() - started:.1f} s"
            )
        else:
            with app.app_context():
                session = db.session()
                shop_settings(session).timezone = "Asia/Shanghai"
                session.commit()
                advisors = [add_user(session, f"advisor{n}", UserRole.ADVISOR) for n in range(8)]
                add_user(session, "boss", UserRole.MANAGER)
            seed(engine, args.visits, args.surveys, end, advisors)
            analyze(engine)
            print(
                f"{engine.dialect.name}: seeded {args.visits:,} visits, {args.surveys:,} surveys "
                f"in {time.perf_counter() - started:.1f} s"
            )
            if args.keep:
                print(f"kept: --seeded {app.config['DATABASE_URL']}")
        year_start = datetime(2025, 12, 1, tzinfo=SHANGHAI)
        client = signed_in(app, "boss")
        with app.app_context():
            session = db.session()
            checks = {
                "satisfaction_by_month (12 months)": lambda: satisfaction_by_month(
                    session, year_start, end
                ),
                "service_star (one month)": lambda: service_star(session, 2026, 11),
                "star page /surveys/star": lambda: client.get("/surveys/star?month=2026-11"),
            }
            for label, call in checks.items():
                call()  # warm
                t = time_calls(call, args.runs)
                verdict = "ok" if t.p95 <= 300 else "OVER the 300 ms goal"
                print(
                    f"  {label:36s} p50 {t.p50:6.1f} ms  p95 {t.p95:6.1f} ms  "
                    f"(CPU p95 {t.cpu_p95:6.1f} ms)  {verdict}"
                )


if __name__ == "__main__":
    main()
