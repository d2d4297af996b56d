"""Sending the outbox: each message claimed on a lease, sent with its own Message-ID (or
SMS idempotency key), every attempt recorded.

Several server processes (and ``checkin-server send-messages`` beside them) may send
from one database at once. A sender *claims* a due message: it sets ``state`` to
``sending`` with a lease (``claimed_by``, ``claimed_until``) and commits before it talks
to the mail server. On PostgreSQL the claim reads the row ``FOR UPDATE SKIP LOCKED``, so
two senders never wait on each other nor take the same row; on SQLite the claim is a
compare-and-set ``UPDATE`` (the one writer lock orders them). A sender killed mid-send
leaves its claim behind; once the lease has run out, the next sender takes the message
again and marks the lost attempt ``interrupted``.

A message keeps the Message-ID and idempotency key it was made with, on every retry: a
relay that took the message but answered too late (our side timed out) gets the same
message again, recognisable as a repeat, and the customer's mail program shows one.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from shared.masking import mask_email, mask_phone
from sync_server.back_office_tables import OutboundMessage
from sync_server.job_tables import MessageAttempt
from sync_server.table_base import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BATCH_SIZE = 50
# How long a claim holds: well above the SMTP time-out, so that a live sender is never
# overtaken; a dead one's message goes out again this long after it died.
LEASE_SECONDS = 120
SMTP_TIMEOUT_SECONDS = 20
# The part of its lease a sender gives the relay's conversation: the rest is the margin
# for recording the outcome before another sender may take the message over.
SEND_SHARE_OF_LEASE = 0.5
PENDING, SENDING, SENT, FAILED, NO_GATEWAY = "pending", "sending", "sent", "failed", "no_gateway"


# A reminder the customer opted out of since it was queued; one put off by quiet hours.
WITHDRAWN, LATER = "withdrawn", "later"


class NoGateway(Exception):
    """No mail server or SMS gateway is set up for this channel: nothing was sent."""


class SmsSender(Protocol):
    """An SMS gateway. ``idempotency_key`` is the same on every retry of one message:
    pass it to the gateway (e.g. its ``Idempotency-Key`` header or client reference
    parameter) so that a repeat after a lost answer is dropped there."""

    def send(self, phone: str, text: str, *, idempotency_key: str) -> None: ...


class LoggingSmsSender:
    """The text-message sender while no SMS gateway is set up: logs (number masked) and
    says that nothing was sent."""

    def send(self, phone: str, text: str, *, idempotency_key: str) -> None:
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
        self.timeout = float(config.get("SMTP_TIMEOUT_SECONDS", SMTP_TIMEOUT_SECONDS))

    def send(
        self,
        recipient: str,
        subject: str,
        body: str,
        attachments: Sequence[tuple[str, str, bytes]] = (),
        *,
        message_id: str,
        headers: Mapping[str, str] | None = None,
        within_s: float | None = None,
    ) -> None:
        """Send one message; with ``within_s``, the whole conversation with the relay
        ends within that many seconds (a time-out, ``TimeoutError``, if it has not):
        each step's own time-out alone would let a slow relay run it past a lease."""
        if not self.host:
            log.info("email to %s not sent: SMTP_HOST is not set", mask_email(recipient))
            raise NoGateway("SMTP_HOST is not set")
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Message-ID"] = message_id
        for name, value in (headers or {}).items():  # List-Unsubscribe (RFC 8058), …
            message[name] = value
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
        timeout = self.timeout if within_s is None else max(0.1, min(self.timeout, within_s))
        with (
            smtplib.SMTP(self.host, self.port, timeout=timeout) as smtp,
            _deadline(smtp, within_s),
        ):
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


@contextmanager
def _deadline(smtp: smtplib.SMTP, within_s: float | None) -> Iterator[None]:
    """End ``smtp``'s conversation ``within_s`` seconds from now: its socket is shut,
    which wakes a step waiting on the relay, and the step's failure becomes a
    ``TimeoutError`` (the relay may have taken the message: a time-out)."""
    if within_s is None:
        yield
        return
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        with suppress(OSError):
            smtp.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]

    timer = threading.Timer(max(0.0, within_s), cut)
    timer.daemon = True
    timer.start()
    try:
        yield
    except (OSError, smtplib.SMTPException) as error:
        if expired.is_set():
            raise TimeoutError(f"the relay did not finish within {within_s:.0f} s") from error
        raise
    finally:
        timer.cancel()


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


