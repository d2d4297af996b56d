"""What the desk is told when a status step's form comes too late: the same step sent
twice (a double click, or one form sent to two server processes) is "already done",
and a form made for a status the visit has left says so — in both cases nothing is
changed and nothing is sent to the customer (``sync_server.visit_steps``)."""

from __future__ import annotations

from flask import flash, request
from sqlalchemy.exc import IntegrityError

from shared.visit_status import TransitionRefused, VisitEvent, VisitStatus
from sync_server.visit_steps import (
    StepAlreadyDone,
    StepMovedOn,
    check_from,
    is_step_taken,
    read_from_status,
)
from sync_server.visit_tables import Visit
from sync_server.web import gettext as _
from sync_server.web import visit_status_text


def form_from_status() -> VisitStatus | None:
    """The status the posted form says it moves from (its hidden ``from_status``)."""
    return read_from_status(request.form.get("from_status"))


def flash_step_answer(error: StepAlreadyDone | StepMovedOn) -> None:
    status = visit_status_text(error.status.value)
    if isinstance(error, StepAlreadyDone):
        flash(
            _(
                "Already done: the visit is {status}. The step was sent twice; the customer "
                "was told once.",
                status=status,
            ),
            "ok",
        )
    else:
        flash(
            _(
                "The visit changed while this page was open: it is now {status}. Look at it "
                "again before the next step.",
                status=status,
            ),
            "error",
        )


def answered_stale_form(visit: Visit, event: VisitEvent) -> bool:
    """Before a step's form is read: when it was made for a status the visit has left,
    flash why and return True (the caller goes back to the visit)."""
    try:
        check_from(VisitStatus(visit.status), event, form_from_status())
    except (StepAlreadyDone, StepMovedOn) as stale:
        flash_step_answer(stale)
        return True
    except TransitionRefused:
        return False
    return False


def answered_taken_step(error: IntegrityError, visit: Visit) -> bool:
    """After a commit refused by the outbox's unique key: the same step was taken by
    another request at the same moment. Flash "already done" and return True; False
    for any other integrity error (the caller re-raises it)."""
    if not is_step_taken(error):
        return False
    flash_step_answer(StepAlreadyDone(VisitStatus(visit.status)))
    return True
