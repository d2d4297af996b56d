"""Finding today's appointment on a lobby kiosk, offline, by what the customer types.

The kiosk holds, per appointment, a random salt and slow scrypt hashes of the phone,
plate and code (``shared.lookup``), and no name, phone, plate or key: what was typed is
checked, normalised, hashed with each appointment's salt and compared. A match is shown
with what the customer typed, masked ("138****5678"); an appointment already used for a
check-in (on this kiosk, or anywhere as the server's snapshot says) gives its ticket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from kiosk.services.local_store import LocalStore
from shared.domain import ConcernCode
from shared.i18n import Text
from shared.lookup import matching
from shared.masking import mask_phone, mask_plate
from shared.shop_time import shop_time_text, zone_or_local
from shared.validation import FieldIssue, check_phone, check_plate

NO_APPOINTMENT_FOUND = Text(
    "We could not find an appointment for today with this. Check what you typed, or "
    "check in as a new visit.",
    "kiosk",
)
CODE_TOO_SHORT = Text("An appointment code has 6 characters.", "kiosk")


class LookupKind(StrEnum):
    code = "code"
    phone = "phone"
    plate = "plate"


@dataclass(frozen=True)
class AppointmentMatch:
    """One of today's appointments as a kiosk may show it: masked."""

    appointment_id: str
    customer_id: str
    vehicle_id: str
    customer_name_masked: str
    plate_masked: str
    phone_masked: str
    vehicle_make: str
    vehicle_model: str
    requested_work: str
    concern_codes: tuple[str, ...]
    expected_arrival: str
    expected_duration_minutes: int
    code: str = ""  # the appointment code, when that is what the customer typed

    @property
    def vehicle(self) -> str:
        return " ".join(part for part in (self.vehicle_make, self.vehicle_model) if part)

    @property
    def shown_as(self) -> str:
        """What the customer typed to find it, masked: all a kiosk may show of them."""
        return self.phone_masked or self.plate_masked or self.code

    @property
    def arrival_at(self) -> datetime | None:
        """The booked time (aware), or None; shown on the shop's clock."""
        try:
            when = datetime.fromisoformat(self.expected_arrival.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo is not None else None

    def arrival_time(self, zone: str = "") -> str:
        """The booked time of day on the shop's clock ("09:30"), or ""."""
        return shop_time_text(self.arrival_at, zone_or_local(zone))

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> AppointmentMatch:
        return cls(
            appointment_id=str(record["id"]),
            customer_id=str(record.get("customer_id") or ""),
            vehicle_id=str(record.get("vehicle_id") or ""),
            customer_name_masked=str(record.get("customer_name_masked") or ""),
            plate_masked=str(record.get("plate_masked") or ""),
            phone_masked=str(record.get("phone_masked") or ""),
            vehicle_make=str(record.get("vehicle_make") or ""),
            vehicle_model=str(record.get("vehicle_model") or ""),
            requested_work=str(record.get("requested_work") or ""),
            concern_codes=tuple(
                code
                for code in record.get("concern_codes") or ()
                if code in ConcernCode.__members__.values()
            ),
            expected_arrival=str(record.get("expected_arrival") or ""),
            expected_duration_minutes=int(record.get("expected_duration_minutes") or 60),
            code=str(record.get("code") or ""),
        )


@dataclass(frozen=True)
class LookupResult:
    """Appointments found for what was typed, or the reason nothing could be looked up."""

    matches: tuple[AppointmentMatch, ...] = ()
    issues: tuple[FieldIssue, ...] = ()

    @property
    def found(self) -> bool:
        return bool(self.matches)


def find_appointments(
    store: LocalStore,
    kind: LookupKind,
    typed: str,
    phone_region: str = "CN",
    plate_region: str = "CN",
) -> LookupResult:
    """Today's appointments (synced to this kiosk) matching ``typed`` exactly.

    The kiosk holds only slow salted hashes (``shared.lookup``): what was typed is
    hashed with each appointment's salt. A match is shown with what the customer
    typed, masked; an appointment already used for a check-in gives its ticket.
    """
    if kind is LookupKind.phone:
        checked = check_phone(typed, _region(phone_region), field="phone")
        if not checked.ok:
            return LookupResult(issues=checked.issues)
        value = checked.value or ""
    elif kind is LookupKind.plate:
        checked_plate = check_plate(typed, _region(plate_region), field="plate")
        if not checked_plate.ok:
            return LookupResult(issues=checked_plate.issues)
        value = checked_plate.value or ""
    else:
        value = typed.replace("-", "").replace(" ", "").upper()
        if len(value) < 6:
            return LookupResult(issues=(_issue("code", "code_too_short", CODE_TOO_SHORT),))
    records = [record for record in store.find("appointment") if not record.get("deleted")]
    hits = matching(
        [
            (str(record.get("lookup_salt") or ""), str(record.get(f"{kind.value}_hash") or ""))
            for record in records
        ],
        kind.value,
        value,
    )
    found = sorted(
        (record for record, hit in zip(records, hits, strict=True) if hit),
        key=lambda record: str(record.get("expected_arrival") or ""),
    )
    shown = {
        LookupKind.phone: {"phone_masked": mask_phone(value)},
        LookupKind.plate: {"plate_masked": mask_plate(value)},
        LookupKind.code: {"code": value},
    }[kind]
    tickets = {record["id"]: used_ticket(store, record) for record in found}
    matches = tuple(
        AppointmentMatch.from_record(record | shown)
        for record in found
        if not tickets[record["id"]]
    )
    if not matches and found:
        ticket = next(ticket for ticket in tickets.values() if ticket)
        return LookupResult(
            issues=(
                _issue(
                    kind.value,
                    "already_checked_in",
                    Text(
                        "You are already checked in — ticket {ticket}.",
                        "kiosk",
                        {"ticket": ticket},
                    ),
                ),
            )
        )
    if not matches:
        return LookupResult(
            issues=(_issue(kind.value, "appointment_not_found", NO_APPOINTMENT_FOUND),)
        )
    return LookupResult(matches=matches)


def used_ticket(store: LocalStore, appointment: dict[str, Any]) -> str:
    """The ticket of the check-in this appointment was used for, or "" if unused:
    checked in on this kiosk (its own visits), or anywhere (the server says so)."""
    for visit in store.find("visit", appointment_id=appointment["id"]):
        if visit.get("ticket_number"):
            return str(visit["ticket_number"])
    return str(appointment.get("checked_in_ticket") or "")


def _region(setting: str) -> Any:
    return "generic" if setting == "generic" else "CN"


def _issue(field_name: str, code: str, message: Text) -> FieldIssue:
    return FieldIssue(field=field_name, code=code, message=message, severity="error")
