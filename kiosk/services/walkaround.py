"""The advisor's walk-around (环车检查) of one visit, on the tablet: the check-in sheet.

:class:`WalkaroundSheet` is the working state behind the walk-around screens: odometer,
fuel, warning lights, belongings, notes, tyre tread, damage marks on the car diagram,
photos pinned to marks, and the customer's signature under a summary. No Kivy here; the
screens call these methods and show what they return.

How it is kept (docs/sync.md):

* The walk-around record carries its own fields only. Each damage mark and each photo
  is a record of its own (``damage_mark`` with ``walkaround_id``, ``photo`` with
  ``visit_id`` and ``walkaround_id``), so two tablets' marks merge by union. A mark
  taken back is kept with ``deleted: true`` (a tombstone).
* :meth:`WalkaroundSheet.save` writes every changed record in one transaction
  (``LocalStore.save_many``), the walk-around before its marks and photos, each photo's
  file (and a signature's picture) already in the blob store.
* The signature is bound to the report: ``signed_sha256`` is
  ``Walkaround.report_sha256()`` of exactly what the customer saw. Any edit after the
  customer signed raises the sheet's ``version`` first, so the old signature visibly no
  longer covers it and the customer is asked to sign the new version.
* Damage recorded at earlier visits of the same car is loaded from the records the
  tablet pulled, as :class:`EarlierMark`, for the diagram to show differently. It is not
  part of this sheet unless the advisor carries it over (:meth:`carry_over`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from kiosk.services.local_store import LocalStore, RecordChange
from kiosk.services.local_store.blobs import UnfinishedSave
from kiosk.services.photos import (
    DEFAULT_SETTINGS,
    PhotoSettings,
    PreparedPhoto,
    StoredPhoto,
    store_photo,
    take_photo_into,
)
from kiosk.services.signature_image import IMAGE_HEIGHT, IMAGE_WIDTH, render_signature_png
from shared.domain import (
    TYRE_POSITIONS,
    ConcernCode,
    DamageMark,
    DamageType,
    DiagramView,
    ImageType,
    PhotoPin,
    PhotoRef,
    Signature,
    SignaturePurpose,
    StrokePoint,
    VisitPhoto,
    Walkaround,
    concern_label,
    damage_label,
    label,
    utcnow,
)
from shared.i18n import Text
from shared.validation import FieldIssue, check_mileage, format_plate
from shared.visit_status import VisitStatus
from shared.wire import WireError, from_wire, to_wire

# Codes of the warning lights the sheet offers (the screen shows a symbol for each).
WARNING_LIGHTS: dict[str, Text] = {
    "engine": Text("Check engine", "kiosk"),
    "abs": Text("ABS", "kiosk"),
    "airbag": Text("Airbag", "kiosk"),
    "oil": Text("Oil pressure", "kiosk"),
    "battery": Text("Battery", "kiosk"),
    "brake": Text("Brake system", "kiosk"),
    "tyre_pressure": Text("Tyre pressure", "kiosk"),
    "coolant": Text("Coolant temperature", "kiosk"),
}

TYRES: dict[str, Text] = {
    "fl": Text("Front left", "kiosk"),
    "fr": Text("Front right", "kiosk"),
    "rl": Text("Rear left", "kiosk"),
    "rr": Text("Rear right", "kiosk"),
}

BELONGINGS: dict[str, Text] = {
    "spare_wheel": Text("Spare wheel", "kiosk"),
    "jack": Text("Jack and tools", "kiosk"),
    "documents": Text("Vehicle documents", "kiosk"),
    "valuables": Text("Valuables", "kiosk"),
    "child_seat": Text("Child seat", "kiosk"),
}

NOT_FOUND = Text("This damage mark is not on the sheet any more.", "kiosk")
TOO_LITTLE_INK = Text("Please sign with your name; a dot or a tap is not enough.", "kiosk")
UNKNOWN_LIGHT = Text("Unknown warning light.", "kiosk")
BAD_FUEL = Text("The fuel level is given in eighths, from 0 (empty) to 8 (full).", "kiosk")
BAD_TREAD = Text("Tread depth is between 0 and 30 mm.", "kiosk")
NOT_A_DEPTH = Text("Type the tread depth in millimetres as a number, e.g. 3.5.", "kiosk")
BAD_SPOT = Text("The spot must be on the drawing or the photo.", "kiosk")
BAD_SEVERITY = Text("The grade is 1 (light), 2 (clearly visible) or 3 (severe).", "kiosk")
BAD_KEYS = Text("The number of keys cannot be negative.", "kiosk")
NOT_SIGNED = Text(
    "The customer has not signed this version of the sheet yet: ask them to sign first.",
    "kiosk",
)


class SheetRefused(ValueError):
    """An edit the sheet cannot take; ``issues`` says why, in both languages."""

    def __init__(self, issues: Sequence[FieldIssue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(f"{i.field}: {i.message.render('en')}" for i in self.issues))


def _refuse(field: str, code: str, message: Text) -> SheetRefused:
    return SheetRefused([FieldIssue(field=field, code=code, message=message)])


class SignatureState(StrEnum):
    """Whether the customer's signature covers the sheet as it is now."""

    signed_unchanged = "signed_unchanged"
    changed_after_signing = "changed_after_signing"
    unsigned = "unsigned"


