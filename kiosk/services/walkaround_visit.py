"""What the tablet's walk-around reads of a visit besides its sheet (no Kivy here).

The visit, its customer and its car for the screens' header (:func:`visit_header`),
damage recorded at earlier visits of the same car (:class:`EarlierMark`), and the
signature state of many visits' sheets at once for the queue
(:func:`signed_sheet_states`). Records are read strictly (``shared.wire``); one that
does not read (half-synced, or from a newer app) is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kiosk.services.local_store import LocalStore
from shared.domain import ConcernCode, DamageMark, concern_label
from shared.validation import format_plate
from shared.walkaround_report import SignatureState, assemble
from shared.wire import WireError, from_wire


def read_record(kind: str, fields: dict[str, Any]) -> Any | None:
    """The record of ``kind`` in these fields, or None when they do not read."""
    try:
        return from_wire(kind, fields)
    except WireError:
        return None  # half-synced or from a newer app: nothing to show or sign here


def read_records(kind: str, found: Iterable[dict[str, Any]]) -> list[Any]:
    """Every record of ``kind`` among ``found`` that reads."""
    return [record for fields in found if (record := read_record(kind, fields)) is not None]


@dataclass(frozen=True)
class EarlierMark:
    """Damage recorded at an earlier visit of the same car (shown, not signed again)."""

    mark: DamageMark
    visit_id: str
    checked_in_at: str  # ISO time of that visit, for "seen on 12 May"


@dataclass(frozen=True)
class VisitHeader:
    """What the walk-around screens show of the visit: whose car, and why it is here."""

    visit_id: str
    ticket_number: str = ""
    plate: str = ""
    customer_name: str = ""
    car: str = ""
    concern_codes: tuple[str, ...] = ()
    concern_text: str = ""
    status: str = ""

    @property
    def first_name(self) -> str:
        """How the advisor addresses the customer: the first word of the name as
        entered ("Zhang" of "Zhang Wei", "Tom" of "Tom Becker"); a Chinese name written
        without spaces is kept whole (splitting off a surname would often be wrong)."""
        words = self.customer_name.split()
        return words[0] if words else ""

    def concern(self, lang: str) -> str:
        """The customer's concern in ``lang``: the tiles they chose, then their words."""
        parts = []
        for code in self.concern_codes:
            try:
                parts.append(concern_label(ConcernCode(code)).render(lang))
            except ValueError:
                parts.append(code)
        text = " · ".join(parts)
        if self.concern_text:
            text = f"{text} — {self.concern_text}" if text else self.concern_text
        return text


def visit_header(store: LocalStore, visit_id: str) -> VisitHeader:
    """The visit, its customer and its car as this tablet knows them (pulled or made here)."""
    visit = store.get("visit", visit_id) or {}
    customer = store.get("customer", str(visit.get("customer_id", ""))) or {}
    vehicle = store.get("vehicle", str(visit.get("vehicle_id", ""))) or {}
    car = " ".join(str(vehicle[name]) for name in ("make", "model", "year") if vehicle.get(name))
    plate = str(vehicle.get("plate", "") or "")
    return VisitHeader(
        visit_id=visit_id,
        ticket_number=str(visit.get("ticket_number", "") or ""),
        plate=format_plate(plate) if plate else "",
        customer_name=str(customer.get("name", "") or ""),
        car=car,
        concern_codes=tuple(str(code) for code in visit.get("concern_codes") or ()),
        concern_text=str(visit.get("concern_text", "") or ""),
        status=str(visit.get("status", "") or ""),
    )


def earlier_damage(
    store: LocalStore, visit_id: str, vehicle_id: str | None
) -> tuple[list[EarlierMark], int | None]:
    """Damage marks of earlier visits of this car, and the highest odometer seen then."""
    if not vehicle_id:
        return [], None
    earlier: list[EarlierMark] = []
    readings: list[int] = []
    vehicle = store.get("vehicle", vehicle_id) or {}
    if isinstance(vehicle.get("last_mileage_km"), int):
        readings.append(vehicle["last_mileage_km"])
    for visit in store.find("visit", vehicle_id=vehicle_id):
        if visit["id"] == visit_id:
            continue
        for fields in store.find("walkaround", visit_id=visit["id"]):
            if isinstance(fields.get("odometer_km"), int):
                readings.append(fields["odometer_km"])
            for mark_fields in store.find("damage_mark", walkaround_id=fields["id"]):
                mark = read_record("damage_mark", mark_fields)
                if mark is not None and not mark.deleted:
                    earlier.append(EarlierMark(mark, visit["id"], visit.get("checked_in_at", "")))
    earlier.sort(key=lambda item: (item.checked_in_at, item.mark.id))
    return earlier, max(readings) if readings else None


def signed_sheet_states(store: LocalStore, visit_ids: Sequence[str]) -> dict[str, SignatureState]:
    """Each visit's :class:`SignatureState` as ``WalkaroundSheet.open`` would find it, for
    many visits at once, with one indexed query per kind of record (the queue's progress
    column), put together as everywhere (``shared.walkaround_report``). Visits without a
    walk-around are left out."""
    walkarounds = read_records("walkaround", store.find_in("walkaround", "visit_id", visit_ids))
    visits = sorted({walkaround.visit_id for walkaround in walkarounds})
    marks = read_records(
        "damage_mark",
        store.find_in("damage_mark", "walkaround_id", [w.id for w in walkarounds]),
    )
    photos = read_records("photo", store.find_in("photo", "visit_id", visits))
    signatures = read_records("signature", store.find_in("signature", "visit_id", visits))
    return {
        visit_id: assemble(visit_id, walkarounds, marks, photos, signatures).state
        for visit_id in visits
    }
