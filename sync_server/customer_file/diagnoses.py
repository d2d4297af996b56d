"""The diagnosis of a visit: what was found and the cause of the fault, in plain words.

The visit workflow's diagnosis screen calls :func:`record_diagnosis`; the vehicle health
file and the quote read :func:`diagnoses_of`. A new diagnosis never replaces an earlier
one: every entry stays, the latest is the visit's diagnosis.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.i18n import LANGUAGES, Text
from sync_server.customer_file_tables import Diagnosis
from sync_server.table_base import utcnow
from sync_server.visit_tables import Visit

FINDING_MAX = 2000


class DiagnosisRefused(ValueError):
    """The diagnosis cannot be kept as given; ``message`` says why, per reader."""

    def __init__(self, field: str, message: Text) -> None:
        super().__init__(field)
        self.field = field
        self.message = message


def record_diagnosis(
    session: Session,
    visit_id: str,
    finding: str,
    cause: str = "",
    *,
    user_id: int | None = None,
    technician_id: int | None = None,
    language: str = "zh_CN",
    at: datetime | None = None,
) -> Diagnosis:
    """Keep a diagnosis of the visit (the caller commits). Raises
    :class:`DiagnosisRefused` for an unknown visit or an empty or overlong finding."""
    finding, cause = (finding or "").strip(), (cause or "").strip()
    if session.get(Visit, visit_id) is None:
        raise DiagnosisRefused("visit", Text("This visit is not on the server.", "server"))
    if not finding:
        raise DiagnosisRefused("finding", Text("Write what was found.", "server"))
    for name, value in (("finding", finding), ("cause", cause)):
        if len(value) > FINDING_MAX:
            raise DiagnosisRefused(
                name,
                Text("At most {count} characters.", "server", {"count": FINDING_MAX}),
            )
    diagnosis = Diagnosis(
        id=str(uuid.uuid4()),
        visit_id=visit_id,
        finding=finding,
        cause=cause,
        language=language if language in LANGUAGES else "zh_CN",
        recorded_by_user_id=user_id,
        technician_id=technician_id,
        recorded_at=at or utcnow(),
    )
    session.add(diagnosis)
    session.flush()
    return diagnosis


def diagnoses_of(session: Session, visit_ids: Iterable[str]) -> dict[str, list[Diagnosis]]:
    """The diagnoses of these visits, oldest first, by visit."""
    ids = sorted(set(visit_ids))
    found: dict[str, list[Diagnosis]] = {visit_id: [] for visit_id in ids}
    if not ids:
        return found
    rows = session.scalars(
        select(Diagnosis)
        .where(Diagnosis.visit_id.in_(ids))
        .order_by(Diagnosis.recorded_at, Diagnosis.id)
    )
    for row in rows:
        found[row.visit_id].append(row)
    return found


__all__ = ["DiagnosisRefused", "diagnoses_of", "record_diagnosis"]