@dataclass(frozen=True)
class EarlierMark:
    """Damage recorded at an earlier visit of the same car (shown, not signed again)."""

    mark: DamageMark
    visit_id: str
    checked_in_at: str  # ISO time of that visit, for "seen on 12 May"


@dataclass(frozen=True)
class SummaryLine:
    """One line of what the customer signs under: a label and its value, bilingual."""

    label: Text
    parts: tuple[str | Text | TreadDepth, ...]
    separator: str = " · "

    def render(self, lang: str) -> tuple[str, str]:
        """(label, value) in ``lang``."""
        value = self.separator.join(
            part if isinstance(part, str) else part.render(lang) for part in self.parts
        )
        return self.label.render(lang), value


@dataclass(frozen=True)
class TreadDepth:
    """One tyre's tread on the summary: "Front left 3.2 mm" in the reader's language."""

    position: str
    depth_mm: float

    def render(self, lang: str) -> str:
        return f"{TYRES[self.position].render(lang)} {self.depth_mm:.1f} mm"


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


def signature_state(walkaround: Walkaround, signatures: Iterable[Signature]) -> SignatureState:
    """The state of the latest check-in sheet signature against ``walkaround`` now.

    The same rule as the server's ``sync_server.walkarounds.signature_state``.
    """
    sheet_signatures = [
        signature
        for signature in signatures
        if signature.purpose == SignaturePurpose.checkin_sheet
        and signature.visit_id == walkaround.visit_id
    ]
    if not sheet_signatures:
        return SignatureState.unsigned
    latest = max(sheet_signatures, key=lambda signature: (signature.signed_at, signature.id))
    if walkaround.is_covered_by(latest):
        return SignatureState.signed_unchanged
    return SignatureState.changed_after_signing


def _fields(record: Any) -> dict[str, Any]:
    data = to_wire(record)
    data.pop("id", None)
    return data


def _read(kind: str, fields: dict[str, Any]) -> Any | None:
    try:
        return from_wire(kind, fields)
    except WireError:
        return None  # half-synced or from a newer app: nothing to show or sign here


