"""What the customer page shows: contact details and their history, preferred channel and
language, the consents kept apart (service messages; marketing reminders), the cars and
every visit, the complaints, the survey answers, and the reminders and greetings sent with
the opt-outs — read from the typed tables (through each area's own read functions) in a
handful of queries.

Consents: the privacy promise accepted at each check-in (``consents``: time, the text's
version and language, the kiosk or tablet it was given on) is the consent to service
messages; the answer to maintenance reminders (marketing) is asked at each check-in too
(``visits.reminders_opt_in``), so its history is the visits' answers, each with the time,
the device and the consent text version it was given with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.complaints.cases import cases_of_customer
from sync_server.complaints.tables import ComplaintCase, ComplaintLabel
from sync_server.customer_file_tables import CustomerMerge
from sync_server.customers import ContactChangeView, contact_history
from sync_server.follow_up.history import ContactHistory
from sync_server.follow_up.history import contact_history as follow_up_history
from sync_server.record_tables import ConsentRow
from sync_server.shop_tables import Device
from sync_server.surveys.answers import answers_of_customer
from sync_server.surveys.tables import Survey, SurveyCallback
from sync_server.visit_tables import Customer, Vehicle, Visit

VISITS_SHOWN = 500


@dataclass(frozen=True)
class ConsentEntry:
    """One consent given (or an answer to reminders): when, how, what text."""

    at: datetime
    given: bool
    source: str  # the device's name, or "" for the desk
    text_version: str
    language: str
    visit_id: str
    ticket: str


@dataclass(frozen=True)
class VisitLine:
    visit: Visit
    plate: str
    approved_total: Decimal | None


@dataclass
class CustomerFile:
    customer: Customer
    history: list[ContactChangeView]
    service_consents: list[ConsentEntry]
    marketing_consents: list[ConsentEntry]
    vehicles: list[Vehicle]
    visits: list[VisitLine]
    visit_count: int
    merged_into: Customer | None
    merged_from: list[tuple[Customer, CustomerMerge]]
    complaints: list[tuple[ComplaintCase, ComplaintLabel | None, str]]  # with the ticket
    surveys: list[tuple[Survey, str, SurveyCallback | None]]  # with the visit's ticket
    follow_up: ContactHistory

    @property
    def reminders_now(self) -> bool:
        """The customer's latest answer to reminders (the customer's row without one),
        unless they opted out since."""
        if self.follow_up.opted_out:
            return False
        if self.marketing_consents:
            return self.marketing_consents[0].given
        return self.customer.reminders_opt_in


def customer_file(session: Session, customer_id: str) -> CustomerFile | None:
    """Everything on the customer page, or ``None`` for an unknown customer."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    vehicles = list(
        session.scalars(
            select(Vehicle).where(Vehicle.customer_id == customer_id).order_by(Vehicle.plate)
        )
    )
    plates = {vehicle.id: vehicle.plate for vehicle in vehicles}
    visit_count = session.scalar(
        select(func.count()).select_from(Visit).where(Visit.customer_id == customer_id)
    )
    visits = list(
        session.scalars(
            select(Visit)
            .where(Visit.customer_id == customer_id)
            .order_by(Visit.checked_in_at.desc())
            .limit(VISITS_SHOWN)
        )
    )
    visit_ids = [visit.id for visit in visits]
    totals = _approved_totals(session, visit_ids)
    devices = _device_names(session, {v.checked_in_device_id for v in visits} - {None})
    consents = _consents(session, visit_ids)
    by_visit = {visit.id: visit for visit in visits}
    service = [
        ConsentEntry(
            row.accepted_at,
            True,
            devices.get(by_visit[row.visit_id].checked_in_device_id or "", ""),
            row.text_version,
            row.language,
            row.visit_id,
            by_visit[row.visit_id].ticket_number,
        )
        for row in consents
    ]
    version_of = {row.visit_id: (row.text_version, row.language) for row in consents}
    marketing = [
        ConsentEntry(
            visit.checked_in_at,
            visit.reminders_opt_in,
            devices.get(visit.checked_in_device_id or "", ""),
            *version_of.get(visit.id, ("", "")),
            visit.id,
            visit.ticket_number,
        )
        for visit in visits
        if visit.id in version_of
    ]
    merged_into = (
        session.get(Customer, customer.merged_into_id) if customer.merged_into_id else None
    )
    merged_from = list(
        session.execute(
            select(Customer, CustomerMerge)
            .join(CustomerMerge, CustomerMerge.merged_id == Customer.id)
            .where(CustomerMerge.surviving_id == customer_id)
            .order_by(CustomerMerge.id)
        )
    )
    return CustomerFile(
        customer=customer,
        history=contact_history(session, customer_id),
        service_consents=sorted(service, key=lambda entry: entry.at, reverse=True),
        marketing_consents=marketing,
        vehicles=vehicles,
        visits=[
            VisitLine(visit, plates.get(visit.vehicle_id, ""), totals.get(visit.id))
            for visit in visits
        ],
        visit_count=visit_count or 0,
        merged_into=merged_into,
        merged_from=merged_from,
        complaints=list(cases_of_customer(session, customer_id)),
        surveys=answers_of_customer(session, customer_id),
        follow_up=follow_up_history(session, customer_id),
    )


def _consents(session: Session, visit_ids: list[str]) -> list[ConsentRow]:
    if not visit_ids:
        return []
    return list(
        session.scalars(
            select(ConsentRow)
            .where(ConsentRow.visit_id.in_(visit_ids))
            .order_by(ConsentRow.accepted_at, ConsentRow.id)
        )
    )


def _device_names(session: Session, uids: set[str]) -> dict[str, str]:
    if not uids:
        return {}
    return dict(
        session.execute(select(Device.uid, Device.name).where(Device.uid.in_(sorted(uids))))
    )


def _approved_totals(session: Session, visit_ids: list[str]) -> dict[str, Decimal]:
    """What the customer approved on each visit (their latest approval)."""
    if not visit_ids:
        return {}
    rows = session.execute(
        select(QuoteRow.visit_id, ApprovalRow.approved_at, ApprovalRow.approved_total)
        .join(ApprovalRow, ApprovalRow.quote_id == QuoteRow.id)
        .where(QuoteRow.visit_id.in_(visit_ids), ApprovalRow.approved_total.is_not(None))
        .order_by(ApprovalRow.approved_at)
    ).all()
    return {visit_id: total for visit_id, _at, total in rows}


__all__ = ["ConsentEntry", "CustomerFile", "VisitLine", "customer_file"]
