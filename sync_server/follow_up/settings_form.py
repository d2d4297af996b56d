"""The managers' reminder settings, checked field by field: every bad value gets its own
message and nothing is saved until all are right (what was typed is shown again)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.follow_up.rules import follow_up_settings
from sync_server.follow_up.tables import BookingRequest, ServiceInterval

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
NUMBERS = {
    "budget_count": (1, 10),
    "budget_days": (1, 90),
    "lead_days": (0, 60),
    "overdue_days": (0, 365),
}
SWITCHES = ("birthday_greetings", "holiday_greetings", "deferred_reminders")


def _whole(text: str, low: int, high: int) -> int | Text:
    try:
        value = int(text.strip())
    except ValueError:
        return Text("Type a whole number.", "server")
    if not low <= value <= high:
        return Text("Between {low} and {high}.", "server", {"low": low, "high": high})
    return value


def save_settings(session: Session, form: Mapping[str, str]) -> dict[str, Text]:
    """Save the rules from the settings form; the errors by field (nothing saved then)."""
    errors: dict[str, Text] = {}
    values: dict[str, object] = {}
    for name, (low, high) in NUMBERS.items():
        checked = _whole(form.get(name, ""), low, high)
        if isinstance(checked, Text):
            errors[name] = checked
        else:
            values[name] = checked
    for name in ("quiet_from", "quiet_until"):
        text = form.get(name, "").strip()
        if not HHMM.match(text):
            errors[name] = Text("A time like 21:00.", "server")
        values[name] = text
    if errors:
        return errors
    settings = follow_up_settings(session)
    for name, value in values.items():
        setattr(settings, name, value)
    for name in SWITCHES:
        setattr(settings, name, form.get(name) == "on")
    return {}


def intervals(session: Session) -> list[ServiceInterval]:
    return list(session.scalars(select(ServiceInterval).order_by(ServiceInterval.id)))


def save_interval(session: Session, interval_id: int, form: Mapping[str, str]) -> dict[str, Text]:
    """Save one service type's months and kilometres (either may be empty, not both)."""
    row = session.get(ServiceInterval, interval_id)
    if row is None:
        return {"interval": Text("This service type no longer exists.", "server")}
    errors: dict[str, Text] = {}
    parsed: dict[str, int | None] = {}
    for name, (low, high) in (("months", (1, 120)), ("km", (500, 200_000))):
        text = form.get(name, "").strip().replace(",", "")
        if not text:
            parsed[name] = None
            continue
        checked = _whole(text, low, high)
        if isinstance(checked, Text):
            errors[name] = checked
        else:
            parsed[name] = checked
    if not errors and parsed.get("months") is None and parsed.get("km") is None:
        errors["months"] = Text("Give months, kilometres or both.", "server")
    if errors:
        return errors
    row.months, row.km = parsed["months"], parsed["km"]
    row.active = form.get("active") == "on"
    return {}


def open_requests(session: Session) -> list[BookingRequest]:
    return list(
        session.scalars(
            select(BookingRequest)
            .where(BookingRequest.handled_at.is_(None))
            .order_by(BookingRequest.preferred_day, BookingRequest.id)
        )
    )


PARTS_OF_DAY: Mapping[str, Text] = {
    "morning": Text("Morning", "server"),
    "afternoon": Text("Afternoon", "server"),
    "any": Text("Any time", "server"),
}


# Appointment requests one reminder's link may send in a day: enough for a customer who
# changes their mind, too few for a link passed around (or a script) to bury the desk's list.
REQUESTS_PER_LINK = 3
REQUEST_WINDOW = timedelta(days=1)


def request_allowed(session: Session, contact_id: int, now: datetime) -> bool:
    """Whether the link of ``contact_id`` may send another appointment request now."""
    recent = session.scalar(
        select(func.count()).where(
            BookingRequest.contact_id == contact_id,
            BookingRequest.created_at > now - REQUEST_WINDOW,
        )
    )
    return int(recent or 0) < REQUESTS_PER_LINK


def check_request(
    form: Mapping[str, str], today: date
) -> tuple[dict[str, object], dict[str, Text]]:
    """An appointment request from a reminder's link: the work, a day from tomorrow on
    (within 90 days), a part of the day, a note."""
    errors: dict[str, Text] = {}
    work = form.get("work", "").strip()
    if not work:
        errors["work"] = Text("Say what the car needs.", "server")
    elif len(work) > 500:
        errors["work"] = Text("At most 500 characters.", "server")
    day: date | None = None
    try:
        day = date.fromisoformat(form.get("day", "").strip())
    except ValueError:
        errors["day"] = Text("Choose a day.", "server")
    if day is not None and not 0 < (day - today).days <= 90:
        errors["day"] = Text("Choose a day from tomorrow to 90 days ahead.", "server")
    part = form.get("part_of_day", "any")
    if part not in PARTS_OF_DAY:
        errors["part_of_day"] = Text("Choose a part of the day.", "server")
    note = form.get("note", "").strip()
    if len(note) > 1000:
        errors["note"] = Text("At most 1000 characters.", "server")
    return {"work": work, "day": day, "part_of_day": part, "note": note}, errors
