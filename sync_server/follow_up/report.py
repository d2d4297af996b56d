"""What reminders brought: per month (shop time), how many went out and how many of those
customers booked an appointment or came in within 30 days — for the manager's reports."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.shop_time import shop_zone
from sync_server.back_office_tables import OutboundMessage
from sync_server.follow_up.tables import FollowUpContact
from sync_server.shop_tables import Shop
from sync_server.visit_tables import Appointment, Visit

WITHIN = timedelta(days=30)


@dataclass(frozen=True)
class MonthOfReminders:
    month: date  # the first day of the month, shop time
    sent: int
    appointments: int  # reminders followed by an appointment made within 30 days
    visits: int  # reminders followed by a check-in within 30 days


def reminders_sent(session: Session, start: datetime, end: datetime) -> list[MonthOfReminders]:
    """Reminders and greetings a gateway accepted between ``start`` and ``end`` (UTC,
    aware), by month, with the appointments and visits they brought within 30 days."""
    shop = session.get(Shop, 1)
    zone = shop_zone(shop.timezone if shop else "UTC")
    sent = session.execute(
        select(FollowUpContact.customer_id, OutboundMessage.sent_at)
        .join(OutboundMessage, OutboundMessage.id == FollowUpContact.message_id)
        .where(
            OutboundMessage.state == "sent",
            OutboundMessage.sent_at >= start,
            OutboundMessage.sent_at < end,
        )
    ).all()
    customers = sorted({customer_id for customer_id, _at in sent})
    booked: dict[str, list[datetime]] = defaultdict(list)
    came: dict[str, list[datetime]] = defaultdict(list)
    for first in range(0, len(customers), 900):
        chunk = customers[first : first + 900]
        for customer_id, at in session.execute(
            select(Appointment.customer_id, Appointment.created_at).where(
                Appointment.customer_id.in_(chunk),
                Appointment.created_at >= start,
                Appointment.created_at < end + WITHIN,
            )
        ):
            booked[customer_id].append(at)
        for customer_id, at in session.execute(
            select(Visit.customer_id, Visit.checked_in_at).where(
                Visit.customer_id.in_(chunk),
                Visit.checked_in_at >= start,
                Visit.checked_in_at < end + WITHIN,
            )
        ):
            came[customer_id].append(at)
    months: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for customer_id, at in sent:
        month = at.astimezone(zone).date().replace(day=1)
        figures = months[month]
        figures[0] += 1
        if any(at <= made < at + WITHIN for made in booked.get(customer_id, ())):
            figures[1] += 1
        if any(at <= arrived < at + WITHIN for arrived in came.get(customer_id, ())):
            figures[2] += 1
    return [MonthOfReminders(month, *months[month]) for month in sorted(months)]
