"""The diagnosis of a visit (诊断): what the advisor or technician found and the cause of
the fault, in plain words, one row per finding.

The customer reads them with the quote; the vehicle health file reads them per car.
Recording the first finding of a visit whose walk-around is done moves it on to
"diagnosed"; a later finding (a problem found during the work, a second look) is added
to the visit without moving it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, select
from sqlalchemy import Text as SqlText
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.i18n import Text
from sync_server.models import Base, utcnow

MAX_FINDING = 1000
MAX_CAUSE = 1000
MIN_WORDS = 3  # characters: "ABS" is a finding, "x" is not

FINDING_MISSING = Text("Write what was found.", "server")
CAUSE_MISSING = Text("Write the cause of the fault.", "server")
TOO_LONG = Text("Please keep this to {maximum} characters.", "server", {"maximum": MAX_FINDING})


class Diagnosis(Base):
    """One finding of a visit and its cause of fault, with who recorded it and when."""

    __tablename__ = "diagnoses"
    __table_args__ = (Index("ix_diagnoses_visit_id", "visit_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"))
    finding: Mapped[str] = mapped_column(SqlText)
    cause: Mapped[str] = mapped_column(SqlText)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class DiagnosisRefused(Exception):
    """What is wrong with a finding as typed, by field (``finding``, ``cause``)."""

    def __init__(self, errors: dict[str, Text]) -> None:
        self.errors = errors
        super().__init__(", ".join(errors))


def _clean(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.strip().splitlines()).strip()


def record_diagnosis(
    session: Session,
    visit_id: str,
    finding: str,
    cause: str,
    recorded_by_user_id: int | None,
    recorded_at: datetime | None = None,
) -> Diagnosis:
    """Add a finding and its cause to the visit (flushed, not committed).

    Raises :class:`DiagnosisRefused` when either is empty or too long; nothing is written
    then, and the caller shows the words back with the message.
    """
    finding, cause = _clean(finding), _clean(cause)
    errors: dict[str, Text] = {}
    if len(finding) < MIN_WORDS:
        errors["finding"] = FINDING_MISSING
    elif len(finding) > MAX_FINDING:
        errors["finding"] = TOO_LONG
    if len(cause) < MIN_WORDS:
        errors["cause"] = CAUSE_MISSING
    elif len(cause) > MAX_CAUSE:
        errors["cause"] = TOO_LONG
    if errors:
        raise DiagnosisRefused(errors)
    row = Diagnosis(
        visit_id=visit_id,
        finding=finding,
        cause=cause,
        recorded_by_user_id=recorded_by_user_id,
        recorded_at=recorded_at or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def diagnoses_of(session: Session, visit_id: str) -> list[Diagnosis]:
    """The visit's findings, oldest first."""
    return list(
        session.scalars(
            select(Diagnosis)
            .where(Diagnosis.visit_id == visit_id)
            .order_by(Diagnosis.recorded_at, Diagnosis.id)
        )
    )


__all__ = ["Diagnosis", "DiagnosisRefused", "diagnoses_of", "record_diagnosis"]
