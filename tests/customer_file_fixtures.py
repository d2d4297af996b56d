"""A car's history written the way the server writes it (``put_server_record``): visits
handed back on given days with their walk-around (odometer, fuel, tread), damage marks,
an approved quote with lines approved and declined, and a diagnosis."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from flask import Flask

from shared import domain
from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.customer_file.diagnoses import record_diagnosis
from sync_server.sync.records import lock_feed, put_server_record


@dataclass
class Line:
    description: str
    decision: str = "approved"  # or "declined"
    kind: str = "part"
    price: str = "100"
    part_number: str = ""
    urgency: str = "yellow"


@dataclass
class VisitPlan:
    day: datetime
    odometer_km: int | None = None
    tread: dict[str, float] = field(default_factory=dict)
    fuel: int | None = 4
    marks: list[tuple[str, float, float, str]] = field(default_factory=list)  # view, x, y, type
    mark_note: str = ""  # what the advisor wrote on each of the marks
    lines: list[Line] = field(default_factory=list)
    finding: str = ""
    cause: str = ""
    concern: str = "Service"
    status: VisitStatus = VisitStatus.delivered


def on(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 2, 0, tzinfo=UTC)


def make_customer(
    app: Flask, *, name: str = "王芳", phone: str = "+8613911112222", email: str = ""
) -> str:
    with app.app_context():
        session = db.session()
        customer = domain.Customer(name=name, phone=phone, email=email)
        lock_feed(session)
        put_server_record(session, "customer", customer)
        session.commit()
        return customer.id


def make_car(
    app: Flask,
    customer_id: str,
    *,
    plate: str = "粤B12345",
    vin: str = "",
    year: int | None = None,
    purchase_date: object = None,
) -> str:
    with app.app_context():
        session = db.session()
        vehicle = domain.Vehicle(
            customer_id=customer_id,
            plate=plate,
            vin=vin,
            make="BYD",
            model="Qin",
            year=year,
            purchase_date=purchase_date,  # type: ignore[arg-type]
        )
        lock_feed(session)
        put_server_record(session, "vehicle", vehicle)
        session.commit()
        return vehicle.id


def make_history(
    app: Flask, customer_id: str, vehicle_id: str, plans: list[VisitPlan]
) -> list[str]:
    """Write the visits of ``plans``; returns their ids in order."""
    ids = []
    with app.app_context():
        session = db.session()
        lock_feed(session)
        for number, plan in enumerate(plans, start=1):
            visit = domain.Visit(
                ticket_number=f"H-{number:03d}",
                customer_id=customer_id,
                vehicle_id=vehicle_id,
                status=plan.status,
                concern_text=plan.concern,
                mileage_in_km=plan.odometer_km,
                checked_in_at=plan.day,
                status_token=domain.new_status_token(),
                reminders_opt_in=number % 2 == 1,
            )
            put_server_record(session, "visit", visit)
            put_server_record(
                session,
                "consent",
                domain.Consent(
                    visit_id=visit.id,
                    text_version="2026-11-v1",
                    text_sha256="a" * 64,
                    language="zh_CN",
                    accepted_at=plan.day,
                ),
            )
            walkaround = domain.Walkaround(
                visit_id=visit.id,
                odometer_km=plan.odometer_km,
                fuel_eighths=plan.fuel,
                tyre_tread_mm=dict(plan.tread),
            )
            put_server_record(session, "walkaround", walkaround)
            for view, x, y, kind in plan.marks:
                put_server_record(
                    session,
                    "damage_mark",
                    domain.DamageMark(
                        walkaround_id=walkaround.id,
                        view=domain.DiagramView(view),
                        x=x,
                        y=y,
                        damage_type=domain.DamageType[kind],
                        note=plan.mark_note,
                        created_at=plan.day,
                    ),
                )
            if plan.lines:
                lines = [
                    domain.QuoteLine(
                        kind=domain.QuoteLineKind(line.kind),
                        description=line.description,
                        quantity=Decimal(1),
                        unit_price=Decimal(line.price),
                        hours=Decimal(1) if line.kind == "labour" else Decimal(0),
                        labour_rate=Decimal(line.price) if line.kind == "labour" else Decimal(0),
                        part_number=line.part_number,
                        urgency=domain.Urgency(line.urgency),
                    )
                    for line in plan.lines
                ]
                quote = domain.Quote(visit_id=visit.id, lines=lines)
                put_server_record(session, "quote", quote)
                signature = domain.Signature(
                    visit_id=visit.id,
                    purpose=domain.SignaturePurpose.approval,
                    signed_sha256="b" * 64,
                    signed_at=plan.day,
                )
                put_server_record(session, "signature", signature)
                put_server_record(
                    session,
                    "approval",
                    domain.Approval(
                        quote_id=quote.id,
                        quote_version=1,
                        decisions={
                            line.id: domain.LineDecision(planned.decision)
                            for line, planned in zip(lines, plan.lines, strict=True)
                        },
                        signature_id=signature.id,
                        approved_at=plan.day,
                    ),
                )
            if plan.finding:
                record_diagnosis(session, visit.id, plan.finding, plan.cause, at=plan.day)
            ids.append(visit.id)
        session.commit()
    return ids
