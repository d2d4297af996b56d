"""One customer's reminders and greetings as the customer page shows them: every marketing
contact (when, what kind, why, by which channel, what became of the message) and every
opt-out (when, from where), and whether reminders are stopped now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.back_office_tables import OutboundMessage
from sync_server.follow_up.rules import opted_out_customers
from sync_server.follow_up.tables import FollowUpContact, FollowUpOptOut

SHOWN = 100


@dataclass(frozen=True)
class ContactHistory:
    contacts: list[tuple[FollowUpContact, OutboundMessage | None]]
    opt_outs: list[FollowUpOptOut]
    opted_out: bool  # the latest word is an opt-out: no marketing message goes now


def contact_history(session: Session, customer_id: str) -> ContactHistory:
    """The customer's contacts and opt-outs, newest first (at most ``SHOWN`` of each)."""
    contacts = [
        (contact, message)
        for contact, message in session.execute(
            select(FollowUpContact, OutboundMessage)
            .outerjoin(OutboundMessage, OutboundMessage.id == FollowUpContact.message_id)
            .where(FollowUpContact.customer_id == customer_id)
            .order_by(FollowUpContact.planned_at.desc(), FollowUpContact.id.desc())
            .limit(SHOWN)
        )
    ]
    outs = list(
        session.scalars(
            select(FollowUpOptOut)
            .where(FollowUpOptOut.customer_id == customer_id)
            .order_by(FollowUpOptOut.at.desc(), FollowUpOptOut.id.desc())
            .limit(SHOWN)
        )
    )
    opted_out = bool(outs) and customer_id in opted_out_customers(session, [customer_id])
    return ContactHistory(contacts, outs, opted_out)


__all__ = ["ContactHistory", "contact_history"]
