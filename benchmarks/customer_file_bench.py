"""How fast the customer page, the vehicle health file and the customer search answer
with 100,000 visits, on SQLite and on PostgreSQL.

Seeds visits as ``board_bench`` does (60,000 customers for 100,000 visits: more than the
20,000 the goal names), adds one regular customer whose car has 40 visits with
walk-arounds, tread readings, damage marks, approved and declined quote lines and
diagnoses (written through the server's own write path), then times through the Flask
test client: the customer page and the health file of 100 customers and cars picked at
random and of the regular, and the search by part of a phone, by plate and by name.
Prints p50/p95 of the wall clock and of the process's CPU time (what a request costs
when the machine is shared); the goal is p95 ≤ 100 ms.

    .venv/bin/python benchmarks/customer_file_bench.py [--visits 100000] [--runs 40]
        [--postgres postgresql+psycopg://user:pw@host/db]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import add_user, analyze, bench_server, continue_feed, database_options, signed_in
from board_bench import seed
from reports_bench import seed_complaints, seed_surveys
from timing import time_pages

REGULAR_VISITS = 40


def seed_regular(app, now: datetime) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A customer whose car came 40 times; returns (customer id, vehicle id)."""
    from shared import domain
    from shared.visit_status import VisitStatus
    from sync_server import db
    from sync_server.customer_file.diagnoses import record_diagnosis
    from sync_server.sync.records import lock_feed, put_server_record

    with app.app_context():
        session = db.session()
        lock_feed(session)
        customer = domain.Customer(name="Regular Zhou", phone="+8613999990000")
        vehicle = domain.Vehicle(customer_id=customer.id, plate="粤B99999", make="BYD", model="Han")
        put_server_record(session, "customer", customer)
        put_server_record(session, "vehicle", vehicle)
        for n in range(REGULAR_VISITS):
            day = now - timedelta(days=(REGULAR_VISITS - n) * 45)
            visit = domain.Visit(
                ticket_number=f"R-{n:03d}",
                customer_id=customer.id,
                vehicle_id=vehicle.id,
                status=VisitStatus.delivered,
                concern_text="Service",
                mileage_in_km=5_000 + n * 4_000,
                checked_in_at=day,
                status_token=uuid.uuid4().hex,
            )
            put_server_record(session, "visit", visit)
            walkaround = domain.Walkaround(
                visit_id=visit.id,
                odometer_km=5_000 + n * 4_000,
                fuel_eighths=4,
                tyre_tread_mm={p: round(8.0 - (n % 12) * 0.5, 1) for p in domain.TYRE_POSITIONS},
            )
            put_server_record(session, "walkaround", walkaround)
            for m in range(3):
                put_server_record(
                    session,
                    "damage_mark",
                    domain.DamageMark(
                        walkaround_id=walkaround.id,
                        view=domain.DiagramView.left,
                        x=0.1 + m * 0.2,
                        y=0.5,
                        damage_type=domain.DamageType.scratch,
                        created_at=day,
                    ),
                )
            lines = [
                domain.QuoteLine(
                    kind=domain.QuoteLineKind.part,
                    description=f"Part {k}",
                    unit_price=Decimal(100 + k),
                    part_number=f"P-{k}",
                    urgency=domain.Urgency.yellow,
                )
                for k in range(6)
            ]
            quote = domain.Quote(visit_id=visit.id, lines=lines)
            put_server_record(session, "quote", quote)
            signature = domain.Signature(
                visit_id=visit.id,
                purpose=domain.SignaturePurpose.approval,
                signed_sha256="b" * 64,
                signed_at=day,
            )
            put_server_record(session, "signature", signature)
            put_server_record(
                session,
                "approval",
                domain.Approval(
                    quote_id=quote.id,
                    quote_version=1,
                    decisions={
                        line.id: domain.LineDecision.declined
                        if k % 3 == 0
                        else domain.LineDecision.approved
                        for k, line in enumerate(lines)
                    },
                    signature_id=signature.id,
                    approved_at=day,
                ),
            )
            record_diagnosis(session, visit.id, "Worn pads", "Mileage", at=day)
        session.commit()
        return customer.id, vehicle.id


