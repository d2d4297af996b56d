"""Telling the customer proactively at each key point (主动沟通), through a durable outbox.

:func:`notify_customer` writes an ``OutboundMessage`` in the caller's transaction, the
same one as the status step it tells about, so a step is never taken without its
message, nor a message sent for a step that was rolled back. :func:`send_due` sends what
is due (``checkin-server send-messages``, and a background thread in ``serve``), and on
failure tries again later with a growing pause, up to ``MAX_ATTEMPTS``.

Email goes through ``smtplib`` to ``SMTP_HOST``; text messages go through an
:class:`SmsSender` (``SMS_SENDER``). A message is "sent" only when a gateway accepted
it: with no mail server or no SMS gateway set up it is kept as ``no_gateway`` ("not
sent"), with its text, for the desk to read and for the manager's page to say what to
set up. A customer who chose *phone call* gets no text: the message becomes a call task
(``to_call``) for the advisor, who marks it ``called`` (``outbox.py``).
"""

from __future__ import annotations

import logging
import smtplib
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.i18n import Text, normalize_language
from shared.masking import mask_email, mask_phone
from sync_server.models import (
    Customer,
    OutboundMessage,
    Shop,
    Vehicle,
    Visit,
    utcnow,
)
from sync_server.record_tables import ConsentRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BATCH_SIZE = 50
# Message states: waiting and being sent; accepted by a gateway; given up after retries;
# no gateway set up for its channel; a call for the advisor to make, and made.
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
NO_GATEWAY, TO_CALL, CALLED = "no_gateway", "to_call", "called"


class NoGateway(Exception):
    """No mail server or SMS gateway is set up for this channel: nothing was sent."""


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


def notify_customer(
    session: Session,
    visit_id: str,
    event: str,
    *,
    base_url: str,
    links: Mapping[str, str] | None = None,
) -> OutboundMessage | None:
    """Queue the message for ``event`` in the caller's transaction; None when the
    customer can be reached by no channel we have."""
    if event not in TEMPLATES:
        return None
    visit = session.get(Visit, visit_id)
    if visit is None:
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
        channel=channel,
        recipient=recipient,
        language=language,
        subject=Text(subject.message, "server", params).render(language),
        body=Text(body.message, "server", params).render(language),
        state=state,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    return message


# --- senders ----------------------------------------------------------------------------


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LoggingSmsSender:
    """The text-message sender while no SMS gateway is set up: logs (number masked) and
    says that nothing was sent."""

    def send(self, phone: str, text: str) -> None:
        log.info(
            "SMS to %s (%d characters), not sent: no SMS gateway", mask_phone(phone), len(text)
        )
        raise NoGateway("no SMS gateway is set up")


class EmailSender:
    """Email through the configured SMTP host."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = config.get("SMTP_HOST", "")
        self.port = int(config.get("SMTP_PORT", 25))
        self.user = config.get("SMTP_USER", "")
        self.password = config.get("SMTP_PASSWORD", "")
        self.starttls = bool(config.get("SMTP_STARTTLS", False))
        self.sender = config.get("MAIL_FROM", "service@localhost")

    def send(
        self,
        recipient: str,
        subject: str,
        body: str,
        attachments: Sequence[tuple[str, str, bytes]] = (),
    ) -> None:
        if not self.host:
            log.info("email to %s not sent: SMTP_HOST is not set", mask_email(recipient))
            raise NoGateway("SMTP_HOST is not set")
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Message-ID"] = make_msgid(domain="service-lane")
        message.set_content(body)
        for filename, content_type, content in attachments:
            maintype, _, subtype = content_type.partition("/")
            subtype, _, extra = subtype.partition(";")
            params = dict(part.strip().split("=", 1) for part in extra.split(";") if "=" in part)
            message.add_attachment(
                content,
                maintype=maintype,
                subtype=subtype.strip(),
                filename=filename,
                params=params,
            )
        with smtplib.SMTP(self.host, self.port, timeout=20) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


def _attachments(session: Session, message: OutboundMessage) -> list[tuple[str, str, bytes]]:
    from sync_server.appointment_tables import OutboundAttachment

    rows = session.scalars(
        select(OutboundAttachment)
        .where(OutboundAttachment.message_id == message.id)
        .order_by(OutboundAttachment.id)
    )
    return [(row.filename, row.content_type, row.content) for row in rows]


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def send_due(
    session: Session,
    config: Mapping[str, Any],
    *,
    sms: SmsSender | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Send every message that is due; returns counts of sent, retried and failed.
    The appointment reminders and the satisfaction surveys are made ready first (queued
    if missing and due, held in quiet hours: ``sync_server.appointments.reminders``,
    ``sync_server.surveys.sending``)."""
    from sync_server.appointments.reminders import prepare_reminders
    from sync_server.surveys.sending import prepare_surveys

    now = now or utcnow()
    prepare_reminders(session, now)
    prepare_surveys(session, now, config)
    email = EmailSender(config)
    sms = sms or config.get("SMS_SENDER") or LoggingSmsSender()
    counts = {"sent": 0, "retry": 0, "failed": 0, "not_sent": 0}
    due_ids = session.scalars(
        select(OutboundMessage.id)
        .where(OutboundMessage.state == "pending", OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.id)
        .limit(BATCH_SIZE)
    ).all()
    for message_id in due_ids:
        # Claim it, so a second sender (the CLI beside the server's thread) skips it.
        claimed = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id, OutboundMessage.state == "pending")
            .values(state="sending")
        ).rowcount
        session.commit()
        if not claimed:
            continue
        message = session.get(OutboundMessage, message_id)
        assert message is not None
        try:
            if message.channel == "email":
                email.send(
                    message.recipient, message.subject, message.body, _attachments(session, message)
                )
            else:
                sms.send(message.recipient, message.body)
        except NoGateway as missing:
            # Not an error to retry: nothing can send it until a gateway is set up.
            message.state = NO_GATEWAY
            message.last_error = str(missing)[:400]
            counts["not_sent"] += 1
        except Exception as error:
            message.attempts += 1
            message.last_error = f"{type(error).__name__}: {error}"[:400]
            if message.attempts >= MAX_ATTEMPTS:
                message.state = "failed"
                counts["failed"] += 1
            else:
                message.state = "pending"
                message.next_attempt_at = now + retry_delay(message.attempts)
                counts["retry"] += 1
            log.warning(
                "message %s (%s) not sent, attempt %d: %s",
                message.id,
                message.channel,
                message.attempts,
                type(error).__name__,
            )
        else:
            message.attempts += 1
            message.state = "sent"
            message.sent_at = utcnow()
            counts["sent"] += 1
        session.commit()
    return counts


def start_sender_thread(app: Flask, interval_seconds: float = 15.0) -> threading.Event:
    """Send due messages in the background while the server runs; set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        from sync_server import db

        while not stop.wait(interval_seconds):
            try:
                with app.app_context():
                    send_due(db.session(), app.config)
            except Exception:
                log.exception("message sender loop failed; trying again")

    threading.Thread(target=loop, name="message-sender", daemon=True).start()
    return stop


def masked_recipient(message: OutboundMessage) -> str:
    """The recipient as the desk's pages show it."""
    return (
        mask_email(message.recipient)
        if message.channel == "email"
        else mask_phone(message.recipient)
    )


__all__ = [
    "CALLED",
    "FAILED",
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
    "masked_recipient",
    "notify_customer",
    "send_due",
    "start_sender_thread",
]
