"""The shop's domain as plain dataclasses: customers, vehicles, visits, walk-arounds, quotes.

Conventions that hold for every record here:

* Ids are UUID strings made on the device that creates the record (``new_id()``), so a
  record has the same id on the kiosk, the tablet and the server; a device is known by
  the UUID it got at pairing (``Visit.checked_in_device_id``). People are the exception:
  they are registered on the server and carry its integer ids (``Visit.advisor_user_id``).
* Times are timezone-aware UTC ``datetime`` values with millisecond precision
  (``utcnow()``), because the wire format carries milliseconds and a record must read
  back equal to what was written.
* Money is ``Decimal``; amounts are rounded to the cent with ROUND_HALF_UP.
* Records are mutable dataclasses built with keyword arguments; small value objects
  (``PhotoRef``, ``PhotoPin``, ``StrokePoint``) are frozen.

Nothing here validates on construction: the wire format (``shared.wire``) checks
everything that crosses a boundary, and ``shared.wire.problems(record)`` checks a record
made on the device before it is saved.
"""

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from shared.domain_quotes import (
    Approval,
    Quote,
    QuoteLine,
    QuoteOption,
    QuoteTotals,
)
from shared.domain_words import (
    CENT,
    CONDITION_REPORT_FORMAT,
    MIN_INK_LENGTH,
    TYRE_POSITIONS,
    ZERO,
    AppointmentChannel,
    ConcernCode,
    ContactChannel,
    CustomerTier,
    DamageType,
    DiagramView,
    ImageType,
    LineDecision,
    PlateRegion,
    QuoteLineKind,
    SignaturePurpose,
    Urgency,
    concern_label,
    damage_label,
    label,
    new_id,
    new_status_token,
    status_token_for,
    to_cents,
    urgency_label,
    utcnow,
)
from shared.visit_status import VisitEvent, VisitStatus, next_status

# --- customers, vehicles, appointments -----------------------------------------------


@dataclass(slots=True, kw_only=True)
class Customer:
    """A customer's file. The kiosk may leave the name empty for the advisor to complete."""

    id: str = field(default_factory=new_id)
    name: str = ""
    phone: str = ""  # E.164 ("+8613812345678") or "" when not given
    email: str = ""
    preferred_channel: ContactChannel = ContactChannel.sms
    reminders_opt_in: bool = False
    tier: CustomerTier = CustomerTier.regular
    birthday: date | None = None
    notes: str = ""


@dataclass(slots=True, kw_only=True)
class Vehicle:
    id: str = field(default_factory=new_id)
    customer_id: str
    plate: str
    plate_region: PlateRegion = PlateRegion.cn
    vin: str = ""
    make: str = ""
    model: str = ""
    year: int | None = None
    purchase_date: date | None = None
    last_mileage_km: int | None = None


@dataclass(slots=True, kw_only=True)
class Appointment:
    id: str = field(default_factory=new_id)
    customer_id: str
    vehicle_id: str
    code: str  # the short code printed in the confirmation QR
    expected_arrival: datetime
    requested_work: str = ""
    concern_codes: list[ConcernCode] = field(default_factory=list)
    expected_duration_minutes: int = 60
    channel: AppointmentChannel = AppointmentChannel.phone


# --- consent and signatures ----------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Consent:
    """The customer agreed that their data is used only for service and kept confidential.

    The text shown is identified by its version and its SHA-256, so that what was agreed
    to can be proved later even after the wording changes.
    """

    id: str = field(default_factory=new_id)
    visit_id: str
    text_version: str
    text_sha256: str
    language: str  # one of shared.i18n.LANGUAGES
    accepted_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhotoRef:
    """A picture by content: the bytes travel separately and are found by their hash."""

    sha256: str  # 64 lowercase hex digits
    size_bytes: int
    content_type: ImageType
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class StrokePoint:
    """One sample of a pen stroke: x, y in pad widths/heights (0..1), ms since pen-down."""

    x: float
    y: float
    t_ms: int


Stroke = list[StrokePoint]


@dataclass(slots=True, kw_only=True)
class Signature:
    """A signature as the vector strokes drawn, bound to the exact content signed.

    ``signed_sha256`` is the SHA-256 of the canonical JSON of what was signed (for a
    check-in sheet: ``Walkaround.report_sha256()``), so a later edit is visible.
    """

    id: str = field(default_factory=new_id)
    visit_id: str
    purpose: SignaturePurpose
    strokes: list[Stroke] = field(default_factory=list)
    image: PhotoRef | None = None  # PNG render, for printing
    signed_sha256: str
    signer_name: str = ""
    signed_at: datetime = field(default_factory=utcnow)

    def ink_length(self) -> float:
        """Total length of all strokes, in pad units (a line across the pad is 1.0)."""
        return sum(
            math.dist((a.x, a.y), (b.x, b.y))
            for stroke in self.strokes
            for a, b in pairwise(stroke)
        )

    def has_enough_ink(self, minimum: float = MIN_INK_LENGTH) -> bool:
        """False for a dot or a tap: the pad asks the customer to sign again."""
        return self.ink_length() >= minimum


