"""Reports are single queries over the typed tables, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from flask import Flask

from shared import domain
from sync_server import db
from sync_server.models import UserRole
from sync_server.people import create_user
from sync_server.reports import AdvisorMonth, approved_totals_by_advisor_month
from sync_server.sync.records import lock_feed, put_server_record


def _approved_visit(advisor_id: int, approved_at: datetime, price: str) -> list[tuple[str, object]]:
    customer = domain.Customer(name="Wang")
    vehicle = domain.Vehicle(customer_id=customer.id, plate="京A12345")
    visit = domain.Visit(
        ticket_number="A-001",
        customer_id=customer.id,
        vehicle_id=vehicle.id,
        advisor_user_id=advisor_id,
    )
    pads = domain.QuoteLine(
        kind=domain.QuoteLineKind.part, description="Pads", unit_price=Decimal(price)
    )
    wipers = domain.QuoteLine(
        kind=domain.QuoteLineKind.part, description="Wipers", unit_price=Decimal("100")
    )
    quote = domain.Quote(visit_id=visit.id, lines=[pads, wipers], tax_rate=Decimal("0.10"))
    approval = domain.Approval(
        quote_id=quote.id,
        quote_version=1,
        decisions={pads.id: domain.LineDecision.approved, wipers.id: domain.LineDecision.declined},
        signature_id=domain.new_id(),
        approved_at=approved_at,
    )
    return [
        ("customer", customer),
        ("vehicle", vehicle),
        ("visit", visit),
        ("quote", quote),
        ("approval", approval),
    ]


def test_approved_totals_by_advisor_and_month(app: Flask) -> None:
    with app.app_context():
        session = db.session()
        li = create_user(session, "li.na", "long-password-1", UserRole.ADVISOR).id
        tom = create_user(session, "tom", "long-password-2", UserRole.ADVISOR).id
        lock_feed(session)
        for advisor, when, price in (
            (li, datetime(2026, 3, 2, 9, tzinfo=UTC), "200"),
            (li, datetime(2026, 3, 30, 9, tzinfo=UTC), "300"),
            (li, datetime(2026, 4, 1, 9, tzinfo=UTC), "50"),
            (tom, datetime(2026, 3, 15, 9, tzinfo=UTC), "1000"),
            (tom, datetime(2025, 12, 31, 9, tzinfo=UTC), "999"),  # before the year asked
        ):
            for kind, record in _approved_visit(advisor, when, price):
                put_server_record(session, kind, record)
        session.commit()

        months = approved_totals_by_advisor_month(
            session, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
        )
    # Only the approved pads count, plus 10 % tax; the declined wipers do not.
    assert months == [
        AdvisorMonth(li, 2026, 3, 2, Decimal("550.00")),
        AdvisorMonth(li, 2026, 4, 1, Decimal("55.00")),
        AdvisorMonth(tom, 2026, 3, 1, Decimal("1100.00")),
    ]
