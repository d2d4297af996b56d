"""One status step of a visit through the single write path, with the customer's message
in the same transaction — shared by the visit page's buttons and the work-record forms
(diagnosis, quality check, hand-back) that step the visit as they are saved."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shared.visit_status import VisitEvent, VisitStatus, next_status
from sync_server.messaging import notify_customer
from sync_server.models import Visit
from sync_server.sync.records import lock_feed, update_server_record

# The key points at which the customer hears from us without asking (a failed quality
# check sends the car back to work without a message: nothing changed for the customer).
NOTIFY_ON = {
    VisitEvent.start_work: "in_progress",
    VisitEvent.problem_found: "problem_found",
    VisitEvent.pass_check: "ready",
    VisitEvent.deliver: "delivered",
}


def step_visit(
    session: Session, visit: Visit, event: VisitEvent, base_url: str, commit: bool = True
) -> VisitStatus:
    """Move the visit on by ``event`` and tell the customer when it is a key point.
    Raises ``TransitionRefused`` or ``ChangeRefused``; commits unless told not to."""
    target = next_status(VisitStatus(visit.status), event)
    lock_feed(session)
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
