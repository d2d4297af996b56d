"""The outbox as the desk sees it: what was really sent, what was not and why, what to
set up, and the calls the advisor has to make.

A message is "sent" only when a mail server or SMS gateway accepted it. Messages that
no gateway could take (``no_gateway``) or that failed every try are listed on the
manager's page with what to configure; once it is configured they can be sent again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from sync_server.back_office_tables import OutboundMessage
from sync_server.messaging import CALLED, FAILED, NO_GATEWAY, PENDING, TO_CALL
from sync_server.table_base import utcnow
from sync_server.visit_tables import Visit

NOT_SENT_STATES = (NO_GATEWAY, FAILED)


@dataclass(frozen=True)
class Gateways:
    """Which ways of reaching customers are set up on this server."""

    email: bool
    sms: bool

    @property
    def all_ready(self) -> bool:
        return self.email and self.sms


def gateways(config: Mapping[str, Any]) -> Gateways:
    """E-mail needs ``SMTP_HOST``; text messages an ``SMS_SENDER`` plugged in."""
    return Gateways(email=bool(config.get("SMTP_HOST")), sms=config.get("SMS_SENDER") is not None)


def not_sent_counts(session: Session) -> dict[tuple[str, str], int]:
    """How many messages are not sent, by (channel, state)."""
    rows = session.execute(
        select(OutboundMessage.channel, OutboundMessage.state, func.count())
        .where(OutboundMessage.state.in_(NOT_SENT_STATES))
        .group_by(OutboundMessage.channel, OutboundMessage.state)
    ).all()
    return {(channel, state): count for channel, state, count in rows}


def not_sent_messages(session: Session, limit: int = 100) -> list[OutboundMessage]:
    """The newest messages that never reached the customer."""
    return list(
        session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.state.in_(NOT_SENT_STATES))
            .order_by(OutboundMessage.id.desc())
            .limit(limit)
        )
    )


def send_again(session: Session, ready: Gateways) -> int:
    """Put the not-sent messages whose channel now has a gateway back in the queue."""
    channels = [name for name, ok in (("email", ready.email), ("sms", ready.sms)) if ok]
    if not channels:
        return 0
    result = session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.state.in_(NOT_SENT_STATES),
            OutboundMessage.channel.in_(channels),
        )
        .values(state=PENDING, attempts=0, next_attempt_at=utcnow(), last_error="")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def waiting_for_a_call() -> ColumnElement[bool]:
    """Whether the visit's customer waits for the advisor's call, for a query on
    ``visits`` (an index look-up on the messages of the visit)."""
    return (
        select(OutboundMessage.id)
        .where(OutboundMessage.visit_id == Visit.id, OutboundMessage.state == TO_CALL)
        .exists()
    )


def mark_called(session: Session, message_id: int, user_id: int) -> OutboundMessage | None:
    """The advisor has called the customer about this message; None if it is no call
    task (or already done)."""
    message = session.get(OutboundMessage, message_id)
    if message is None or message.state != TO_CALL:
        return None
    message.state = CALLED
    message.sent_at = utcnow()
    message.handled_by_user_id = user_id
    return message


__all__ = [
    "NOT_SENT_STATES",
    "Gateways",
    "gateways",
    "mark_called",
    "not_sent_counts",
    "not_sent_messages",
    "send_again",
    "waiting_for_a_call",
]