class WalkaroundSheet:
    """The walk-around of ``visit_id`` being filled in on this tablet.

    Open it with :meth:`open` (it loads what this tablet has for the visit: an earlier
    save, another tablet's marks pulled from the server, earlier visits' damage).
    """

    def __init__(
        self,
        store: LocalStore,
        walkaround: Walkaround,
        *,
        photos: Sequence[VisitPhoto] = (),
        signatures: Sequence[Signature] = (),
        earlier: Sequence[EarlierMark] = (),
        previous_km: int | None = None,
        photo_settings: PhotoSettings = DEFAULT_SETTINGS,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.walkaround = walkaround
        self.photos: list[VisitPhoto] = list(photos)
        self.signatures: list[Signature] = list(signatures)
        self.earlier: list[EarlierMark] = list(earlier)
        self.previous_km = previous_km
        self.photo_settings = photo_settings
        self._now = now
        # Everything a mark ever was on this sheet, tombstones included, by id.
        self._all_marks: dict[str, DamageMark] = {mark.id: mark for mark in walkaround.marks}
        self._refresh_marks()
        self._dirty: dict[tuple[str, str], dict[str, Any]] = {}
        # The mileage the customer typed at the kiosk, if any (compared, never kept here).
        self.kiosk_km: int | None = None
        self._blob_refs: dict[tuple[str, str], list[str]] = {}
        self._holding: UnfinishedSave | None = None

    # -- opening -----------------------------------------------------------------------

    @classmethod
    def open(cls, store: LocalStore, visit_id: str, **options: Any) -> WalkaroundSheet:
        """The sheet of ``visit_id`` as this tablet knows it (a new one if there is none)."""
        stored = [
            walkaround
            for fields in store.find("walkaround", visit_id=visit_id)
            if (walkaround := _read("walkaround", fields)) is not None
        ]
        fresh = not stored
        walkaround = (
            max(stored, key=lambda w: w.version) if stored else Walkaround(visit_id=visit_id)
        )
        walkaround.marks = [
            mark
            for fields in store.find("damage_mark", walkaround_id=walkaround.id)
            if (mark := _read("damage_mark", fields)) is not None
        ]
        photos = [
            photo
            for fields in store.find("photo", visit_id=visit_id)
            if (photo := _read("photo", fields)) is not None
            and photo.walkaround_id == walkaround.id
        ]
        walkaround.photos = [photo.image for photo in photos]
        signatures = [
            signature
            for fields in store.find("signature", visit_id=visit_id)
            if (signature := _read("signature", fields)) is not None
        ]
        visit = store.get("visit", visit_id) or {}
        earlier, previous_km = _earlier_damage(store, visit_id, visit.get("vehicle_id"))
        sheet = cls(
            store,
            walkaround,
            photos=photos,
            signatures=signatures,
            earlier=earlier,
            previous_km=previous_km,
            **options,
        )
        if isinstance(visit.get("mileage_in_km"), int):
            sheet.kiosk_km = visit["mileage_in_km"]
        if fresh:
            if sheet.kiosk_km is not None:
                sheet.walkaround.odometer_km = sheet.kiosk_km
            sheet._touch_walkaround(*_fields(sheet.walkaround).keys())
        return sheet

    # -- what the screens show ---------------------------------------------------------

    @property
    def marks(self) -> list[DamageMark]:
        """This sheet's damage marks (not the ones taken back), oldest first."""
        return list(self.walkaround.marks)

    def mark(self, mark_id: str) -> DamageMark:
        mark = self._all_marks.get(mark_id)
        if mark is None or mark.deleted:
            raise _refuse("marks", "mark_unknown", NOT_FOUND)
        return mark

    def marks_on(self, view: DiagramView | str) -> list[DamageMark]:
        return [mark for mark in self.walkaround.marks if mark.view == DiagramView(view)]

    def reload_history(self) -> None:
        """Read the earlier visits' damage and odometer again (the car's history came)."""
        visit = self.store.get("visit", self.walkaround.visit_id) or {}
        self.earlier, self.previous_km = _earlier_damage(
            self.store, self.walkaround.visit_id, visit.get("vehicle_id")
        )

    def earlier_on(self, view: DiagramView | str) -> list[EarlierMark]:
        return [item for item in self.earlier if item.mark.view == DiagramView(view)]

    def report_sha256(self) -> str:
        return self.walkaround.report_sha256()

    @property
    def signature_state(self) -> SignatureState:
        return signature_state(self.walkaround, self.signatures)

    @property
    def is_signed(self) -> bool:
        return self.signature_state == SignatureState.signed_unchanged

    def photos_waiting_to_upload(self) -> set[str]:
        """Hashes of this sheet's photos not on the server yet (the screen shows a clock)."""
        waiting = {blob.sha256 for blob in self.store.pending_blobs()}
        return {photo.image.sha256 for photo in self.photos} & waiting

    @property
    def unsaved(self) -> bool:
        return bool(self._dirty)

    def summary(self) -> list[SummaryLine]:
        """What the customer reads above the signature pad, line by line."""
        w = self.walkaround
        none = Text("None", "kiosk")
        kept: list[str | Text | TreadDepth] = [
            text for name, text in BELONGINGS.items() if getattr(w.belongings, name)
        ]
        if w.belongings.other_note:
            kept.append(w.belongings.other_note)
        lights: list[str | Text | TreadDepth] = [
            WARNING_LIGHTS[code] for code in sorted(w.warning_lights)
        ]
        lines = [
            SummaryLine(
                Text("Odometer", "kiosk"),
                ("—" if w.odometer_km is None else f"{w.odometer_km:,} km",),
            ),
            SummaryLine(
                Text("Fuel", "kiosk"),
                ("—" if w.fuel_eighths is None else f"{w.fuel_eighths}/8",),
            ),
            SummaryLine(Text("Warning lights on", "kiosk"), tuple(lights) or (none,)),
            SummaryLine(Text("Items left in the car", "kiosk"), tuple(kept) or (none,)),
            SummaryLine(Text("Keys handed over", "kiosk"), (str(w.belongings.keys_count),)),
        ]
        if w.tyre_tread_mm:
            tread = tuple(
                TreadDepth(position, w.tyre_tread_mm[position])
                for position in TYRE_POSITIONS
                if position in w.tyre_tread_mm
            )
            lines.append(SummaryLine(Text("Tyre tread", "kiosk"), tread))
        if w.exterior_notes:
            lines.append(SummaryLine(Text("Exterior notes", "kiosk"), (w.exterior_notes,)))
        if w.interior_notes:
            lines.append(SummaryLine(Text("Interior notes", "kiosk"), (w.interior_notes,)))
        lines.append(SummaryLine(Text("Photos", "kiosk"), (str(len(self.photos)),)))
        if not w.marks:
            lines.append(SummaryLine(Text("Damage", "kiosk"), (Text("None recorded", "kiosk"),)))
        for mark in sorted(w.marks, key=lambda m: (str(m.view), m.y, m.x)):
            parts: tuple[str | Text | TreadDepth, ...] = (
                mark.condition_code,
                damage_label(mark.damage_type),
            )
            if mark.note:
                parts += (mark.note,)
            if mark.pins:
                parts += (Text("(photos: {count})", "kiosk", {"count": len(mark.pins)}),)
            lines.append(SummaryLine(label(DiagramView(mark.view)), parts, " "))
        return lines

    def photo(self, sha256: str) -> VisitPhoto | None:
        return next((photo for photo in self.photos if photo.image.sha256 == sha256), None)

    def pins_on(self, sha256: str) -> list[tuple[DamageMark, PhotoPin]]:
        """The marks pinned to a photo, each with where on the photo its damage is."""
        return [
            (mark, pin) for mark in self.walkaround.marks for pin in mark.pins
            if pin.photo_sha256 == sha256
        ]  # fmt: skip

    # -- the car's state ---------------------------------------------------------------

    @property
    def odometer_difference(self) -> int | None:
        """The walk-around's reading minus what the customer typed at the kiosk, when
        both are there and differ (the walk-around's reading is the one kept)."""
        reading = self.walkaround.odometer_km
        if reading is None or self.kiosk_km is None or reading == self.kiosk_km:
            return None
        return reading - self.kiosk_km

    def set_odometer(self, raw: int | str | None) -> list[FieldIssue]:
        """Take the odometer reading; returns warnings (lower than last time, say)."""
        checked = check_mileage(raw, self.previous_km, field="odometer_km")
        if not checked.ok:
            raise SheetRefused(checked.errors)
        self._edit("odometer_km", checked.value)
        return list(checked.warnings)

    def set_fuel(self, eighths: int | None) -> None:
        if eighths is not None and not (isinstance(eighths, int) and 0 <= eighths <= 8):
            raise _refuse("fuel_eighths", "out_of_range", BAD_FUEL)
        self._edit("fuel_eighths", eighths)

    def set_warning_lights(self, codes: Iterable[str]) -> None:
        chosen = sorted(set(codes))
        for code in chosen:
            if code not in WARNING_LIGHTS:
                raise _refuse("warning_lights", "unknown_value", UNKNOWN_LIGHT)
        self._edit("warning_lights", chosen)

    def set_belongings(self, **items: bool | int | str) -> None:
        """Tick items: ``spare_wheel``, ``jack``, ``documents``, ``valuables``,
        ``child_seat`` (bool), ``keys_count`` (int), ``other_note`` (text)."""
        if int(items.get("keys_count", 0)) < 0:
            raise _refuse("belongings.keys_count", "out_of_range", BAD_KEYS)
        self._edit("belongings", replace(self.walkaround.belongings, **items))  # type: ignore[arg-type]

    def set_notes(self, *, exterior: str | None = None, interior: str | None = None) -> None:
        if exterior is not None:
            self._edit("exterior_notes", exterior.strip())
        if interior is not None:
            self._edit("interior_notes", interior.strip())

    def set_tyre_tread(self, position: str, depth_mm: float | str | None) -> None:
        """Tread depth of one tyre in mm (typed text is read too; empty: not measured)."""
        if position not in TYRE_POSITIONS:
            raise _refuse("tyre_tread_mm", "unknown_value", BAD_TREAD)
        if isinstance(depth_mm, str):
            typed = depth_mm.strip().replace(",", ".").removesuffix("mm").strip()
            try:
                depth_mm = float(typed) if typed else None
            except ValueError:
                raise _refuse("tyre_tread_mm", "not_a_number", NOT_A_DEPTH) from None
        if depth_mm is not None and not math.isfinite(depth_mm):
            raise _refuse("tyre_tread_mm", "not_a_number", NOT_A_DEPTH)
        tread = dict(self.walkaround.tyre_tread_mm)
        if depth_mm is None:
            tread.pop(position, None)
        elif 0 <= depth_mm <= 30:
            tread[position] = round(float(depth_mm), 1)
        else:
            raise _refuse("tyre_tread_mm", "out_of_range", BAD_TREAD)
        self._edit("tyre_tread_mm", tread)

    # -- damage marks ------------------------------------------------------------------

    def add_mark(
        self,
        view: DiagramView | str,
        x: float,
        y: float,
        damage_type: DamageType | str,
        severity: int = 1,
        note: str = "",
    ) -> DamageMark:
        """A new mark where the advisor tapped the drawing (x, y: 0..1, y down)."""
        _check_spot(x, y)
        _check_severity(severity)
        self._before_edit()
        mark = DamageMark(
            walkaround_id=self.walkaround.id,
            view=DiagramView(view),
            x=_spot(x),
            y=_spot(y),
            damage_type=DamageType(damage_type),
            severity=severity,
            note=note.strip(),
            created_at=self._now(),
        )
        self._all_marks[mark.id] = mark
        self._refresh_marks()
        self._touch_mark(mark, *_fields(mark).keys())
        return mark

    def move_mark(self, mark_id: str, x: float, y: float) -> DamageMark:
        """Put a mark somewhere else on its drawing (the end of a drag)."""
        mark = self.mark(mark_id)
        _check_spot(x, y)
        if (_spot(x), _spot(y)) == (mark.x, mark.y):
            return mark
        self._before_edit()
        mark.x, mark.y = _spot(x), _spot(y)
        self._touch_mark(mark, "x", "y")
        return mark

    def edit_mark(
        self,
        mark_id: str,
        *,
        damage_type: DamageType | str | None = None,
        severity: int | None = None,
        note: str | None = None,
        view: DiagramView | str | None = None,
    ) -> DamageMark:
        mark = self.mark(mark_id)
        changes: dict[str, Any] = {}
        if damage_type is not None and DamageType(damage_type) != mark.damage_type:
            changes["damage_type"] = DamageType(damage_type)
        if severity is not None and severity != mark.severity:
            _check_severity(severity)
            changes["severity"] = severity
        if note is not None and note.strip() != mark.note:
            changes["note"] = note.strip()
        if view is not None and DiagramView(view) != mark.view:
            changes["view"] = DiagramView(view)
        if changes:
            self._before_edit()
            for name, value in changes.items():
                setattr(mark, name, value)
            self._touch_mark(mark, *changes)
        return mark

    def delete_mark(self, mark_id: str) -> None:
        """Take a mark back: it stays as a tombstone, so every device forgets it too."""
        mark = self.mark(mark_id)
        self._before_edit()
        mark.deleted = True
        self._refresh_marks()
        self._touch_mark(mark, "deleted")

    def carry_over(self, earlier: EarlierMark) -> DamageMark:
        """The damage seen at an earlier visit is still there: put it on this sheet."""
        old = earlier.mark
        return self.add_mark(old.view, old.x, old.y, old.damage_type, old.severity, old.note)

    # -- photos ------------------------------------------------------------------------

    def add_photo(
        self, source: bytes | str | os.PathLike[str] | PreparedPhoto, caption: str = ""
    ) -> VisitPhoto:
        """Keep a camera picture (resized, upright) as a photo of this walk-around.

        ``source`` may be a picture already prepared by ``photos.prepare_photo`` (the
        screens do the decoding on a worker thread, then hand the result over here).
        """
        self._hold_photos()
        stored: StoredPhoto = (
            store_photo(self.store, source)
            if isinstance(source, PreparedPhoto)
            else take_photo_into(self.store, source, self.photo_settings)
        )
        existing = next(
            (photo for photo in self.photos if photo.image.sha256 == stored.ref.sha256), None
        )
        if existing is not None:
            return existing  # the same picture twice is one photo
        self._before_edit()
        photo = VisitPhoto(
            visit_id=self.walkaround.visit_id,
            walkaround_id=self.walkaround.id,
            image=stored.ref,
            caption=caption.strip(),
            taken_at=self._now(),
        )
        self.photos.append(photo)
        self.walkaround.photos = [item.image for item in self.photos]
        key = ("photo", photo.id)
        self._dirty[key] = _fields(photo)
        self._blob_refs[key] = [stored.ref.sha256]
        return photo

    def pin_photo(self, mark_id: str, photo_sha256: str, x: float, y: float) -> DamageMark:
        """Show where on the photo the mark's damage is (x, y: 0..1 of the photo)."""
        mark = self.mark(mark_id)
        if photo_sha256 not in {photo.image.sha256 for photo in self.photos}:
            raise _refuse("pins", "unknown_photo", BAD_SPOT)
        _check_spot(x, y)
        self._before_edit()
        others = [pin for pin in mark.pins if pin.photo_sha256 != photo_sha256]
        mark.pins = [*others, PhotoPin(photo_sha256, _spot(x), _spot(y))]
        self._touch_mark(mark, "pins")
        return mark

    def unpin_photo(self, mark_id: str, photo_sha256: str) -> DamageMark:
        mark = self.mark(mark_id)
        kept = [pin for pin in mark.pins if pin.photo_sha256 != photo_sha256]
        if len(kept) != len(mark.pins):
            self._before_edit()
            mark.pins = kept
            self._touch_mark(mark, "pins")
        return mark

    # -- the customer's signature ------------------------------------------------------

    def sign(self, strokes: Sequence[Sequence[StrokePoint]], signer_name: str = "") -> Signature:
        """The customer signed under the summary: bind the signature to this very sheet.

        Saves the sheet first (what is signed is on disk), then the signature with its
        PNG, in the blob store before the record that refers to it.
        """
        signature = Signature(
            visit_id=self.walkaround.visit_id,
            purpose=SignaturePurpose.checkin_sheet,
            strokes=[list(stroke) for stroke in strokes],
            signed_sha256=self.walkaround.report_sha256(),
            signer_name=signer_name.strip(),
            signed_at=self._now(),
        )
        if not signature.has_enough_ink():
            raise _refuse("signature", "too_little_ink", TOO_LITTLE_INK)
        png = render_signature_png(signature.strokes)
        self._hold_photos()
        blob = self.store.put_blob(png, ImageType.png.value)
        signature.image = PhotoRef(
            sha256=blob.sha256,
            size_bytes=blob.size,
            content_type=ImageType.png,
            width=IMAGE_WIDTH,
            height=IMAGE_HEIGHT,
        )
        # The sheet as signed and the signature: one transaction.
        self.save(
            extra=[RecordChange("signature", signature.id, _fields(signature), [blob.sha256])]
        )
        self.signatures.append(signature)
        return signature

    def complete(self) -> bool:
        """The walk-around is done: move the visit on to "walk-around done".

        Only a sheet the customer signed as it is now completes it (else
        :class:`SheetRefused`). Returns False when the visit had moved on already (a
        second tablet, or the desk), True when this tablet moved it.
        """
        visit = self.store.get("visit", self.walkaround.visit_id) or {}
        if not self.is_signed or visit.get("status") != VisitStatus.checked_in.value:
            self.save()
            if not self.is_signed:
                raise _refuse("signature", "not_signed", NOT_SIGNED)
            return False
        done = {"status": VisitStatus.walkaround_done.value}
        self.save(extra=[RecordChange("visit", self.walkaround.visit_id, done)])
        return True

    # -- keeping it --------------------------------------------------------------------

    def save(self, extra: Sequence[RecordChange] = ()) -> int:
        """Write every changed record durably (queued for the server); returns how many.

        **One** transaction: the walk-around first, then photos, then marks (whose pins
        name photos), then ``extra`` (a signature): after a crash either all of it is
        on the tablet with its outbox entries, or none of it and the sheet still holds
        the edits.
        """
        order = {"walkaround": 0, "photo": 1, "damage_mark": 2}
        changes = [
            RecordChange(kind, record_id, self._dirty[(kind, record_id)],
                         self._blob_refs.get((kind, record_id), ()))
            for kind, record_id in sorted(self._dirty, key=lambda item: order.get(item[0], 3))
        ]  # fmt: skip
        changes += extra
        self.store.save_many(changes)
        self._dirty.clear()
        self._blob_refs.clear()
        if self._holding is not None:
            self._holding.end()  # every photo taken is referred to by a saved record now
            self._holding = None
        return len(changes)

    def _hold_photos(self) -> None:
        """A photo is about to be kept before its record is saved: keep it safe from
        ``LocalStore.remove_leftovers`` until :meth:`save`."""
        if self._holding is None:
            self._holding = self.store.unfinished_save()

    # -- inside ------------------------------------------------------------------------

    def _before_edit(self) -> None:
        """An edit of a signed sheet starts its next version, to be signed again."""
        if self.is_signed:
            self.walkaround.version += 1
            self._touch_walkaround("version")

    def _edit(self, name: str, value: Any) -> None:
        if getattr(self.walkaround, name) == value:
            return
        self._before_edit()
        setattr(self.walkaround, name, value)
        self._touch_walkaround(name)

    def _touch_walkaround(self, *names: str) -> None:
        fields = _fields(self.walkaround)
        entry = self._dirty.setdefault(("walkaround", self.walkaround.id), {})
        for name in names:
            if name not in ("marks", "photos", "id"):
                entry[name] = fields[name]

    def _touch_mark(self, mark: DamageMark, *names: str) -> None:
        fields = _fields(mark)
        key = ("damage_mark", mark.id)
        entry = self._dirty.setdefault(key, {})
        for name in names:
            if name != "id":
                entry[name] = fields[name]
        self._blob_refs[key] = sorted({pin.photo_sha256 for pin in mark.pins})

    def _refresh_marks(self) -> None:
        self.walkaround.marks = [mark for mark in self._all_marks.values() if not mark.deleted]


def _spot(value: float) -> float:
    # Four decimals is what the signed report keeps; keep the same, so a mark reads back
    # from the server exactly as it was signed.
    return round(float(value), 4)


def _check_spot(x: float, y: float) -> None:
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise _refuse("position", "out_of_range", BAD_SPOT)


def _check_severity(severity: int) -> None:
    if severity not in (1, 2, 3):
        raise _refuse("severity", "out_of_range", BAD_SEVERITY)


def _earlier_damage(
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
                mark = _read("damage_mark", mark_fields)
                if mark is not None and not mark.deleted:
                    earlier.append(EarlierMark(mark, visit["id"], visit.get("checked_in_at", "")))
    earlier.sort(key=lambda item: (item.checked_in_at, item.mark.id))
    return earlier, max(readings) if readings else None


def signed_sheet_states(store: LocalStore, visit_ids: Sequence[str]) -> dict[str, SignatureState]:
    """Each visit's :class:`SignatureState` as :meth:`WalkaroundSheet.open` would find
    it, for many visits at once, with one indexed query per kind of record (the queue's
    progress column). Visits without a walk-around are left out."""
    latest: dict[str, Walkaround] = {}
    for fields in store.find_in("walkaround", "visit_id", visit_ids):
        walkaround = _read("walkaround", fields)
        if walkaround is None:
            continue
        known = latest.get(walkaround.visit_id)
        if known is None or walkaround.version > known.version:
            latest[walkaround.visit_id] = walkaround
    by_id = {walkaround.id: walkaround for walkaround in latest.values()}
    for walkaround in by_id.values():
        walkaround.marks, walkaround.photos = [], []
    for fields in store.find_in("damage_mark", "walkaround_id", list(by_id)):
        mark = _read("damage_mark", fields)
        if mark is not None and not mark.deleted and mark.walkaround_id in by_id:
            by_id[mark.walkaround_id].marks.append(mark)
    for fields in store.find_in("photo", "visit_id", list(latest)):
        photo = _read("photo", fields)
        if photo is not None and photo.walkaround_id in by_id:
            by_id[photo.walkaround_id].photos.append(photo.image)
    signatures: dict[str, list[Signature]] = {}
    for fields in store.find_in("signature", "visit_id", list(latest)):
        signature = _read("signature", fields)
        if signature is not None:
            signatures.setdefault(signature.visit_id, []).append(signature)
    return {
        visit_id: signature_state(walkaround, signatures.get(visit_id, ()))
        for visit_id, walkaround in latest.items()
    }
