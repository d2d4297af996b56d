"""The shop's words and basic values: ids, times, money, and the enums with their labels.

Part of ``shared.domain`` (import them from there); kept apart by job.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from uuid import uuid4

from shared.i18n import Text

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