@dataclass(slots=True, kw_only=True)
class VisitPhoto:
    """A photo taken during a visit, synced as a record of its own.

    Photos from several devices then merge by union instead of overwriting each other's
    list; ``walkaround_id`` says which walk-around it belongs to, if any.
    """

    id: str = field(default_factory=new_id)
    visit_id: str
    image: PhotoRef
    walkaround_id: str | None = None
    caption: str = ""
    taken_at: datetime = field(default_factory=utcnow)


@dataclass(slots=True, kw_only=True)
class VisitNote:
    """A short note on a visit (what the customer said on the phone, a part on order)."""

    id: str = field(default_factory=new_id)
    visit_id: str
    text: str


# --- the walk-around (环车检查) and its check-in sheet --------------------------------


@dataclass(frozen=True, slots=True)
class PhotoPin:
    """Where on a photo the damage shows: x, y as fractions of its width and height."""

    photo_sha256: str
    x: float
    y: float


@dataclass(slots=True, kw_only=True)
class DamageMark:
    """A damage mark on a drawing of the car, with its auction-sheet letter and grade."""

    id: str = field(default_factory=new_id)
    walkaround_id: str
    view: DiagramView
    x: float  # 0..1 across the drawing
    y: float  # 0..1 down the drawing
    damage_type: DamageType
    severity: int = 1  # 1 light, 2 clearly visible, 3 severe
    note: str = ""
    pins: list[PhotoPin] = field(default_factory=list)
    created_at: datetime = field(default_factory=utcnow)
    # A tombstone (docs/sync.md): marks merge by union, so a mark taken back is kept and
    # flagged, last writer wins; a deleted mark is not part of the check-in sheet.
    deleted: bool = False

    @property
    def condition_code(self) -> str:
        """The mark as an auction sheet writes it: letter and grade, e.g. ``"A2"``."""
        return f"{DamageType(self.damage_type).value}{self.severity}"

    def report_entry(self) -> dict[str, Any]:
        """What the customer sees and signs of this mark (no id, no time of drawing)."""
        return {
            "view": str(self.view),
            "x": _fixed(self.x, 4),
            "y": _fixed(self.y, 4),
            "damage_type": str(self.damage_type),
            "severity": self.severity,
            "note": self.note,
            "pins": sorted(
                ([pin.photo_sha256, _fixed(pin.x, 4), _fixed(pin.y, 4)] for pin in self.pins),
            ),
        }


@dataclass(slots=True, kw_only=True)
class Belongings:
    """Items left in the car, recorded so that nothing is disputed later."""

    spare_wheel: bool = False
    jack: bool = False
    documents: bool = False
    valuables: bool = False
    child_seat: bool = False
    keys_count: int = 1
    other_note: str = ""


