"""The shop's capacity inputs, as managers keep them: the rules (VIP share and cut-off,
no-show grace, holiday country), the bays, the technicians' specialities and working
hours per weekday, and their absences from one day to another.

Every change is checked first; a refused one raises :class:`SettingsError` with a
message per field and writes nothing, so the page can show the form again as typed.
No Flask here: the settings blueprint (``sync_server.web.capacity_settings``) calls it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from babel import Locale
from babel.dates import get_day_names
from holidays.registry import EntityLoader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.i18n import Text, plural_text
from sync_server.appointment_tables import (
    AppointmentPlan,
    AppointmentSettings,
    ServiceBay,
    TechnicianAbsence,
    TechnicianHours,
)
from sync_server.back_office_tables import Technician
from sync_server.shop_tables import Shop
from sync_server.visit_tables import Appointment

SPECIALITIES: dict[str, Text] = {
    "maintenance": Text("Maintenance", "server"),
    "engine": Text("Engine", "server"),
    "brakes": Text("Brakes", "server"),
    "tyres": Text("Tyres", "server"),
    "electrics": Text("Electrics", "server"),
    "air_conditioning": Text("Air conditioning", "server"),
    "body": Text("Body and paint", "server"),
}
VIP_SHARE_RANGE = (0, 80)
VIP_CUTOFF_RANGE = (0, 336)
GRACE_RANGE = (5, 240)
LONGEST_ABSENCE_DAYS = 366
ACTIVE_STATES = ("booked", "arrived")
_HOURS = re.compile(r"^\s*(\d{1,2}[:：]\d{2})\s*[-–—~～至]\s*(\d{1,2}[:：]\d{2})\s*$")


class SettingsError(ValueError):
    """What is wrong with a change, per form field; nothing of it was written."""

    def __init__(self, errors: Mapping[str, Text]) -> None:
        super().__init__("; ".join(text.render("en") for text in errors.values()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class CapacityRules:
    vip_share: float
    vip_cutoff: timedelta
    no_show_grace_minutes: int
    holiday_country: str


def _default_country(session: Session) -> str:
    shop = session.get(Shop, 1)
    region = (shop.phone_region if shop else "") or ""
    return region.upper() if len(region) == 2 and region.upper() in countries() else "CN"


def capacity_rules(session: Session) -> CapacityRules:
    """The rules in force (the defaults until a manager saved them)."""
    row = session.get(AppointmentSettings, 1)
    if row is None:
        return CapacityRules(0.2, timedelta(hours=24), 30, _default_country(session))
    return CapacityRules(
        row.vip_share_percent / 100,
        timedelta(hours=row.vip_cutoff_hours),
        row.no_show_grace_minutes,
        row.holiday_country,
    )


def rules_row(session: Session) -> AppointmentSettings:
    """The settings row, with the defaults in place when none was saved yet (not added)."""
    row = session.get(AppointmentSettings, 1)
    if row is None:
        row = AppointmentSettings(
            id=1,
            vip_share_percent=20,
            vip_cutoff_hours=24,
            no_show_grace_minutes=30,
            holiday_country=_default_country(session),
        )
    return row


@cache
def countries() -> frozenset[str]:
    """The countries whose public holidays the ``holidays`` package keeps (its registry's
    codes: ``holidays.list_supported_countries`` would import every country's module,
    about half a second, to list their subdivisions, which the shop never picks)."""
    return frozenset(code for code in EntityLoader.get_country_codes() if len(code) == 2)


@cache
def country_names(language: str) -> tuple[tuple[str, str], ...]:
    """(code, name) of every country with holidays, named in ``language`` (Babel's CLDR)."""
    territories = Locale.parse(language).territories
    return tuple(
        sorted(
            ((code, territories.get(code, code)) for code in countries()),
            key=lambda pair: pair[1],
        )
    )


def weekday_names(language: str) -> list[str]:
    """Monday to Sunday in ``language``."""
    names = get_day_names("wide", locale=Locale.parse(language))
    return [names[weekday] for weekday in range(7)]


def _whole(text: str, low: int, high: int) -> int | None:
    text = (text or "").strip()
    if not re.fullmatch(r"\d{1,4}", text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def save_rules(session: Session, form: Mapping[str, str], user_id: int | None) -> None:
    """Check and save the VIP share and cut-off, the no-show grace and holiday country."""
    errors: dict[str, Text] = {}
    share = _whole(form.get("vip_share_percent", ""), *VIP_SHARE_RANGE)
    if share is None:
        errors["vip_share_percent"] = Text(
            "The VIP share is a whole percent from {low} to {high}.",
            "server",
            {"low": VIP_SHARE_RANGE[0], "high": VIP_SHARE_RANGE[1]},
        )
    cutoff = _whole(form.get("vip_cutoff_hours", ""), *VIP_CUTOFF_RANGE)
    if cutoff is None:
        errors["vip_cutoff_hours"] = Text(
            "The VIP cut-off is a whole number of hours from {low} to {high}.",
            "server",
            {"low": VIP_CUTOFF_RANGE[0], "high": VIP_CUTOFF_RANGE[1]},
        )
    grace = _whole(form.get("no_show_grace_minutes", ""), *GRACE_RANGE)
    if grace is None:
        errors["no_show_grace_minutes"] = Text(
            "The no-show grace period is a whole number of minutes from {low} to {high}.",
            "server",
            {"low": GRACE_RANGE[0], "high": GRACE_RANGE[1]},
        )
    country = (form.get("holiday_country") or "").strip().upper()
    if country not in countries():
        errors["holiday_country"] = Text("Choose a country from the list.", "server")
    if errors:
        raise SettingsError(errors)
    assert share is not None and cutoff is not None and grace is not None
    row = rules_row(session)
    row.vip_share_percent, row.vip_cutoff_hours = share, cutoff
    row.no_show_grace_minutes, row.holiday_country = grace, country
    row.updated_by_user_id = user_id
    session.add(row)
    session.flush()


# -- bays -----------------------------------------------------------------------------


def _bay_name(session: Session, name: str, keep: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 40:
        raise SettingsError({"name": Text("A bay's name has 1 to 40 characters.", "server")})
    same = session.scalar(select(ServiceBay.id).where(func.lower(ServiceBay.name) == name.lower()))
    if same is not None and same != keep:
        raise SettingsError({"name": Text("A bay with this name already exists.", "server")})
    return name


def _bay(session: Session, bay_id: int) -> ServiceBay:
    bay = session.get(ServiceBay, bay_id)
    if bay is None:
        raise SettingsError({"bay": Text("This bay no longer exists.", "server")})
    return bay


def add_bay(session: Session, name: str) -> ServiceBay:
    bay = ServiceBay(name=_bay_name(session, name), active=True)
    session.add(bay)
    session.flush()
    return bay


def rename_bay(session: Session, bay_id: int, name: str) -> ServiceBay:
    bay = _bay(session, bay_id)
    bay.name = _bay_name(session, name, keep=bay_id)
    session.flush()
    return bay


def bookings_ahead(
    session: Session, now: datetime, *, bay_id: int | None = None, technician_id: int | None = None
) -> list[tuple[Appointment, AppointmentPlan]]:
    """Active bookings of a bay or technician that end after ``now``."""
    query = (
        select(Appointment, AppointmentPlan)
        .join(AppointmentPlan, AppointmentPlan.appointment_id == Appointment.id)
        .where(AppointmentPlan.state.in_(ACTIVE_STATES), AppointmentPlan.ends_at > now)
        .order_by(AppointmentPlan.starts_at)
    )
    if bay_id is not None:
        query = query.where(AppointmentPlan.bay_id == bay_id)
    if technician_id is not None:
        query = query.where(AppointmentPlan.technician_id == technician_id)
    return [(row[0], row[1]) for row in session.execute(query)]


def set_bay_active(session: Session, bay_id: int, active: bool, now: datetime) -> ServiceBay:
    """Retire a bay (no new bookings; its past bookings stay) or bring it back. A bay with
    bookings still ahead cannot be retired until they are moved."""
    bay = _bay(session, bay_id)
    if not active:
        ahead = bookings_ahead(session, now, bay_id=bay_id)
        if ahead:
            raise SettingsError(
                {
                    "bay": plural_text(
                        "{bay} has {count} booking still ahead: move it to another bay "
                        "before retiring it.",
                        "{bay} has {count} bookings still ahead: move them to another bay "
                        "before retiring it.",
                        len(ahead),
                        "server",
                        bay=bay.name,
                        count=len(ahead),
                    )
                }
            )
    bay.active = active
    session.flush()
    return bay


def delete_bay(session: Session, bay_id: int) -> None:
    """Delete a bay entered by mistake; one that was ever booked is only retired."""
    bay = _bay(session, bay_id)
    booked = session.scalar(
        select(func.count()).select_from(AppointmentPlan).where(AppointmentPlan.bay_id == bay_id)
    )
    if booked:
        raise SettingsError(
            {
                "bay": Text(
                    "{bay} has bookings and is kept with them: retire it instead.",
                    "server",
                    {"bay": bay.name},
                )
            }
        )
    session.delete(bay)
    session.flush()


# -- technicians ------------------------------------------------------------------------


def parse_hours(text: str) -> tuple[time, time] | None:
    """``"08:30-17:30"`` (also ``8:30 – 17:30``, ``08:30~17:30``); ``None`` when blank.
    Raises ``ValueError`` when it cannot be read or ends before it starts."""
    if not (text or "").strip():
        return None
    match = _HOURS.match(text)
    if match is None:
        raise ValueError(text)
    starts, ends = (time.fromisoformat(part.replace("：", ":").zfill(5)) for part in match.groups())
    if ends <= starts:
        raise ValueError(text)
    return starts, ends


def hours_by_weekday(session: Session, technician_ids: Sequence[int]) -> dict[int, dict[int, str]]:
    """Each technician's hours as the form shows them: ``{tech: {weekday: "08:30-17:30"}}``."""
    found: dict[int, dict[int, str]] = {tech: {} for tech in technician_ids}
    if not technician_ids:
        return found
    for row in session.scalars(
        select(TechnicianHours).where(TechnicianHours.technician_id.in_(list(technician_ids)))
    ):
        found.setdefault(row.technician_id, {})[row.weekday] = (
            f"{row.starts:%H:%M}-{row.ends:%H:%M}"
        )
    return found


def save_technician(
    session: Session,
    technician_id: int,
    name: str,
    specialities: Sequence[str],
    hours_text: Mapping[int, str],
) -> Technician:
    """A technician's name, specialities and weekly hours (all blank: the shop's hours)."""
    person = session.get(Technician, technician_id)
    errors: dict[str, Text] = {}
    if person is None:
        raise SettingsError({"technician": Text("This technician no longer exists.", "server")})
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        errors["name"] = Text("A technician's name has 1 to 120 characters.", "server")
    chosen = [key for key in SPECIALITIES if key in specialities]
    if not chosen:
        errors["specialities"] = Text("Choose at least one speciality.", "server")
    parsed: dict[int, tuple[time, time]] = {}
    for weekday in range(7):
        try:
            hours = parse_hours(hours_text.get(weekday, ""))
        except ValueError:
            errors[f"hours_{weekday}"] = Text(
                "Write the hours like 08:30-17:30 (leave empty for a day off).", "server"
            )
            continue
        if hours is not None:
            parsed[weekday] = hours
    if errors:
        raise SettingsError(errors)
    person.name, person.specialities = name, chosen
    for row in session.scalars(
        select(TechnicianHours).where(TechnicianHours.technician_id == technician_id)
    ):
        session.delete(row)
    session.flush()
    for weekday, (starts, ends) in parsed.items():
        session.add(
            TechnicianHours(technician_id=technician_id, weekday=weekday, starts=starts, ends=ends)
        )
    session.flush()
    return person


def set_technician_active(
    session: Session, technician_id: int, active: bool, now: datetime
) -> Technician:
    person = session.get(Technician, technician_id)
    if person is None:
        raise SettingsError({"technician": Text("This technician no longer exists.", "server")})
    if not active:
        ahead = bookings_ahead(session, now, technician_id=technician_id)
        if ahead:
            raise SettingsError(
                {
                    "technician": plural_text(
                        "{name} has {count} booking still ahead: move it to someone else first.",
                        "{name} has {count} bookings still ahead: move them to someone else first.",
                        len(ahead),
                        "server",
                        name=person.name,
                        count=len(ahead),
                    )
                }
            )
    person.active = active
    session.flush()
    return person


# -- absences ---------------------------------------------------------------------------


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def add_absence(
    session: Session,
    form: Mapping[str, str],
    user_id: int | None,
    zone: object,
) -> tuple[TechnicianAbsence, list[tuple[Appointment, AppointmentPlan]]]:
    """Record an absence; returns it with the bookings of that technician in those days
    (the desk must move them: the absence does not cancel anything)."""
    errors: dict[str, Text] = {}
    technician_id = int(form["technician"]) if (form.get("technician") or "").isdigit() else 0
    person = session.get(Technician, technician_id) if technician_id else None
    if person is None:
        errors["technician"] = Text("Choose the technician.", "server")
    first, last = _day(form.get("first_day", "")), _day(form.get("last_day", ""))
    if first is None:
        errors["first_day"] = Text("Give the first day of the absence.", "server")
    if last is None:
        errors["last_day"] = Text("Give the last day of the absence.", "server")
    if first and last and last < first:
        errors["last_day"] = Text("The last day cannot be before the first day.", "server")
    elif first and last and (last - first).days >= LONGEST_ABSENCE_DAYS:
        errors["last_day"] = Text(
            "An absence lasts at most a year; retire a technician who left.", "server"
        )
    reason = " ".join((form.get("reason") or "").split())
    if len(reason) > 120:
        errors["reason"] = Text("The reason has at most 120 characters.", "server")
    if not errors and first and last:
        overlap = session.scalar(
            select(TechnicianAbsence).where(
                TechnicianAbsence.technician_id == technician_id,
                TechnicianAbsence.first_day <= last,
                TechnicianAbsence.last_day >= first,
            )
        )
        if overlap is not None:
            errors["first_day"] = Text(
                "This overlaps an absence already entered ({first} to {last}).",
                "server",
                {"first": overlap.first_day.isoformat(), "last": overlap.last_day.isoformat()},
            )
    if errors:
        raise SettingsError(errors)
    assert first is not None and last is not None
    absence = TechnicianAbsence(
        technician_id=technician_id,
        first_day=first,
        last_day=last,
        reason=reason,
        created_by_user_id=user_id,
    )
    session.add(absence)
    session.flush()
    start = datetime.combine(first, time.min, zone).astimezone(UTC)  # type: ignore[arg-type]
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC)  # type: ignore[arg-type]
    clashes = [
        (appointment, plan)
        for appointment, plan in bookings_ahead(session, start, technician_id=technician_id)
        if plan.starts_at < end
    ]
    return absence, clashes


def delete_absence(session: Session, absence_id: int) -> None:
    absence = session.get(TechnicianAbsence, absence_id)
    if absence is not None:
        session.delete(absence)
        session.flush()


def absences_from(session: Session, day: date) -> list[TechnicianAbsence]:
    """Absences that end on ``day`` or later, first first."""
    return list(
        session.scalars(
            select(TechnicianAbsence)
            .where(TechnicianAbsence.last_day >= day)
            .order_by(TechnicianAbsence.first_day, TechnicianAbsence.id)
        )
    )