def seed_regular_after_care(app, customer_id: str, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """The regular's survey answers, complaints, reminders sent and opt-outs (bulk rows)."""
    from sqlalchemy import insert

    from sync_server import db
    from sync_server.complaints.tables import ComplaintCase
    from sync_server.follow_up.tables import FollowUpContact, FollowUpOptOut
    from sync_server.models import OutboundMessage, Visit
    from sync_server.surveys.tables import Survey

    with app.app_context():
        session = db.session()
        visits = session.execute(
            select(Visit.id, Visit.checked_in_at).where(Visit.customer_id == customer_id)
        ).all()
        session.execute(
            insert(Survey),
            [
                {
                    "visit_id": visit_id,
                    "customer_id": customer_id,
                    "token": uuid.uuid4().hex,
                    "language": "zh_CN",
                    "handed_back_at": at,
                    "send_at": at + timedelta(days=1),
                    "answered_at": at + timedelta(days=1, hours=1),
                    "overall": 2 if n % 8 == 0 else 5,
                    "advisor_score": 5,
                    "work_score": 4,
                    "recommend": 5 if n % 8 == 0 else 9,
                    "comment": "Fine 很好",
                    "hot": n % 8 == 0,
                    "created_at": at,
                }
                for n, (visit_id, at) in enumerate(visits)
            ],
        )
        session.execute(
            insert(ComplaintCase),
            [
                {
                    "customer_id": customer_id,
                    "visit_id": visits[n][0],
                    "channel": "phone",
                    "summary": "Bench complaint",
                    "state": "closed" if n else "investigating",
                    "received_at": visits[n][1],
                    "first_response_due": visits[n][1] + timedelta(minutes=30),
                    "first_responded_at": visits[n][1] + timedelta(minutes=10),
                    "resolution_started_at": visits[n][1],
                    "resolution_due": visits[n][1] + timedelta(hours=16),
                    "resolved_at": visits[n][1] + timedelta(hours=8) if n else None,
                    "paused_seconds": 0,
                }
                for n in range(10)
            ],
        )
        for n in range(30):
            at = now - timedelta(days=10 * n + 1)
            message = OutboundMessage(
                visit_id=None,
                event="follow_up:maintenance",
                channel="sms",
                recipient="+8613999990000",
                language="zh_CN",
                subject="",
                body="Bench reminder",
                state="sent",
                attempts=1,
                sent_at=at,
                next_attempt_at=at,
            )
            session.add(message)
            session.flush()
            session.add(
                FollowUpContact(
                    contact_key=f"bench:{n}",
                    customer_id=customer_id,
                    kind="maintenance",
                    reason="by date",
                    reason_params={},
                    work="Oil change",
                    work_zh="更换机油",
                    due_on=at.date(),
                    channel="sms",
                    language="zh_CN",
                    planned_at=at,
                    message_id=message.id,
                    token=uuid.uuid4().hex,
                )
            )
        session.add_all(
            FollowUpOptOut(customer_id=customer_id, at=now - timedelta(days=d), source="desk")
            for d in (5, 200)
        )
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--surveys", type=int, default=20_000)
    parser.add_argument("--complaints", type=int, default=2_000)
    database_options(parser)
    args = parser.parse_args()
    with bench_server("customer_file", args.postgres) as app:
        from sync_server import db
        from sync_server.models import Customer, UserRole, Vehicle

        with app.app_context():
            advisors = [add_user(db.session(), "advisor0", UserRole.ADVISOR)]
        now = datetime.now(UTC)
        started = time.perf_counter()
        engine = app.extensions["db_engine"]
        sample = seed(engine, args.visits, now, advisors)
        continue_feed(engine)
        with app.app_context():
            manager = add_user(db.session(), "manager0", UserRole.MANAGER)
            db.session().commit()
        seed_complaints(app, args.complaints, now, manager)
        seed_surveys(app, args.surveys, now, advisors)
        regular, regular_car = seed_regular(app, now)
        seed_regular_after_care(app, regular, now)
        analyze(engine)
        with engine.begin() as connection:
            rng = random.Random(7)
            customers = connection.execute(select(Customer.id)).scalars().all()
            vehicles = connection.execute(select(Vehicle.id)).scalars().all()
            picked_customers = rng.sample(list(customers), 100) + [regular] * 10
            picked_vehicles = rng.sample(list(vehicles), 100) + [regular_car] * 10
        print(
            f"{engine.dialect.name}: seeded {args.visits:,} visits, {len(customers):,} "
            f"customers in {time.perf_counter() - started:.1f} s"
        )
        client = signed_in(app, "advisor0")
        cases = {
            "sign-in page (baseline)": ["/login"] * args.runs,
            "customer page": [f"/customers/{c}" for c in picked_customers][: args.runs * 3],
            "customer page (40 visits)": [f"/customers/{regular}"] * args.runs,
            "vehicle health file": [f"/vehicles/{v}" for v in picked_vehicles][: args.runs * 3],
            "health file (40 visits)": [f"/vehicles/{regular_car}"] * args.runs,
            "search: part of a phone": [f"/customers?q={sample['phone'][:7]}"] * args.runs,
            "search: plate, no province": [f"/customers?q={sample['plate_tail']}"] * args.runs,
            "search: name": [f"/customers?q={sample['name']}"] * args.runs,
        }
        print(f"{'page':<30} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
        for label, targets in cases.items():
            time_pages(client, targets[:3])  # warm
            t = time_pages(client, targets)
            print(f"{label:<30} {t.p50:8.1f} {t.p95:8.1f} {t.cpu_p50:8.1f} {t.cpu_p95:8.1f}")
        from sync_server.customer_file.tiers import recompute_tiers

        for run in ("first", "again"):  # the first run writes every tier, then only changes
            with app.app_context():
                begin = time.perf_counter()
                changed = recompute_tiers(db.session())
                db.session().commit()
                print(
                    f"nightly tiers ({run}): {changed:,} changed in "
                    f"{time.perf_counter() - begin:.1f} s"
                )


if __name__ == "__main__":
    main()