def this_process() -> str:
    """The name a process's claims and leases carry: host and process id."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def _due(now: datetime) -> Any:
    """Waiting and due, or claimed by a sender whose lease has run out."""
    return or_(
        and_(OutboundMessage.state == PENDING, OutboundMessage.next_attempt_at <= now),
        and_(
            OutboundMessage.state == SENDING,
            or_(OutboundMessage.claimed_until.is_(None), OutboundMessage.claimed_until < now),
        ),
    )


def claim_next(
    session: Session, now: datetime, holder: str, lease: timedelta
) -> OutboundMessage | None:
    """Claim the next due message for ``holder`` until ``now + lease`` and commit; None
    when nothing is due (or everything due is being claimed by another sender)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    skipped: list[int] = []
    while True:
        query = select(OutboundMessage.id).where(_due(now)).order_by(OutboundMessage.id).limit(1)
        if skipped:
            query = query.where(OutboundMessage.id.not_in(skipped))
        if postgres:
            query = query.with_for_update(skip_locked=True)
        message_id = session.scalars(query).first()
        if message_id is None:
            session.commit()
            return None
        was = session.execute(
            select(OutboundMessage.state, OutboundMessage.claimed_by).where(
                OutboundMessage.id == message_id
            )
        ).one()
        claimed = session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == message_id, _due(now))
            .values(state=SENDING, claimed_by=holder, claimed_until=now + lease)
        ).rowcount
        if not claimed:  # SQLite: another sender was first
            session.rollback()
            skipped.append(message_id)
            continue
        message = session.get(OutboundMessage, message_id, populate_existing=True)
        assert message is not None
        if was.state == SENDING:
            # Its sender died mid-send (or hung past its lease): that try counts, and
            # may have reached the customer; this one carries the same Message-ID.
            session.execute(
                update(MessageAttempt)
                .where(MessageAttempt.message_id == message_id, MessageAttempt.outcome == SENDING)
                .values(
                    outcome="interrupted",
                    finished_at=now,
                    detail=f"the lease of {was.claimed_by or 'an older server'} ran out",
                )
            )
            message.attempts += 1
        session.add(MessageAttempt(message_id=message_id, holder=holder, started_at=now))
        session.commit()
        return message


def _finish(
    session: Session,
    message: OutboundMessage,
    holder: str,
    outcome: str,
    detail: str,
    now: datetime,
    *,
    later: datetime | None = None,
) -> str:
    """Record the attempt and settle the message (if this sender still holds it);
    returns the count it goes into: sent, retry, failed or not_sent."""
    session.execute(
        update(MessageAttempt)
        .where(
            MessageAttempt.message_id == message.id,
            MessageAttempt.holder == holder,
            MessageAttempt.outcome == SENDING,
        )
        .values(outcome=outcome, finished_at=utcnow(), detail=detail[:400])
    )
    current = session.get(OutboundMessage, message.id, populate_existing=True)
    assert current is not None
    if current.state != SENDING or current.claimed_by != holder:
        # Our lease ran out and another sender took it over: it settles the message.
        session.commit()
        return "retry" if outcome != SENT else SENT
    current.claimed_by, current.claimed_until = "", None
    if outcome == WITHDRAWN:
        current.state, current.last_error = WITHDRAWN, detail[:400]
        counted = "held"
    elif outcome == LATER:
        current.state, current.next_attempt_at = PENDING, later or now
        counted = "held"
    elif outcome == NO_GATEWAY:
        # Not an error to retry: nothing can send it until a gateway is set up.
        current.state, current.last_error = NO_GATEWAY, detail[:400]
        counted = "not_sent"
    elif outcome == SENT:
        current.attempts += 1
        current.state, current.sent_at = SENT, utcnow()
        counted = SENT
    else:
        current.attempts += 1
        current.last_error = detail[:400]
        if current.attempts >= MAX_ATTEMPTS:
            current.state, counted = FAILED, FAILED
        else:
            current.state, counted = PENDING, "retry"
            current.next_attempt_at = now + retry_delay(current.attempts)
        log.warning(
            "message %s (%s) not sent, attempt %d: %s",
            current.id,
            current.channel,
            current.attempts,
            detail.split(":", 1)[0],
        )
    session.commit()
    return counted


