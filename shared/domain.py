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

import base64
import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Any
from uuid import uuid4

from shared.i18n import Text
from shared.visit_status import VisitEvent, VisitStatus, next_status

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Bump when the shape of ``Walkaround.condition_report()`` changes: old signatures then
# keep verifying against the shape they were made with.
CONDITION_REPORT_FORMAT = 1

# Total stroke length (in pad widths) below which a signature is a dot or a slip of the
# finger rather than a signature.
MIN_INK_LENGTH = 0.3

TYRE_POSITIONS: tuple[str, ...] = ("fl", "fr", "rl", "rr")


def new_status_token() -> str:
    """An unguessable token for a visit's public status page (the server's own visits)."""
    return secrets.token_urlsafe(16)


def status_token_for(status_link_key: str, visit_id: str) -> str:
    """The status token of a visit made on a device: a keyed derivation of the visit's
    id with the device's status-link key (given at pairing), so the kiosk prints a
    working status link offline and the server, which derives the same key, recomputes
    it and keeps no other (docs/sync.md "Status links"). 128 bits, 22 URL-safe
    characters, like :func:`new_status_token`."""
    digest = hmac.new(
        status_link_key.encode("utf-8"), b"status-token:" + visit_id.encode("utf-8"), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def new_id() -> str:
    """A fresh record id, made on the device: a random UUID in its canonical text form."""
    return str(uuid4())


def utcnow() -> datetime:
    """Now, in UTC, cut to the millisecond the wire format carries."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_cents(amount: Decimal) -> Decimal:
    """Round a money amount to the cent, halves away from zero (as the till does)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# --- words of the shop ---------------------------------------------------------------


class ContactChannel(StrEnum):
    """How the customer wants to hear from the shop."""

    sms = "sms"
    phone = "phone"
    email = "email"


class CustomerTier(StrEnum):
    """Customer tier (分级管理): VIPs get their own appointment channel and priority."""

    regular = "regular"
    vip = "vip"


class PlateRegion(StrEnum):
    """Which plate rules apply: Chinese plates (京A·12345) or anything else."""

    cn = "CN"
    generic = "generic"


class AppointmentChannel(StrEnum):
    """Where an appointment was made."""

    phone = "phone"
    web = "web"
    wechat = "wechat"
    walk_in = "walk_in"
    app = "app"


class ConcernCode(StrEnum):
    """What the customer came for, as the kiosk offers it (初步问诊)."""

    maintenance = "maintenance"
    oil_change = "oil_change"
    tyres = "tyres"
    brakes = "brakes"
    warning_light = "warning_light"
    noise = "noise"
    air_conditioning = "air_conditioning"
    body_work = "body_work"
    inspection = "inspection"
    other = "other"


class SignaturePurpose(StrEnum):
    """What a signature confirms."""

    consent = "consent"
    checkin_sheet = "checkin_sheet"
    approval = "approval"


class ImageType(StrEnum):
    """The picture formats the devices send."""

    jpeg = "image/jpeg"
    png = "image/png"


class DamageType(StrEnum):
    """Kind of damage, valued by the auction-sheet condition letter (A2 = light scratch)."""

    scratch = "A"
    dent = "U"
    chip = "G"
    crack = "Y"
    rust = "S"
    missing = "M"
    broken = "B"
    other = "O"


class DiagramView(StrEnum):
    """Which drawing of the car a damage mark sits on."""

    top = "top"
    left = "left"
    right = "right"
    front = "front"
    rear = "rear"


class QuoteLineKind(StrEnum):
    """What a quote line charges for."""

    labour = "labour"
    part = "part"
    fee = "fee"
    discount = "discount"


class Urgency(StrEnum):
    """The traffic light on a quote line: how soon the work is needed."""

    red = "red"
    yellow = "yellow"
    green = "green"


class LineDecision(StrEnum):
    """The customer's answer to one quote line."""

    approved = "approved"
    declined = "declined"


# Labels per enum: StrEnum members compare equal to their text, so one shared dict
# would let two enums with the same value overwrite each other's label.
_LABELS: dict[type[StrEnum], dict[StrEnum, Text]] = {
    ContactChannel: {
        ContactChannel.sms: Text("Text message"),
        ContactChannel.phone: Text("Phone call"),
        ContactChannel.email: Text("Email"),
    },
    ConcernCode: {
        ConcernCode.maintenance: Text("Scheduled maintenance"),
        ConcernCode.oil_change: Text("Oil change"),
        ConcernCode.tyres: Text("Tyres"),
        ConcernCode.brakes: Text("Brakes"),
        ConcernCode.warning_light: Text("A warning light is on"),
        ConcernCode.noise: Text("A strange noise"),
        ConcernCode.air_conditioning: Text("Air conditioning"),
        ConcernCode.body_work: Text("Body and paint work"),
        ConcernCode.inspection: Text("Inspection"),
        ConcernCode.other: Text("Something else"),
    },
    DamageType: {
        DamageType.scratch: Text("Scratch"),
        DamageType.dent: Text("Dent"),
        DamageType.chip: Text("Stone chip"),
        DamageType.crack: Text("Crack"),
        DamageType.rust: Text("Rust"),
        DamageType.missing: Text("Missing part"),
        DamageType.broken: Text("Broken"),
        DamageType.other: Text("Other damage"),
    },
    DiagramView: {
        DiagramView.top: Text("Top"),
        DiagramView.left: Text("Left side"),
        DiagramView.right: Text("Right side"),
        DiagramView.front: Text("Front"),
        DiagramView.rear: Text("Rear"),
    },
    QuoteLineKind: {
        QuoteLineKind.labour: Text("Labour"),
        QuoteLineKind.part: Text("Parts"),
        QuoteLineKind.fee: Text("Fee"),
        QuoteLineKind.discount: Text("Discount"),
    },
    Urgency: {
        Urgency.red: Text("Safety: needs doing now"),
        Urgency.yellow: Text("Needs doing soon"),
        Urgency.green: Text("Fine for now"),
    },
}


def label(value: StrEnum) -> Text:
    """The bilingual label of a shop word (channel, concern, damage, view, line, urgency)."""
    return _LABELS[type(value)][value]


def concern_label(code: ConcernCode | str) -> Text:
    return label(ConcernCode(code))


def damage_label(damage_type: DamageType | str) -> Text:
    return label(DamageType(damage_type))


def urgency_label(urgency: Urgency | str) -> Text:
    return label(Urgency(urgency))


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


# --- the transparent quote (透明报价) and the customer's approval ----------------------


@dataclass(slots=True, kw_only=True)
class QuoteOption:
    """One of the alternatives a quote offers, e.g. "Genuine pads" or "Aftermarket pads",
    "Repair" or "Replace". The customer chooses one (or none); the lines of an option
    count only when it is the chosen one.
    """

    id: str = field(default_factory=new_id)
    label: str
    notes: str = ""  # its pros and cons, in plain words


@dataclass(slots=True, kw_only=True)
class QuoteLine:
    """One line of a quote, in plain words.

    Labour is ``hours × labour_rate``; parts and fees are ``quantity × unit_price``; a
    discount line states its ``unit_price`` as a positive amount and takes it off.
    ``option_id`` names the option the line belongs to; a line without one is part of
    every option (the oil change that is done whichever pads are chosen).
    """

    id: str = field(default_factory=new_id)
    kind: QuoteLineKind
    description: str
    hours: Decimal = Decimal("0")
    labour_rate: Decimal = ZERO
    quantity: Decimal = Decimal("1")
    unit_price: Decimal = ZERO
    part_number: str = ""
    urgency: Urgency = Urgency.green
    photo_sha256s: list[str] = field(default_factory=list)  # photos that show the need
    option_id: str | None = None

    @property
    def amount(self) -> Decimal:
        """The line's money, rounded to the cent; negative for a discount."""
        if self.kind == QuoteLineKind.labour:
            return to_cents(self.hours * self.labour_rate)
        amount = to_cents(self.quantity * self.unit_price)
        return -abs(amount) if self.kind == QuoteLineKind.discount else amount


@dataclass(frozen=True, slots=True)
class QuoteTotals:
    """The bottom of a quote.

    ``subtotal`` adds every charge; ``discount_total`` is what the discounts take off, as a
    positive amount and never more than the subtotal; tax is charged on what remains,
    once, on the total (not line by line).
    """

    subtotal: Decimal
    discount_total: Decimal
    tax: Decimal
    total: Decimal

    @classmethod
    def of(cls, lines: Iterable[QuoteLine], tax_rate: Decimal) -> "QuoteTotals":
        subtotal = discounts = ZERO
        for line in lines:
            if line.kind == QuoteLineKind.discount:
                discounts -= line.amount
            else:
                subtotal += line.amount
        discounts = min(discounts, subtotal)
        tax = to_cents((subtotal - discounts) * tax_rate)
        return cls(
            subtotal=to_cents(subtotal),
            discount_total=to_cents(discounts),
            tax=tax,
            total=to_cents(subtotal - discounts + tax),
        )


@dataclass(slots=True, kw_only=True)
class Quote:
    """One version of a visit's quote; a change once sent makes a new version.

    Without ``options`` the customer answers every line. With options (two or more) the
    customer chooses one of them, or none, and answers the lines shared by all options
    and the lines of the chosen one. ``option_label`` is the heading of the quote as a
    whole (quotes written before options existed kept their one option's name there).
    """

    id: str = field(default_factory=new_id)
    visit_id: str
    version: int = 1
    option_label: str = ""  # the quote's heading, e.g. "Front brakes"
    lines: list[QuoteLine] = field(default_factory=list)
    tax_rate: Decimal = Decimal("0.13")
    currency: str = "CNY"
    notes: str = ""  # what the customer should know, in plain words
    options: list[QuoteOption] = field(default_factory=list)

    def option(self, option_id: str | None) -> QuoteOption | None:
        """The option with this id, or None."""
        return next((option for option in self.options if option.id == option_id), None)

    @property
    def shared_lines(self) -> list[QuoteLine]:
        """The lines that belong to every option (all lines of a quote without options)."""
        return [line for line in self.lines if line.option_id is None]

    def option_lines(self, option_id: str) -> list[QuoteLine]:
        """The lines of one option only."""
        return [line for line in self.lines if line.option_id == option_id]

    def lines_for(self, option_id: str | None) -> list[QuoteLine]:
        """What the customer is offered with this option chosen: the shared lines and the
        option's own, in the quote's order. ``None`` (no option, or none chosen) gives
        the shared lines alone; for a quote without options, that is every line."""
        return [line for line in self.lines if line.option_id in (None, option_id)]

    def totals(self, option_id: str | None = None) -> QuoteTotals:
        """Totals of everything offered with ``option_id`` (see :meth:`lines_for`)."""
        return QuoteTotals.of(self.lines_for(option_id), self.tax_rate)

    def option_totals(self) -> dict[str, QuoteTotals]:
        """Per option, by id: the totals if the customer chooses it and approves all."""
        return {option.id: self.totals(option.id) for option in self.options}

    @property
    def subtotal(self) -> Decimal:
        return self.totals().subtotal

    @property
    def discount_total(self) -> Decimal:
        return self.totals().discount_total

    @property
    def tax(self) -> Decimal:
        return self.totals().tax

    @property
    def total(self) -> Decimal:
        return self.totals().total


@dataclass(slots=True, kw_only=True)
class Approval:
    """The customer's explicit authorisation (方案确认), line by line, of one quote version.

    For a quote with options, ``option_id`` is the option the customer chose (None: none
    of them); the lines of the other options are not part of what was agreed.
    """

    id: str = field(default_factory=new_id)
    quote_id: str
    quote_version: int
    decisions: dict[str, LineDecision] = field(default_factory=dict)  # by quote line id
    signature_id: str
    approved_at: datetime = field(default_factory=utcnow)
    ip_address: str = ""  # when approved from the customer's own phone
    user_agent: str = ""
    option_id: str | None = None
    # The safety (red) lines the customer declined after confirming they understood the
    # risk, by quote line id.
    safety_acknowledged: list[str] = field(default_factory=list)

    def approved_lines(self, quote: Quote) -> list[QuoteLine]:
        """The lines the work may go ahead on.

        Labour and parts count only when approved: nothing starts without the customer's
        yes. Fees and discounts are not the customer's to pick, so they count unless
        explicitly declined; a discount, though, only when some work or part is approved
        (a discount on nothing would show money off that the total cannot take). Lines
        of an option the customer did not choose never count.
        """
        if quote.id != self.quote_id or quote.version != self.quote_version:
            raise ValueError(
                f"approval {self.id} is for quote {self.quote_id} v{self.quote_version}, "
                f"not {quote.id} v{quote.version}"
            )
        chosen = []
        for line in quote.lines_for(self.option_id):
            decision = self.decisions.get(line.id)
            if decision is None and line.kind in (QuoteLineKind.fee, QuoteLineKind.discount):
                decision = LineDecision.approved
            if decision == LineDecision.approved:
                chosen.append(line)
        if not any(line.kind in (QuoteLineKind.labour, QuoteLineKind.part) for line in chosen):
            chosen = [line for line in chosen if line.kind != QuoteLineKind.discount]
        return chosen

    def approved_totals(self, quote: Quote) -> QuoteTotals:
        return QuoteTotals.of(self.approved_lines(quote), quote.tax_rate)

    def approved_total(self, quote: Quote) -> Decimal:
        """What the customer agreed to pay, tax included."""
        return self.approved_totals(quote).total
