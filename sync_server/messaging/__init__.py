"""Telling the customer proactively at each key point (主动沟通), through a durable outbox.

:func:`notify_customer` writes an ``OutboundMessage`` in the caller's transaction, the
same one as the status step it tells about, so a step is never taken without its
message, nor a message sent for a step that was rolled back. :func:`send_due` sends what
is due (``checkin-server send-messages``, and a scheduled job in ``serve``), and on
failure tries again later with a growing pause, up to ``MAX_ATTEMPTS`` — each message
on a lease, with one Message-ID for all its tries (``sending.py``).

Email goes through ``smtplib`` to ``SMTP_HOST``; text messages go through an
:class:`SmsSender` (``SMS_SENDER``). A message is "sent" only when a gateway accepted
it: with no mail server or no SMS gateway set up it is kept as ``no_gateway`` ("not
sent"), with its text, for the desk to read and for the manager's page to say what to
set up. A customer who chose *phone call* gets no text: the message becomes a call task
(``to_call``) for the advisor, who marks it ``called`` (``outbox.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.i18n import Text, normalize_language
from shared.masking import mask_email, mask_phone
from sync_server.back_office_tables import OutboundMessage, QuoteRow
from sync_server.messaging.sending import (
    BATCH_SIZE,
    FAILED,
    MAX_ATTEMPTS,
    NO_GATEWAY,
    PENDING,
    SENDING,
    SENT,
    EmailSender,
    LoggingSmsSender,
    NoGateway,
    SmsSender,
    retry_delay,
    send_due,
)
from sync_server.record_tables import ConsentRow
from sync_server.shop_tables import Shop
from sync_server.table_base import utcnow
from sync_server.visit_tables import Customer, Vehicle, Visit

log = logging.getLogger(__name__)

# Message states besides the sender's (pending, sending, sent, failed, no_gateway): a
# call for the advisor to make, and made.
TO_CALL, CALLED = "to_call", "called"


# What the customer is told at each key point: subject and body, in plain words.
TEMPLATES: Mapping[str, tuple[Text, Text]] = {
    "quote_sent": (
        Text("{shop}: your quote for {plate} is ready", "server"),
        Text(
            "Hello {name}, we have checked your car {plate}. Please look at the quote, "
            "line by line, and approve what you want us to do: {link} . We start only "
            "after your approval. Where your car is: {status_link}",
            "server",
        ),
    ),
    "approved": (
        Text("{shop}: thank you, we have your approval", "server"),
        Text(
            "Hello {name}, thank you for approving the work on {plate}. We will start "
            "soon and tell you when it is done. Where your car is: {status_link}",
            "server",
        ),
    ),
    "in_progress": (
        Text("{shop}: work on {plate} has started", "server"),
        Text(
            "Hello {name}, our technician has started the work you approved on {plate}. "
            "Where your car is: {status_link}",
            "server",
        ),
    ),
    "problem_found": (
        Text("{shop}: we found something on {plate}", "server"),
        Text(
            "Hello {name}, during the repair of {plate} we found a problem that needs your "
            "decision. Nothing more is done without your approval; a new quote follows "
            "shortly. Where your car is: {status_link}",
            "server",
        ),
    ),
    "ready": (
        Text("{shop}: {plate} is ready for pick-up", "server"),
        Text(
            "Hello {name}, your car {plate} has passed our quality check and is ready for "
            "pick-up. Where your car is: {status_link}",
            "server",
        ),
    ),
    "delivered": (
        Text("{shop}: thank you for your visit", "server"),
        Text(
            "Hello {name}, thank you for choosing us for {plate}. If anything is not "
            "right, tell us on your car's page and we will call you back: {status_link}",
            "server",
        ),
    ),
}


def _customer_language(session: Session, visit_id: str, shop: Shop | None) -> str:
    """The language the customer chose at the kiosk for this visit (its consent), else
    the one of their latest consent, else the shop's."""
    language = session.scalars(
        select(ConsentRow.language)
        .where(ConsentRow.visit_id == visit_id)
        .order_by(ConsentRow.accepted_at.desc())
        .limit(1)
    ).first()
    if language is None:
        language = session.scalar(
            select(Customer.language)
            .join(Visit, Visit.customer_id == Customer.id)
            .where(Visit.id == visit_id)
        )
    return normalize_language(language or (shop.default_language if shop else None))


