"""The visit page's diagnosis form over the customer file's diagnoses
(``sync_server.customer_file.diagnoses``, table ``diagnoses``): at the desk a finding
and its cause of fault are both asked for, and each field gets its own message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.customer_file import diagnoses as customer_file_diagnoses
from sync_server.customer_file_tables import Diagnosis

MAX_FINDING = 1000
MIN_WORDS = 3  # characters: "ABS" is a finding, "x" is not

FINDING_MISSING = Text("Write what was found.", "server")
CAUSE_MISSING = Text("Write the cause of the fault.", "server")
TOO_LONG = Text("Please keep this to {maximum} characters.", "server", {"maximum": MAX_FINDING})


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
    language: str = "zh_CN",
) -> Diagnosis:
    """Add a finding and its cause to the visit (flushed, not committed); raises
    :class:`DiagnosisRefused` when either is missing or too long, writing nothing."""
    finding, cause = _clean(finding), _clean(cause)
    errors: dict[str, Text] = {}
    for name, value, missing in (
        ("finding", finding, FINDING_MISSING),
        ("cause", cause, CAUSE_MISSING),
    ):
        if len(value) < MIN_WORDS:
            errors[name] = missing
        elif len(value) > MAX_FINDING:
            errors[name] = TOO_LONG
    if errors:
        raise DiagnosisRefused(errors)
    try:
        return customer_file_diagnoses.record_diagnosis(
            session,
            visit_id,
            finding,
            cause,
            user_id=recorded_by_user_id,
            language=language,
            at=recorded_at,
        )
    except customer_file_diagnoses.DiagnosisRefused as refused:
        raise DiagnosisRefused({refused.field: refused.message}) from None


def diagnoses_of(session: Session, visit_id: str) -> list[Diagnosis]:
    """The visit's findings, oldest first."""
    return customer_file_diagnoses.diagnoses_of(session, [visit_id])[visit_id]


__all__ = ["Diagnosis", "DiagnosisRefused", "diagnoses_of", "record_diagnosis"]
