"""An approved visit, as the reports and the monthly approval summary count them: a
customer, a car, a visit of an advisor, a quote of two lines (pads at the given price,
wipers at 100; 10 % tax) and the customer's approval of the pads alone, the wipers
declined."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from shared import domain
from sync_server.sync.records import lock_feed, put_server_record


@dataclass(frozen=True)
class ApprovedVisit:
    customer: domain.Customer
    vehicle: domain.Vehicle
    visit: domain.Visit
    quote: domain.Quote
    approval: domain.Approval

    def records(self) -> list[tuple[str, object]]:
        """The records in the order the server takes them, each with its kind."""
        return [
            ("customer", self.customer),
            ("vehicle", self.vehicle),
            ("visit", self.visit),
            ("quote", self.quote),
            ("approval", self.approval),
        ]


def approved_visit(advisor_id: int, approved_at: datetime, price: str) -> ApprovedVisit:
    """A visit of ``advisor_id`` whose quote's pads (``price``) the customer approved at
    ``approved_at``, and whose wipers they declined."""
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
    return ApprovedVisit(customer, vehicle, visit, quote, approval)


def put_approved_visit(
    session: Session, advisor_id: int, approved_at: datetime, price: str
) -> ApprovedVisit:
    """:func:`approved_visit`, written as the server's own records and committed."""
    made = approved_visit(advisor_id, approved_at, price)
    lock_feed(session)
    for kind, record in made.records():
        put_server_record(session, kind, record)
    session.commit()
    return made