def quote_version_of(session: Session, visit_id: str) -> int:
    """The visit's latest quote version sent to the customer; 0 before the first."""
    return session.scalar(
        select(func.coalesce(func.max(QuoteRow.version), 0)).where(
            QuoteRow.visit_id == visit_id, QuoteRow.sent_at.is_not(None)
        )
    )


def already_told(session: Session, visit_id: str, event: str, version: int | None = None) -> bool:
    """True when the customer's message for ``event`` at quote ``version`` (default: the
    visit's current one) is queued (or sent) already."""
    if version is None:
        version = quote_version_of(session, visit_id)
    found = session.scalar(
        select(OutboundMessage.id).where(
            OutboundMessage.visit_id == visit_id,
            OutboundMessage.event == event,
            OutboundMessage.quote_version == version,
        )
    )
    return found is not None


def notify_customer(
    session: Session,
    visit_id: str,
    event: str,
    *,
    base_url: str,
    links: Mapping[str, str] | None = None,
) -> OutboundMessage | None:
    """Queue the message for ``event`` in the caller's transaction; None when the
    customer can be reached by no channel we have, or was told already.

    One message per visit, event and quote version: a second is not queued, and one
    queued by a concurrent transaction makes this one's flush raise ``IntegrityError``
    (the unique key), so the caller's whole step rolls back — it was done already."""
    if event not in TEMPLATES:
        return None
    visit = session.get(Visit, visit_id)
    if visit is None:
        return None
    version = quote_version_of(session, visit_id)
    if already_told(session, visit_id, event, version):
        return None
    customer = session.get(Customer, visit.customer_id)
    vehicle = session.get(Vehicle, visit.vehicle_id)
    if customer is None or vehicle is None:
        return None
    state = PENDING
    if visit.contact_channel == "email" and customer.email:
        channel, recipient = "email", customer.email
    elif visit.contact_channel == "phone" and customer.phone:
        # The customer asked to be called: a task for the advisor, not a text message.
        channel, recipient, state = "call", customer.phone, TO_CALL
    elif customer.phone:
        channel, recipient = "sms", customer.phone
    elif customer.email:
        channel, recipient = "email", customer.email
    else:
        return None
    shop = session.get(Shop, 1)
    language = _customer_language(session, visit_id, shop)
    params: dict[str, Any] = {
        "shop": shop.name if shop else "",
        "name": customer.name,
        "plate": vehicle.plate,
        "status_link": f"{base_url}/status/{visit.status_token}" if visit.status_token else "",
        "link": "",
        **(links or {}),
    }
    subject, body = TEMPLATES[event]
    message = OutboundMessage(
        visit_id=visit_id,
        event=event,
        quote_version=version,
        channel=channel,
        recipient=recipient,
        language=language,
        subject=Text(subject.message, "server", params).render(language),
        body=Text(body.message, "server", params).render(language),
        state=state,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()  # the unique key is checked here, inside the caller's step
    return message


def masked_recipient(message: OutboundMessage) -> str:
    """The recipient as the desk's pages show it."""
    return (
        mask_email(message.recipient)
        if message.channel == "email"
        else mask_phone(message.recipient)
    )


__all__ = [
    "BATCH_SIZE",
    "CALLED",
    "FAILED",
    "MAX_ATTEMPTS",
    "NO_GATEWAY",
    "PENDING",
    "SENDING",
    "SENT",
    "TEMPLATES",
    "TO_CALL",
    "EmailSender",
    "LoggingSmsSender",
    "NoGateway",
    "SmsSender",
    "already_told",
    "masked_recipient",
    "notify_customer",
    "quote_version_of",
    "retry_delay",
    "send_due",
]
