"""The complaints settings: categories and root causes (a name in each language) and
the deadline targets in business minutes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.complaints.tables import ComplaintLabel, ComplaintSettings

KINDS = ("category", "root_cause")


class SettingsRefused(ValueError):
    def __init__(self, errors: dict[str, Text]) -> None:
        super().__init__(", ".join(text.render("en") for text in errors.values()))
        self.errors = errors


def complaint_settings(session: Session) -> ComplaintSettings:
    """The one settings row, made with the defaults (30 minutes, two working days)."""
    row = session.get(ComplaintSettings, 1)
    if row is None:
        row = ComplaintSettings(
            id=1, first_response_minutes=30, resolution_minutes=16 * 60, escalation_email=""
        )
        session.add(row)
        session.flush()
    return row


def labels(session: Session, kind: str, active_only: bool = True) -> Sequence[ComplaintLabel]:
    query = select(ComplaintLabel).where(ComplaintLabel.kind == kind)
    if active_only:
        query = query.where(ComplaintLabel.active.is_(True))
    return session.scalars(query.order_by(ComplaintLabel.name_en)).all()


def label_name(label: ComplaintLabel | None, language: str) -> str:
    if label is None:
        return ""
    return label.name_zh if language.startswith("zh") and label.name_zh else label.name_en


def add_label(session: Session, kind: str, name_en: str, name_zh: str) -> ComplaintLabel:
    """A new category or root cause; both names are needed, neither may repeat one in use."""
    errors: dict[str, Text] = {}
    if kind not in KINDS:
        errors["kind"] = Text("Choose a category or a root cause.", "server")
    for field, name in (("name_en", name_en), ("name_zh", name_zh)):
        if not name.strip():
            errors[field] = Text("Write the name in both languages.", "server")
        elif len(name.strip()) > 80:
            errors[field] = Text("Keep the name under 80 characters.", "server")
    if not errors:
        same = select(func.count()).where(
            ComplaintLabel.kind == kind,
            func.lower(ComplaintLabel.name_en) == name_en.strip().lower(),
        )
        if session.scalar(same):
            errors["name_en"] = Text("This name is already in the list.", "server")
    if errors:
        raise SettingsRefused(errors)
    label = ComplaintLabel(kind=kind, name_en=name_en.strip(), name_zh=name_zh.strip(), active=True)
    session.add(label)
    session.flush()
    return label


def save_targets(session: Session, typed: Mapping[str, str]) -> ComplaintSettings:
    """The deadline targets: first response in minutes, resolution in business hours;
    and the address overdue cases are escalated to (kept as it is when not given)."""
    errors: dict[str, Text] = {}
    first = typed.get("first_response_minutes", "").strip()
    hours = typed.get("resolution_hours", "").strip()
    if not first.isdigit() or not 1 <= int(first) <= 24 * 60:
        errors["first_response_minutes"] = Text(
            "Write the first response as whole minutes, 1 to 1440.", "server"
        )
    if not hours.isdigit() or not 1 <= int(hours) <= 500:
        errors["resolution_hours"] = Text(
            "Write the resolution as whole business hours, 1 to 500.", "server"
        )
    email = typed.get("escalation_email")
    if email is not None and email.strip():
        local, _at, domain = email.strip().partition("@")
        if not local or "." not in domain or " " in email.strip() or len(email.strip()) > 254:
            errors["escalation_email"] = Text(
                "Write an e-mail address, e.g. name@shop.com.", "server"
            )
    if errors:
        raise SettingsRefused(errors)
    row = complaint_settings(session)
    row.first_response_minutes = int(first)
    row.resolution_minutes = int(hours) * 60
    if email is not None:
        row.escalation_email = email.strip()
    return row
