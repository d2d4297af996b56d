"""What the visit page shows of a visit's work records — its findings, its dispatch with
the suggested technicians, its quality checks and its hand-back — read from their typed
tables in one place for the page (and for the vehicle health file)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.visit_status import VisitStatus
from sync_server.appointments.capacity import shop_calendar
from sync_server.back_office_tables import Technician
from sync_server.diagnoses import diagnoses_of
from sync_server.dispatch import current_assignment, job_type, suggest_technicians
from sync_server.hand_back import approved_work, hand_back_of
from sync_server.quality_checks import checklist, quality_checks_of, sent_back_reason
from sync_server.shop import shop_settings
from sync_server.shop_tables import User
from sync_server.visit_tables import Visit

# Statuses in which the desk may dispatch (plan ahead from the diagnosis on).
DISPATCH_STATUSES = frozenset(
    {
        VisitStatus.diagnosed,
        VisitStatus.quote_sent,
        VisitStatus.approved,
        VisitStatus.in_progress,
        VisitStatus.quality_check,
    }
)
# Statuses in which a finding may be added (the first one moves the visit on).
DIAGNOSIS_STATUSES = frozenset(
    {
        VisitStatus.walkaround_done,
        VisitStatus.diagnosed,
        VisitStatus.quote_sent,
        VisitStatus.approved,
        VisitStatus.in_progress,
    }
)


def people_names(session: Session, user_ids: set[int | None]) -> dict[int, str]:
    ids = sorted(i for i in user_ids if i is not None)
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def visit_views(
    session: Session,
    visit: Visit,
    checklists: Mapping[str, Any],
    now: datetime,
    asked_job_type: str | None = None,
) -> dict[str, Any]:
    """The work records' part of the visit page's context; ``asked_job_type`` is the job
    type the desk asks suggestions for (else the visit's own)."""
    status = VisitStatus(visit.status)
    findings = diagnoses_of(session, visit.id)
    checks = quality_checks_of(session, visit.id)
    hand_back = hand_back_of(session, visit.id)
    assignment = current_assignment(session, visit.id)
    kind = job_type(session, visit) if asked_job_type is None else asked_job_type[:40]
    calendar = shop_calendar(shop_settings(session))
    suggestions = (
        suggest_technicians(session, calendar, kind, now.astimezone(calendar.timezone).date())
        if status in DISPATCH_STATUSES
        else []
    )
    names = people_names(
        session,
        {f.recorded_by_user_id for f in findings}
        | {c.checked_by_user_id for c in checks}
        | {hand_back.handed_back_by_user_id if hand_back else None},
    )
    return {
        "findings": findings,
        "may_diagnose": status in DIAGNOSIS_STATUSES,
        "may_dispatch": status in DISPATCH_STATUSES,
        "job_type": kind,
        "assignment": assignment,
        "assigned": (
            session.get(Technician, assignment.technician_id)
            if assignment is not None and assignment.technician_id is not None
            else None
        ),
        "suggestions": suggestions,
        "quality_checks": checks,
        "checklist": checklist(kind, checklists),
        "sent_back": sent_back_reason(checks, status.value),
        "hand_back": hand_back,
        "approved_work": approved_work(session, visit.id) if status == VisitStatus.ready else None,
        "people_names": names,
    }
