"""One status step of a visit through the single write path, with the customer's message
in the same transaction — shared by the visit page's buttons and the work-record forms
(diagnosis, quality check, hand-back) that step the visit as they are saved.

A step is idempotent. The desk's form carries the status it moves from; the step takes
the visit's row lock and reads the status again, so a second POST of the same step (a
double click, or the same form sent to two server processes) finds the step taken and
is answered :class:`StepAlreadyDone`, queueing nothing. The outbox's unique key (one
message per visit, event and quote version) stops a second message even where two
transactions got past that check together; the desk pages answer that the same way
(:func:`is_step_taken`).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.visit_status import TRANSITIONS, VisitEvent, VisitStatus, next_status
from sync_server.messaging import notify_customer
from sync_server.sync.records import lock_feed, update_server_record
from sync_server.visit_tables import Visit

# The key points at which the customer hears from us without asking (a failed quality
# check sends the car back to work without a message: nothing changed for the customer).
NOTIFY_ON = {
    VisitEvent.start_work: "in_progress",
    VisitEvent.problem_found: "problem_found",
    VisitEvent.pass_check: "ready",
    VisitEvent.deliver: "delivered",
}


class StepAlreadyDone(Exception):
    """The step was taken already (by this same form sent twice): nothing to do."""

    def __init__(self, status: VisitStatus) -> None:
        self.status = status
        super().__init__(f"already {status.value}")


class StepMovedOn(Exception):
    """The visit is no longer in the status the form was made for."""

    def __init__(self, status: VisitStatus) -> None:
        self.status = status
        super().__init__(f"now {status.value}")


def read_from_status(raw: str | None) -> VisitStatus | None:
    """The status a form says it moves from; None when it says none (or nonsense)."""
    try:
        return VisitStatus(raw) if raw else None
    except ValueError:
        return None


def lock_visit(session: Session, visit_id: str) -> Visit:
    """The visit, read again under its row lock (``FOR UPDATE`` on PostgreSQL; on SQLite
    a write takes the database's one writer lock), until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        query = select(Visit).where(Visit.id == visit_id).with_for_update()
        visit = session.scalars(query.execution_options(populate_existing=True)).one()
    else:
        session.execute(update(Visit).where(Visit.id == visit_id).values(status=Visit.status))
        found = session.get(Visit, visit_id, populate_existing=True)
        assert found is not None
        visit = found
    return visit


def check_from(
    current: VisitStatus, event: VisitEvent, from_status: VisitStatus | None
) -> VisitStatus:
    """The status ``event`` moves to. Raises :class:`StepAlreadyDone` when the visit is
    where this step (from ``from_status``) leads already, :class:`StepMovedOn` when it
    is elsewhere, and ``TransitionRefused`` when the step is not allowed."""
    if from_status is not None and current != from_status:
        if TRANSITIONS.get((from_status, event)) == current:
            raise StepAlreadyDone(current)
        raise StepMovedOn(current)
    return next_status(current, event)


def begin_step(
    session: Session, visit: Visit, event: VisitEvent, from_status: VisitStatus | None = None
) -> VisitStatus:
    """Take the locks a step needs and check it against the visit as it is now; returns
    the status it moves to. A form that writes a record with its step (the hand-back)
    calls this first, so a second POST waits here and writes nothing. Raises as
    :func:`check_from` does."""
    lock_feed(session)
    current = lock_visit(session, visit.id)
    return check_from(VisitStatus(current.status), event, from_status)


def step_visit(
    session: Session,
    visit: Visit,
    event: VisitEvent,
    base_url: str,
    commit: bool = True,
    from_status: VisitStatus | None = None,
) -> VisitStatus:
    """Move the visit on by ``event`` and tell the customer when it is a key point.
    Raises ``TransitionRefused``, ``ChangeRefused``, :class:`StepAlreadyDone` or
    :class:`StepMovedOn`; commits unless told not to."""
    target = begin_step(session, visit, event, from_status)
    update_server_record(session, "visit", visit.id, {"status": target.value})
    notice = NOTIFY_ON.get(event)
    if notice:
        notify_customer(session, visit.id, notice, base_url=base_url)
    if target is VisitStatus.delivered:  # a hand-back counts towards the customer's tier
        from sync_server.customer_file.tiers import recompute_tiers

        recompute_tiers(session, [visit.customer_id])
    if commit:
        session.commit()
    return target


def is_step_taken(error: IntegrityError) -> bool:
    """True when ``error`` is the outbox's unique key refusing a second message: another
    transaction took the same step at the same moment."""
    return "uq_outbound_messages_visit_event_quote" in str(error.orig) or (
        "outbound_messages.visit_id, outbound_messages.event" in str(error.orig)
    )
