"""The customer is told the result when a case closes, in their own language, through
the outbox (written in the same transaction as the closing step, sent by the sender).

The text says what was done — the solution proposed (the latest "propose a solution"
step's notes) — and that the case is closed. It goes as an e-mail to a customer who
prefers e-mail and has an address, else as a text message to their phone, else by
e-mail; a customer who asked to be called becomes a call for the desk. Both languages'
texts are in the ``server`` catalog.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.domain import ContactChannel
from shared.i18n import Text, normalize_language
from shared.shop_time import shop_time_text, shop_zone
from sync_server.back_office_tables import OutboundMessage
from sync_server.complaints.tables import ComplaintCase, ComplaintStep
from sync_server.shop_tables import Shop
from sync_server.visit_tables import Customer

RESULT_EVENT = "complaint_closed"
SUBJECT = Text("{shop}: your complaint is resolved", "server")
BODY = Text(
    "Hello {name}, about what you told us on {date}: {result} You confirmed this "
    "solution, so we have closed the case. Thank you for telling us; if anything is "
    "still not right, contact us and we will reopen it.",
    "server",
)


def _result(session: Session, case: ComplaintCase, closing_notes: str) -> str:
    proposed = session.scalar(
        select(ComplaintStep.notes)
        .where(ComplaintStep.case_id == case.id, ComplaintStep.action == "propose")
        .order_by(ComplaintStep.id.desc())
        .limit(1)
    )
    text = (proposed or closing_notes or "").strip()
    return text if text.endswith((".", "。", "!", "！")) or not text else text + "."


def tell_result(
    session: Session, case: ComplaintCase, closing_notes: str, now: datetime
) -> OutboundMessage | None:
    """Queue the result message for a case just closed; None when the customer has no
    phone and no e-mail."""
    customer = session.get(Customer, case.customer_id)
    if customer is None:
        return None
    state = "pending"
    prefers = customer.preferred_channel
    if prefers == ContactChannel.email and customer.email:
        channel, recipient = "email", customer.email
    elif prefers == ContactChannel.phone and customer.phone:
        channel, recipient, state = "call", customer.phone, "to_call"
    elif customer.phone:
        channel, recipient = "sms", customer.phone
    elif customer.email:
        channel, recipient = "email", customer.email
    else:
        return None
    shop = session.get(Shop, 1)
    language = normalize_language(customer.language or (shop.default_language if shop else None))
    zone = shop_zone(shop.timezone if shop else None)
    params = {
        "shop": shop.name if shop else "",
        "name": customer.name,
        "date": shop_time_text(case.received_at, zone, "%Y-%m-%d"),
        "result": _result(session, case, closing_notes),
    }
    message = OutboundMessage(
        visit_id=case.visit_id,
        event=RESULT_EVENT,
        channel=channel,
        recipient=recipient,
        language=language,
        subject=Text(SUBJECT.message, "server", params).render(language),
        body=Text(BODY.message, "server", params).render(language),
        state=state,
        next_attempt_at=now,
    )
    session.add(message)
    return message
