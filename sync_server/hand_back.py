"""The hand-back (交车): the odometer out, what was done and the parts replaced, recorded
as the car leaves. The form starts from the customer's approved quote lines (the parts
with their part numbers) and the desk corrects it to what was really done."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.domain import LineDecision, QuoteLineKind
from shared.i18n import Text
from shared.validation import check_mileage
from sync_server.back_office_tables import ApprovalRow, QuoteRow
from sync_server.record_tables import ApprovalDecisionRow, QuoteLineRow
from sync_server.table_base import utcnow
from sync_server.visit_tables import Visit
from sync_server.work_tables import HandBack, HandedBackJob, QualityCheck

MAX_WORK_DONE = 2000
MAX_PARTS = 50
MAX_PART_FIELD = 120

ODOMETER_MISSING = Text("Read the odometer as the car leaves.", "server")
ODOMETER_BELOW_IN = Text(
    "The odometer out cannot be below the {km} km read at check-in.", "server", {"km": 0}
)
WORK_DONE_MISSING = Text("Write what was done.", "server")
WORK_DONE_TOO_LONG = Text(
    "Please keep this to {maximum} characters.", "server", {"maximum": MAX_WORK_DONE}
)
TOO_MANY_PARTS = Text("At most {maximum} parts per visit.", "server", {"maximum": MAX_PARTS})


@dataclass(frozen=True)
class ApprovedWork:
    """What the customer approved: the work lines and the parts (number, description)."""

    work: list[str]
    parts: list[tuple[str, str, str]]  # part number, description, quantity


class HandBackRefused(Exception):
    def __init__(self, errors: dict[str, Text]) -> None:
        self.errors = errors
        super().__init__(", ".join(errors))


def approved_work(session: Session, visit_id: str) -> ApprovedWork:
    """The lines the customer said yes to in their latest approval."""
    approval = session.scalars(
        select(ApprovalRow)
        .join(QuoteRow, QuoteRow.id == ApprovalRow.quote_id)
        .where(QuoteRow.visit_id == visit_id)
        .order_by(ApprovalRow.approved_at.desc())
        .limit(1)
    ).first()
    if approval is None:
        return ApprovedWork([], [])
    lines = session.scalars(
        select(QuoteLineRow)
        .join(
            ApprovalDecisionRow,
            (ApprovalDecisionRow.line_id == QuoteLineRow.line_id)
            & (ApprovalDecisionRow.approval_id == approval.id),
        )
        .where(
            QuoteLineRow.quote_id == approval.quote_id,
            ApprovalDecisionRow.decision == LineDecision.approved,
        )
        .order_by(QuoteLineRow.position)
    ).all()
    work = [line.description for line in lines if line.kind == QuoteLineKind.labour]
    parts = [
        (line.part_number, line.description, f"{line.quantity.normalize():f}")
        for line in lines
        if line.kind == QuoteLineKind.part
    ]
    return ApprovedWork(work, parts)


def parse_parts(text: str) -> list[dict[str, str]]:
    """The parts typed one per line as ``part number | description | quantity`` (the
    number and quantity may be left out)."""
    parts = []
    for line in text.splitlines():
        fields = [" ".join(f.split())[:MAX_PART_FIELD] for f in line.split("|")]
        if not any(fields):
            continue
        if len(fields) == 1:
            fields = ["", fields[0], "1"]
        number, description, quantity = [*fields, "", "", ""][:3]
        parts.append(
            {
                "part_number": number,
                "description": description or number,
                "quantity": quantity or "1",
            }
        )
    return parts


def record_hand_back(
    session: Session,
    visit: Visit,
    odometer_out: str,
    work_done: str,
    parts_text: str,
    handed_back_by_user_id: int | None,
) -> HandBack:
    """Record the hand-back (flushed). Raises :class:`HandBackRefused` by field."""
    errors: dict[str, Text] = {}
    odometer: int | None = None
    if not odometer_out.strip():
        errors["odometer_out_km"] = ODOMETER_MISSING
    else:
        checked = check_mileage(odometer_out, field="odometer_out_km")
        if not checked.ok:
            errors["odometer_out_km"] = next(
                i.message for i in checked.issues if i.severity == "error"
            )
        else:
            odometer = checked.value
            below = visit.mileage_in_km is not None and odometer < visit.mileage_in_km
            if below:
                errors["odometer_out_km"] = replace(
                    ODOMETER_BELOW_IN, params={"km": f"{visit.mileage_in_km:,}"}
                )
    work = "\n".join(" ".join(line.split()) for line in work_done.strip().splitlines()).strip()
    if not work:
        errors["work_done"] = WORK_DONE_MISSING
    elif len(work) > MAX_WORK_DONE:
        errors["work_done"] = WORK_DONE_TOO_LONG
    parts = parse_parts(parts_text)
    if len(parts) > MAX_PARTS:
        errors["parts"] = TOO_MANY_PARTS
    if errors:
        raise HandBackRefused(errors)
    assert odometer is not None
    row = HandBack(
        visit_id=visit.id,
        odometer_out_km=odometer,
        work_done=work,
        parts_replaced=parts,
        handed_back_by_user_id=handed_back_by_user_id,
        handed_back_at=utcnow(),
    )
    session.add(row)
    session.flush()  # a second hand-back of the visit is refused here, by its own key
    keep_handed_back_job(session, row)
    return row


def keep_handed_back_job(session: Session, hand_back: HandBack) -> HandedBackJob:
    """The service star's row of ``hand_back`` (added, or brought up to date when the
    hand-back is written again; flushed): the visit's advisor (else who handed the car
    back), the ready time promised, the last passed quality check and the car."""
    visit = session.get(Visit, hand_back.visit_id)
    if visit is None:
        raise ValueError(f"no visit {hand_back.visit_id} for the hand-back")
    job = session.get(HandedBackJob, visit.id)
    if job is None:
        job = HandedBackJob(visit_id=visit.id)
        session.add(job)
    job.handed_back_at = hand_back.handed_back_at
    job.advisor_user_id = (
        visit.advisor_user_id
        if visit.advisor_user_id is not None
        else hand_back.handed_back_by_user_id
    )
    job.vehicle_id = visit.vehicle_id
    job.promised_at = visit.expected_ready_at
    job.ready_at = session.scalar(
        select(func.max(QualityCheck.checked_at)).where(
            QualityCheck.visit_id == visit.id, QualityCheck.passed.is_(True)
        )
    )
    session.flush()
    return job


def hand_back_of(session: Session, visit_id: str) -> HandBack | None:
    return session.scalars(select(HandBack).where(HandBack.visit_id == visit_id)).first()
