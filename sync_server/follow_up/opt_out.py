"""Opting out, honoured at once: from an e-mail's one-click header (RFC 8058), the link in
a message, a text message replied "TD" / "STOP", or the desk. Each is recorded with its
time and source; the daily run and the sender both check it, so an opt-out arriving
between the run and the send holds the message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync_server.follow_up.tables import FollowUpContact, FollowUpOptOut
from sync_server.visit_tables import Customer

SOURCES = ("email_one_click", "email_link", "sms_reply", "sms_link", "desk")
# What a customer replies to stop: the words Chinese carriers and shops use, and English.
STOP_WORDS = frozenset({"TD", "T", "退订", "STOP", "UNSUBSCRIBE", "取消"})


def contact_for_token(session: Session, token: str) -> FollowUpContact | None:
    if not token or len(token) > 43:
        return None
    return session.scalars(select(FollowUpContact).where(FollowUpContact.token == token)).first()


def opt_out(
    session: Session,
    customer_id: str,
    source: str,
    now: datetime,
    *,
    contact_id: int | None = None,
    detail: str = "",
) -> FollowUpOptOut:
    """Record the customer's opt-out (in the caller's transaction)."""
    if source not in SOURCES:
        raise ValueError(f"unknown opt-out source {source!r}")
    row = FollowUpOptOut(
        customer_id=customer_id, at=now, source=source, contact_id=contact_id, detail=detail[:200]
    )
    session.add(row)
    return row


def opt_out_by_token(
    session: Session, token: str, source: str, now: datetime
) -> FollowUpContact | None:
    """The opt-out of a message's link or one-click header; None for an unknown token."""
    contact = contact_for_token(session, token)
    if contact is None:
        return None
    opt_out(session, contact.customer_id, source, now, contact_id=contact.id)
    return contact


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def same_number(one: str, other: str) -> bool:
    """Two ways of writing one number (+86 138…, 138 …): their last digits agree."""
    a, b = _digits(one), _digits(other)
    length = min(len(a), len(b), 11)
    return length >= 7 and a[-length:] == b[-length:]


def is_stop_reply(text: str) -> bool:
    return text.strip().strip("。.!！").upper() in STOP_WORDS


def handle_inbound_sms(session: Session, phone: str, text: str, now: datetime) -> int:
    """A text message from a customer: "TD" / "STOP" opts out every customer with that
    number; returns how many were opted out (0 for any other text)."""
    if not is_stop_reply(text):
        return 0
    digits = _digits(phone)
    if len(digits) < 7:
        return 0
    found = [
        customer
        for customer in session.scalars(select(Customer).where(Customer.phone_last4 == digits[-4:]))
        if same_number(customer.phone, phone)
    ]
    for customer in found:
        opt_out(session, customer.id, "sms_reply", now, detail=text.strip()[:40])
    return len(found)


def opt_out_at_desk(session: Session, phone_or_email: str, now: datetime) -> int:
    """The customer asked the desk (on the phone, at the counter): every customer with
    that number or address is opted out; returns how many."""
    given = phone_or_email.strip()
    if "@" in given:
        found = list(
            session.scalars(select(Customer).where(func.lower(Customer.email) == given.lower()))
        )
    else:
        digits = _digits(given)
        if len(digits) < 7:
            return 0
        found = [
            customer
            for customer in session.scalars(
                select(Customer).where(Customer.phone_last4 == digits[-4:])
            )
            if same_number(customer.phone, given)
        ]
    for customer in found:
        opt_out(session, customer.id, "desk", now, detail=given[:80])
    return len(found)
