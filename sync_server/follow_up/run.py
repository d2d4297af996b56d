"""The daily run (``checkin-server reminders run [--preview]``, and on a schedule inside
``serve``): work out who is due what, hold back what the rules forbid, queue the rest in
the outbox with a contact-log row each.

Safe to run twice and from two processes at once: a run takes the settings row for
writing first (the second waits, then sees what the first queued), and every contact
has a unique key per customer, kind, subject and due date, so an insert that loses a
race is skipped, never sent twice. The message is checked again when it is sent
(:func:`send_check`): an opt-out arriving between the run and the send holds it, and
one that comes due in quiet hours waits for the morning.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.i18n import normalize_language
from shared.shop_calendar import ShopCalendar
from sync_server.appointments.capacity import calendar_for
from sync_server.back_office_tables import OutboundMessage
from sync_server.follow_up import rules
from sync_server.follow_up.cars_due import catch_up, refresh_if_stale
from sync_server.follow_up.due import Candidate, candidates
from sync_server.follow_up.tables import FollowUpContact
from sync_server.follow_up.texts import message_text
from sync_server.shop_tables import Shop
from sync_server.visit_tables import Customer, Vehicle


@dataclass(frozen=True)
class Planned:
    candidate: Candidate
    customer: Any  # a row of the customer: id, name, phone, email, channel, language
    channel: str
    recipient: str
    language: str


@dataclass(frozen=True)
class Held:
    candidate: Candidate
    customer: Any
    why: str  # budget, quiet_hours, appointment, opt_out, no_contact


@dataclass
class Plan:
    now: datetime
    today: date
    to_send: list[Planned] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    queued: int = 0


def _channel(customer: Any) -> tuple[str, str] | None:
    preferred = str(getattr(customer.preferred_channel, "value", customer.preferred_channel))
    if preferred == "email" and customer.email:
        return "email", customer.email
    if customer.phone:
        return "sms", customer.phone
    if customer.email:
        return "email", customer.email
    return None


def plan_run(session: Session, now: datetime, calendar: ShopCalendar | None = None) -> Plan:
    """Who would get what today and why, and who is held back by what. Writes only the
    due dates of the cars queued since the job last ran (in the caller's transaction); a
    shop not set up yet (no settings row) has nobody to remind."""
    shop = session.get(Shop, 1)
    if shop is None:
        return Plan(now, now.date())
    zone = shop.timezone
    # The cars whose history changed since the job last ran: worked out first (a
    # preview rolls it back; the job does it again).
    catch_up(session, now, limit=100_000)
    settings = rules.follow_up_settings(session)
    calendar = calendar or calendar_for(session, shop)
    today = rules.shop_day(now, zone)
    plan = Plan(now, today)
    # Plain rows, not ORM objects: tens of thousands of customers say yes to reminders.
    consenting = list(
        session.execute(
            select(
                Customer.id,
                Customer.name,
                Customer.phone,
                Customer.email,
                Customer.preferred_channel,
                Customer.language,
                Customer.birthday,
            ).where(Customer.reminders_opt_in.is_(True), Customer.merged_into_id.is_(None))
        )
    )
    due = candidates(session, consenting, settings, calendar, today, zone)
    if not due:
        return plan
    by_id = {customer.id: customer for customer in consenting}
    already = set(
        session.scalars(
            select(FollowUpContact.contact_key).where(
                FollowUpContact.due_on >= today - timedelta(days=settings.overdue_days + 1)
            )
        )
    )
    opted_out = rules.opted_out_customers(session, due)
    booked = rules.customers_with_appointments(session, now)
    window = rules.day_start(today - timedelta(days=settings.budget_days), zone)
    contacted = rules.contacted_days(session, None, window, zone)
    quiet = rules.QuietHours.of(settings).contains(now, zone)
    for customer_id in sorted(due):
        customer = by_id[customer_id]
        items = [item for item in due[customer_id] if item.key not in already]
        if not items:
            continue
        blocked = (
            "opt_out"
            if customer_id in opted_out
            else "appointment"
            if customer_id in booked
            else "quiet_hours"
            if quiet
            else None
        )
        channel = _channel(customer)
        if blocked is None and channel is None:
            blocked = "no_contact"
        if blocked is not None:
            plan.held.extend(Held(item, customer, blocked) for item in items)
            continue
        assert channel is not None
        first, *rest = items
        if rules.budget_left(settings, contacted.get(customer_id, []), today):
            language = normalize_language(customer.language or shop.default_language)
            plan.to_send.append(Planned(first, customer, channel[0], channel[1], language))
        else:
            rest = items
        plan.held.extend(Held(item, customer, "budget") for item in rest)
    return plan


def _params(
    session: Session, shop: Shop, planned: Planned, base_url: str, token: str, language: str
) -> dict[str, str]:
    candidate = planned.candidate
    vehicle = session.get(Vehicle, candidate.vehicle_id) if candidate.vehicle_id else None
    return {
        "shop": shop.name,
        "name": planned.customer.name,
        "plate": vehicle.plate if vehicle else "",
        "work": candidate.work_zh if language == "zh_CN" and candidate.work_zh else candidate.work,
        "due": candidate.due_on.isoformat(),
        "book_link": f"{base_url}/book/{token}",
        "stop_link": f"{base_url}/unsubscribe/{token}",
    }


def run(session: Session, now: datetime, base_url: str) -> Plan:
    """The daily run: queue what the plan allows; commits. Returns the plan, with how
    many contacts this run queued (a second run queues none of the same)."""
    shop = session.get(Shop, 1)
    if shop is None:  # not set up yet (the demo or the first sign-in makes the row)
        return Plan(now, now.date())
    rules.lock_runs(session)
    if refresh_if_stale(session, now) is not None:  # the intervals changed: first that
        rules.lock_runs(session)
    plan = plan_run(session, now)
    for planned in plan.to_send:
        token = secrets.token_urlsafe(24)
        language = planned.language
        subject, body = message_text(
            planned.candidate.kind,
            planned.channel,
            language,
            _params(session, shop, planned, base_url, token, language),
        )
        try:
            with session.begin_nested():
                message = OutboundMessage(
                    visit_id=None,
                    event=rules.EVENT_PREFIX + planned.candidate.kind,
                    channel=planned.channel,
                    recipient=planned.recipient,
                    language=language,
                    subject=subject[:200],
                    body=body,
                    state="pending",
                    next_attempt_at=now,
                )
                session.add(message)
                session.flush()
                session.add(
                    FollowUpContact(
                        contact_key=planned.candidate.key,
                        customer_id=planned.customer.id,
                        vehicle_id=planned.candidate.vehicle_id,
                        kind=planned.candidate.kind,
                        reason=planned.candidate.reason.message,
                        reason_params=planned.candidate.reason.stored_params(),
                        work=planned.candidate.work[:200],
                        work_zh=planned.candidate.work_zh[:200],
                        due_on=planned.candidate.due_on,
                        channel=planned.channel,
                        language=language,
                        planned_at=now,
                        message_id=message.id,
                        token=token,
                    )
                )
                session.flush()
        except IntegrityError:
            continue  # another run queued this one first
        plan.queued += 1
    session.commit()
    return plan


def send_check(
    session: Session, message: OutboundMessage, now: datetime
) -> tuple[str, datetime | None, dict[str, str]]:
    """At send time: ``("send", None, headers)``, ``("later", when, {})`` in quiet hours,
    or ``("withdraw", None, {})`` when the customer opted out since it was queued."""
    contact = session.scalars(
        select(FollowUpContact).where(FollowUpContact.message_id == message.id)
    ).first()
    if contact is None:
        return "withdraw", None, {}
    if contact.customer_id in rules.opted_out_customers(session, [contact.customer_id]):
        return "withdraw", None, {}
    shop = session.get(Shop, 1)
    zone = shop.timezone if shop else "UTC"
    quiet = rules.QuietHours.of(rules.follow_up_settings(session))
    if quiet.contains(now, zone):
        return "later", quiet.ends_after(now, zone), {}
    headers: dict[str, str] = {}
    if message.channel == "email":
        link = _stop_link(message.body, contact.token)
        if link:
            headers = {
                "List-Unsubscribe": f"<{link}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
    return "send", None, headers


def _stop_link(body: str, token: str) -> str:
    """The opt-out link written into the message (the base address it was queued with)."""
    marker = f"/unsubscribe/{token}"
    for word in body.split():
        if word.endswith(marker):
            return word
    return ""


def utc_now() -> datetime:
    return datetime.now(UTC)


__all__ = ["Held", "Plan", "Planned", "plan_run", "run", "send_check", "utc_now"]