def _timed_out(error: BaseException) -> bool:
    """A time-out, also as smtplib reports one (a "disconnect" caused by it)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _renew_claim(
    session: Session, message: OutboundMessage, holder: str, now: datetime, lease: timedelta
) -> bool:
    """Right before the gateway: hold the claim for a whole lease from now, if this
    sender still holds it (compare-and-set, committed). False when another sender took
    the message over meanwhile: this sender was held up past its lease (a pause, a slow
    step) and the other one sends it; sending it here too would deliver it twice."""
    renewed = session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.id == message.id,
            OutboundMessage.state == SENDING,
            OutboundMessage.claimed_by == holder,
        )
        .values(claimed_until=max(now, utcnow()) + lease)
    ).rowcount
    session.commit()
    return bool(renewed)


def send_one(
    session: Session,
    message: OutboundMessage,
    email: EmailSender,
    sms: SmsSender,
    holder: str,
    now: datetime,
    lease: timedelta = timedelta(seconds=LEASE_SECONDS),
) -> str:
    """Hand one claimed message to its gateway; see :func:`_finish` for what it returns
    (or ``taken_over``: another sender took the message over, see :func:`_renew_claim`).
    A reminder or greeting (``follow_up:*``) is checked again first: an opt-out since it
    was queued withdraws it, quiet hours put it off (``follow_up.run.send_check``). An
    e-mail's conversation with the relay ends well within the lease, so no other sender
    takes the message over while it may still be delivered."""
    headers: dict[str, str] = {}
    if message.event.startswith("follow_up:"):
        from sync_server.follow_up.run import send_check

        verdict, later, headers = send_check(session, message, now)
        if verdict == "withdraw":
            return _finish(session, message, holder, WITHDRAWN, "opted out since", now)
        if verdict == "later" and later is not None:
            return _finish(session, message, holder, LATER, "quiet hours", now, later=later)
    attachments = _attachments(session, message) if message.channel == "email" else []
    if not _renew_claim(session, message, holder, now, lease):
        log.warning("message %s was taken over by another sender: not sent here", message.id)
        return "taken_over"
    try:
        if message.channel == "email":
            email.send(
                message.recipient,
                message.subject,
                message.body,
                attachments,
                message_id=message.email_message_id,
                headers=headers,
                within_s=lease.total_seconds() * SEND_SHARE_OF_LEASE,
            )
        else:
            sms.send(message.recipient, message.body, idempotency_key=message.idempotency_key)
    except NoGateway as missing:
        return _finish(session, message, holder, NO_GATEWAY, str(missing), now)
    except Exception as error:
        if _timed_out(error):
            # The relay may have taken it and answered too late: the retry carries the
            # same Message-ID, so it is recognisable as the same message.
            detail = f"timeout: no answer in time, it may have been delivered ({error})"
            return _finish(session, message, holder, "timeout", detail, now)
        return _finish(session, message, holder, "error", f"{type(error).__name__}: {error}", now)
    return _finish(session, message, holder, SENT, "", now)


def send_due(
    session: Session,
    config: Mapping[str, Any],
    *,
    sms: SmsSender | None = None,
    now: datetime | None = None,
    holder: str | None = None,
    limit: int = BATCH_SIZE,
) -> dict[str, int]:
    """Send every message that is due (at most ``limit``); returns counts of sent,
    retried, failed and not sent. The appointment reminders and the satisfaction
    surveys are made ready first (queued if missing and due, held in quiet hours:
    ``sync_server.appointments.reminders``, ``sync_server.surveys.sending``), and
    overdue complaints escalated to the manager (``sync_server.complaints.escalation``)."""
    from sync_server.appointments.reminders import prepare_reminders
    from sync_server.complaints.escalation import escalate_overdue
    from sync_server.surveys.sending import link_base, prepare_surveys

    fixed = now
    holder = holder or this_process()
    prepare_reminders(session, fixed or utcnow())
    prepare_surveys(session, fixed or utcnow(), config)
    escalate_overdue(session, fixed or utcnow(), link_base(config))
    email = EmailSender(config)
    sms = sms or config.get("SMS_SENDER") or LoggingSmsSender()
    lease = timedelta(seconds=float(config.get("OUTBOX_LEASE_SECONDS", LEASE_SECONDS)))
    counts = {SENT: 0, "retry": 0, FAILED: 0, "not_sent": 0, "taken_over": 0}
    for _ in range(limit):
        moment = fixed or utcnow()  # a long pass claims each message on a fresh lease
        message = claim_next(session, moment, holder, lease)
        if message is None:
            break
        counted = send_one(session, message, email, sms, holder, moment, lease)
        counts[counted] = counts.get(counted, 0) + 1
    return counts


def attempts_of(session: Session, message_id: int) -> list[MessageAttempt]:
    """The tries at sending one message, oldest first."""
    return list(
        session.scalars(
            select(MessageAttempt)
            .where(MessageAttempt.message_id == message_id)
            .order_by(MessageAttempt.id)
        )
    )


__all__ = [
    "BATCH_SIZE",
    "LEASE_SECONDS",
    "MAX_ATTEMPTS",
    "EmailSender",
    "LoggingSmsSender",
    "NoGateway",
    "SmsSender",
    "attempts_of",
    "claim_next",
    "retry_delay",
    "send_due",
    "send_one",
    "this_process",
]