@dataclass(slots=True, kw_only=True)
class Walkaround:
    """The walk-around with the customer: the check-in sheet (接车单) they sign.

    ``version`` starts at 1; an edit after the customer signed must raise it, so the
    earlier signature visibly no longer covers the sheet.
    """

    id: str = field(default_factory=new_id)
    visit_id: str
    version: int = 1
    odometer_km: int | None = None
    fuel_eighths: int | None = None  # 0 empty .. 8 full
    warning_lights: list[str] = field(default_factory=list)
    belongings: Belongings = field(default_factory=Belongings)
    exterior_notes: str = ""
    interior_notes: str = ""
    tyre_tread_mm: dict[str, float] = field(default_factory=dict)  # keys: TYRE_POSITIONS
    photos: list[PhotoRef] = field(default_factory=list)
    marks: list[DamageMark] = field(default_factory=list)

    def condition_report(self) -> dict[str, Any]:
        """The content the customer signs, as plain JSON values.

        It says what the customer can see and check: the car's state, belongings, the
        photos (by content hash) and each damage mark (place, kind, grade, note, pins).
        Left out on purpose, because they change nothing the customer agreed to: the
        walk-around's and the marks' ids, when each mark was drawn, and the order in
        which marks, pins, photos and warning lights were entered (all sorted here).
        Positions are written with 4 decimals and tread with 1, as text, so the bytes
        do not depend on how a device prints floats. ``visit_id`` and ``version`` bind
        the signature to this visit and this edition of the sheet.
        """
        belongings = self.belongings
        return {
            "format": CONDITION_REPORT_FORMAT,
            "visit_id": self.visit_id,
            "version": self.version,
            "odometer_km": self.odometer_km,
            "fuel_eighths": self.fuel_eighths,
            "warning_lights": sorted(set(self.warning_lights)),
            "belongings": {
                "spare_wheel": belongings.spare_wheel,
                "jack": belongings.jack,
                "documents": belongings.documents,
                "valuables": belongings.valuables,
                "child_seat": belongings.child_seat,
                "keys_count": belongings.keys_count,
                "other_note": belongings.other_note,
            },
            "exterior_notes": self.exterior_notes,
            "interior_notes": self.interior_notes,
            "tyre_tread_mm": {
                position: _fixed(depth, 1) for position, depth in self.tyre_tread_mm.items()
            },
            "photos": sorted({photo.sha256 for photo in self.photos}),
            "marks": _sorted_canonically(
                mark.report_entry() for mark in self.marks if not mark.deleted
            ),
        }

    def report_sha256(self) -> str:
        """SHA-256 (hex) of the canonical JSON of ``condition_report()``."""
        # Imported here because shared.wire imports this module for its registry.
        from shared.wire import canonical_sha256

        return canonical_sha256(self.condition_report())

    def is_covered_by(self, signature: Signature) -> bool:
        """True when ``signature`` signs this very edition of the check-in sheet."""
        return (
            signature.purpose == SignaturePurpose.checkin_sheet
            and signature.visit_id == self.visit_id
            and signature.signed_sha256 == self.report_sha256()
        )


def _fixed(number: float, places: int) -> str:
    # Adding 0.0 turns -0.0 into 0.0, which would otherwise print as "-0.0000".
    return f"{number + 0.0:.{places}f}"


def _sorted_canonically(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entries, key=lambda entry: json.dumps(entry, sort_keys=True))


# --- the visit -----------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Visit:
    """One car's stay in the shop, from check-in to hand-back."""

    id: str = field(default_factory=new_id)
    ticket_number: str  # what the lobby screen calls out, e.g. "A-042"
    customer_id: str
    vehicle_id: str
    appointment_id: str | None = None
    status: VisitStatus = VisitStatus.checked_in
    concern_codes: list[ConcernCode] = field(default_factory=list)
    concern_text: str = ""  # the customer's own words
    mileage_in_km: int | None = None
    contact_channel: ContactChannel = ContactChannel.sms
    reminders_opt_in: bool = False
    checked_in_at: datetime = field(default_factory=utcnow)
    checked_in_device_id: str | None = None  # the kiosk's or tablet's device id; None at the desk
    advisor_user_id: int | None = None  # server id of the advisor
    expected_ready_at: datetime | None = None
    # Made where the visit is made (offline too), from the device's status-link key
    # (``status_token_for``); the server keeps no token but its own derivation. The
    # customer's status page is /status/<status_token>, printed as the ticket's QR code.
    # Not a secret worth more than the car's whereabouts, but unguessable (128 bits).
    status_token: str = ""

    def apply(self, event: VisitEvent) -> VisitStatus:
        """Move the visit on by ``event``; raises ``TransitionRefused`` when not allowed."""
        self.status = next_status(self.status, event)
        return self.status


__all__ = [
    "CENT",
    "CONDITION_REPORT_FORMAT",
    "MIN_INK_LENGTH",
    "TYRE_POSITIONS",
    "ZERO",
    "Appointment",
    "AppointmentChannel",
    "Approval",
    "Belongings",
    "ConcernCode",
    "Consent",
    "ContactChannel",
    "Customer",
    "CustomerTier",
    "DamageMark",
    "DamageType",
    "DiagramView",
    "ImageType",
    "LineDecision",
    "PhotoPin",
    "PhotoRef",
    "PlateRegion",
    "Quote",
    "QuoteLine",
    "QuoteLineKind",
    "QuoteOption",
    "QuoteTotals",
    "Signature",
    "SignaturePurpose",
    "StrokePoint",
    "Urgency",
    "Vehicle",
    "Visit",
    "VisitNote",
    "VisitPhoto",
    "Walkaround",
    "concern_label",
    "damage_label",
    "label",
    "new_id",
    "new_status_token",
    "status_token_for",
    "to_cents",
    "urgency_label",
    "utcnow",
]
