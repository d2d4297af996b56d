"""The quality check (质检): a checklist per job type, who checked, the result and notes.

The checklists are a setting (``QUALITY_CHECKLISTS``: job type → items, each with its
words in English and Chinese); the shop's defaults below serve until it sets its own.
A pass needs every item ticked; a failed check needs its reason, which goes back to the
work with the job (the visit page shows it until the next check).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.table_base import utcnow
from sync_server.work_tables import HandedBackJob, QualityCheck

MIN_REASON = 5
MAX_NOTES = 1000

ITEMS_NOT_TICKED = Text("A check passes only with every item ticked.", "server")
REASON_MISSING = Text("Say what is wrong, so the technician knows what to redo.", "server")
NOTES_TOO_LONG = Text("Please keep this to {maximum} characters.", "server", {"maximum": MAX_NOTES})


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label_en: str
    label_zh: str

    def label(self, lang: str) -> str:
        return self.label_zh if lang.startswith("zh") else self.label_en


def _item(key: str, label: Text) -> ChecklistItem:
    return ChecklistItem(key, label.render("en"), label.render("zh_CN"))


_ROAD_TEST = ("road_test", Text("Road test: no noise, pull or warning light", "server"))
_NO_LEAKS = ("no_leaks", Text("No leaks under the car", "server"))
_CLEAN = ("car_clean", Text("Seat, floor and wheel covers removed; car clean", "server"))
_TORQUE = ("wheel_torque", Text("Wheel nuts tightened to torque", "server"))

# The shop's checklists until it sets its own; "" is for a job of no known type.
DEFAULT_CHECKLISTS: dict[str, tuple[tuple[str, Text], ...]] = {
    "": (_ROAD_TEST, _CLEAN),
    "maintenance": (
        ("fluid_levels", Text("Oil and fluid levels correct", "server")),
        ("service_reset", Text("Service reminder reset", "server")),
        _NO_LEAKS,
        _CLEAN,
    ),
    "engine": (
        ("fault_codes", Text("No fault codes stored after repair", "server")),
        _NO_LEAKS,
        _ROAD_TEST,
        _CLEAN,
    ),
    "brakes": (
        ("pedal_feel", Text("Brake pedal firm; parking brake holds", "server")),
        _TORQUE,
        _ROAD_TEST,
        _CLEAN,
    ),
    "tyres": (
        ("tyre_pressure", Text("Tyre pressures set to the door label", "server")),
        _TORQUE,
        ("balance", Text("Wheels balanced; no vibration", "server")),
        _CLEAN,
    ),
    "electrics": (
        ("lights_work", Text("All lights and electrical functions work", "server")),
        ("fault_codes", Text("No fault codes stored after repair", "server")),
        _CLEAN,
    ),
    "air_conditioning": (
        ("vent_temperature", Text("Cold air at the vents", "server")),
        _NO_LEAKS,
        _CLEAN,
    ),
    "body": (
        ("paint_match", Text("Paint matches; no runs or dust", "server")),
        ("panel_gaps", Text("Panel gaps even; doors and lids close", "server")),
        _CLEAN,
    ),
}


def checklist(job_type: str, configured: Mapping[str, Any] | None = None) -> list[ChecklistItem]:
    """The checklist of a job type: the shop's setting if it has one, else the default
    (an unknown type gets the general checklist)."""
    if configured and job_type in configured:
        return [
            ChecklistItem(
                str(entry["key"]), str(entry["en"]), str(entry.get("zh_CN") or entry["en"])
            )
            for entry in configured[job_type]
        ]
    return [
        _item(key, label) for key, label in DEFAULT_CHECKLISTS.get(job_type, DEFAULT_CHECKLISTS[""])
    ]


class QualityCheckRefused(Exception):
    """A check the form cannot record as filled in, by field (``checklist``, ``notes``)."""

    def __init__(self, errors: dict[str, Text]) -> None:
        self.errors = errors
        super().__init__(", ".join(errors))


def record_quality_check(
    session: Session,
    visit_id: str,
    job_type: str,
    items: Sequence[ChecklistItem],
    ticked: set[str],
    passed: bool,
    notes: str,
    checked_by_user_id: int | None,
) -> QualityCheck:
    """Record one check (flushed). A pass with an item unticked, or a failure without a
    reason, raises :class:`QualityCheckRefused` and records nothing."""
    notes = notes.strip()
    errors: dict[str, Text] = {}
    if passed and any(item.key not in ticked for item in items):
        errors["checklist"] = ITEMS_NOT_TICKED
    if not passed and len(" ".join(notes.split())) < MIN_REASON:
        errors["notes"] = REASON_MISSING
    if len(notes) > MAX_NOTES:
        errors["notes"] = NOTES_TOO_LONG
    if errors:
        raise QualityCheckRefused(errors)
    row = QualityCheck(
        visit_id=visit_id,
        job_type=job_type,
        items=[
            {"item": i.key, "label_en": i.label_en, "label_zh": i.label_zh, "ok": i.key in ticked}
            for i in items
        ],
        passed=passed,
        notes=notes,
        checked_by_user_id=checked_by_user_id,
        checked_at=utcnow(),
    )
    session.add(row)
    session.flush()
    if passed:  # checked again after the hand-back: the star's ready time is this one
        session.execute(
            update(HandedBackJob)
            .where(HandedBackJob.visit_id == visit_id)
            .values(ready_at=row.checked_at)
        )
    return row


def quality_checks_of(session: Session, visit_id: str) -> list[QualityCheck]:
    """The visit's checks, oldest first."""
    return list(
        session.scalars(
            select(QualityCheck)
            .where(QualityCheck.visit_id == visit_id)
            .order_by(QualityCheck.checked_at, QualityCheck.id)
        )
    )


def sent_back_reason(checks: Sequence[QualityCheck], status: str) -> QualityCheck | None:
    """The failed check the job is back in work for (its reason shown with the job)."""
    if status == "in_progress" and checks and not checks[-1].passed:
        return checks[-1]
    return None
