"""The lobby kiosk's self check-in, step by step, without Kivy.

A :class:`CheckinFlow` holds what the customer has entered so far, checks each step as
it is left (field-level messages in both languages, :class:`shared.validation.FieldIssue`),
and at the end builds the records of the check-in and saves them in the device's
:class:`LocalStore` — first locally, always; the sync engine sends them later.

Two ways in:

* **Appointment**: the short code (QR scan or typed), the phone number or the plate is
  compared, as a slow salted hash (``kiosk.services.appointment_lookup``), with today's
  appointments the server gave this kiosk, which holds no customer's name, phone or
  plate. Matches show what the customer typed, masked ("138****5678"); the work booked
  becomes the visit's concern text, which the customer may add to.
* **Walk-in**: phone (checked), plate, then name, make, model and year (all optional;
  the advisor completes them) and an optional VIN (a wrong check digit is a warning,
  not a stop), then the concern.

Then, for both, on one screen (the UI's few touches: ``tests/test_kiosk_flow_ui.py``):
mileage (optional; the advisor reads the odometer if it is left empty), concern tiles
and words, contact channel and an explicit reminders opt-in (off unless chosen), the
privacy consent (text version and hash stored, for the language shown when agreeing),
and a signature (vector strokes plus a PNG rendered from them).

Ticket numbers are ``{ticket_prefix}-{n:03d}``, ``n`` counting this device's check-ins
of the day from its own saved visits, so numbering works offline and survives restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from kiosk.services.appointment_lookup import (
    NO_APPOINTMENT_FOUND,
    AppointmentMatch,
    LookupKind,
    LookupResult,
    find_appointments,
)
from kiosk.services.checkin_history import (
    MINUTES_PER_CUSTOMER_AHEAD,
    QUEUE_WINDOW_MINUTES,
    CheckinReceipt,
    expected_wait_minutes,
    find_earlier_checkin,
    next_ticket_number,
    recent_checkins,
    status_url,
)
from kiosk.services.kiosk_setup import (
    KioskSetup,
    phone_complete,
    phone_prefix,
    shop_region,
)
from kiosk.services.local_store import LocalStore, RecordChange
from kiosk.services.signature_image import IMAGE_HEIGHT, IMAGE_WIDTH, render_signature_png
from shared.consent import CONSENT_VERSION, consent_sha256
from shared.domain import (
    ConcernCode,
    Consent,
    ContactChannel,
    Customer,
    ImageType,
    PhotoRef,
    PlateRegion,
    Signature,
    SignaturePurpose,
    StrokePoint,
    Vehicle,
    Visit,
    new_id,
    new_status_token,
    status_token_for,
    utcnow,
)
from shared.i18n import LANGUAGES, Text, normalize_language
from shared.sync_protocol import is_uuid
from shared.validation import (
    FieldIssue,
    check_mileage,
    check_name,
    check_phone,
    check_plate,
    check_vin,
    check_year,
)
from shared.wire import canonical_sha256, problems, to_wire

log = logging.getLogger(__name__)

MAX_CONCERN_TEXT = 500
MAX_MAKE_MODEL = 40

# Makes offered as tiles on the walk-in screen (the advisor corrects rare ones).
COMMON_MAKES: tuple[str, ...] = (
    "Toyota",
    "Volkswagen",
    "Honda",
    "BYD",
    "Nissan",
    "Buick",
    "Mercedes-Benz",
    "BMW",
    "Audi",
    "Geely",
    "Changan",
    "Tesla",
)

NO_SIGNATURE = Text("Please sign in the box with your finger.", "kiosk")
NO_CONSENT = Text("Please read the privacy promise and touch “I agree”.", "kiosk")
TEXT_TOO_LONG = Text("Please keep this to {maximum} characters.", "kiosk", {"maximum": 500})


class CheckinPath(StrEnum):
    """How the customer came in."""

    appointment = "appointment"
    walk_in = "walk_in"


def _issue(field_name: str, code: str, message: Text, severity: str = "error") -> FieldIssue:
    return FieldIssue(field=field_name, code=code, message=message, severity=severity)  # type: ignore[arg-type]


def _errors(issues: Iterable[FieldIssue]) -> list[FieldIssue]:
    return [issue for issue in issues if issue.severity == "error"]


@dataclass
class CheckinFlow:
    """Everything one customer entered; :meth:`reset` wipes it (idle timeout, start over)."""

    setup: KioskSetup = field(default_factory=KioskSetup)
    path: CheckinPath | None = None
    appointment: AppointmentMatch | None = None
    # walk-in
    name: str = ""
    phone: str = ""  # E.164 once checked
    plate: str = ""
    vin: str = ""
    make: str = ""
    model: str = ""
    year: int | None = None
    # both
    mileage_km: int | None = None
    concern_codes: list[str] = field(default_factory=list)
    concern_text: str = ""
    contact_channel: ContactChannel = ContactChannel.sms
    reminders_opt_in: bool = False
    consent_language: str | None = None
    strokes: list[list[StrokePoint]] = field(default_factory=list)
    # The advisor taking the check-in at the car (tablet); None on the lobby kiosk.
    advisor_user_id: int | None = None

    def reset(self) -> None:
        """Forget everything this customer entered (the next one must see none of it)."""
        setup, advisor = self.setup, self.advisor_user_id
        self.__init__(setup=setup, advisor_user_id=advisor)  # type: ignore[misc]

    # -- identify ----------------------------------------------------------------------

    def find_appointments(self, store: LocalStore, kind: LookupKind, typed: str) -> LookupResult:
        """Today's appointments (synced to this kiosk) matching ``typed`` exactly
        (:func:`kiosk.services.appointment_lookup.find_appointments`)."""
        return find_appointments(store, kind, typed, self.setup.phone_region,
                                 self.setup.plate_region)  # fmt: skip

    def choose_appointment(self, match: AppointmentMatch) -> None:
        """The customer's appointment: its concerns and requested work come with it (the
        customer sees the work in their own words' field and may add to it). The same
        appointment found again (the customer went back) keeps what they changed."""
        same = self.appointment is not None and (
            self.appointment.appointment_id == match.appointment_id
        )
        self.path = CheckinPath.appointment
        self.appointment = match
        if same:
            return
        self.mileage_km = None
        self.concern_codes = list(match.concern_codes)
        self.concern_text = " ".join(match.requested_work.split())[:MAX_CONCERN_TEXT]

    def start_walk_in(self) -> None:
        self.path = CheckinPath.walk_in
        self.appointment = None

    # -- walk-in -----------------------------------------------------------------------

    def set_contact(self, name: str, phone: str) -> list[FieldIssue]:
        """Name (optional) and mobile phone (required: the shop must reach the customer)."""
        checked_name = check_name(name, field="name")
        checked_phone = check_phone(phone, shop_region(self.setup.phone_region), field="phone")
        issues = [*checked_name.issues, *checked_phone.issues]
        if not _errors(issues):
            self.name = checked_name.value or ""
            self.phone = checked_phone.value or ""
        return issues

    def set_name(self, name: str) -> list[FieldIssue]:
        """The customer's name, optional (asked with the car; the advisor completes it)."""
        checked = check_name(name, field="name")
        if checked.ok:
            self.name = checked.value or ""
        return list(checked.issues)

    def set_plate(self, plate: str) -> list[FieldIssue]:
        checked = check_plate(plate, shop_region(self.setup.plate_region), field="plate")
        if checked.ok:
            self.plate = checked.value or ""
        return list(checked.issues)

    def set_vin(self, vin: str) -> list[FieldIssue]:
        """The VIN, optional; a check-digit mismatch is only a warning (kept)."""
        if not vin.strip():
            self.vin = ""
            return []
        checked = check_vin(vin)
        if checked.ok:
            self.vin = checked.value or ""
        return list(checked.issues)

    def set_car(self, make: str, model: str, year: str) -> list[FieldIssue]:
        """Make, model and year, all optional."""
        issues: list[FieldIssue] = []
        checked_year = check_year(year) if year.strip() else None
        if checked_year is not None:
            issues += checked_year.issues
        make, model = " ".join(make.split()), " ".join(model.split())
        for name, value in (("make", make), ("model", model)):
            if len(value) > MAX_MAKE_MODEL:
                issues.append(
                    _issue(
                        name,
                        "too_long",
                        Text(
                            "Please keep this to {maximum} characters.",
                            "kiosk",
                            {"maximum": MAX_MAKE_MODEL},
                        ),
                    )
                )
        if not _errors(issues):
            self.year = checked_year.value if checked_year is not None else None
            self.make, self.model = make, model
        return issues

    # -- both ways ---------------------------------------------------------------------

    def set_mileage(self, typed: str) -> list[FieldIssue]:
        """The odometer reading in km; empty is fine (the advisor reads it)."""
        if not typed.strip():
            self.mileage_km = None
            return []
        checked = check_mileage(typed, field="mileage_km")
        if checked.ok:
            self.mileage_km = checked.value
        return list(checked.issues)

    def set_concerns(self, codes: Iterable[str], text: str) -> list[FieldIssue]:
        text = " ".join(text.split())
        if len(text) > MAX_CONCERN_TEXT:
            return [_issue("concern_text", "too_long", TEXT_TOO_LONG)]
        self.concern_codes = [code.value for code in ConcernCode if code.value in set(codes)]
        self.concern_text = text
        return []

    def set_contact_preferences(self, channel: str, reminders_opt_in: bool) -> None:
        self.contact_channel = ContactChannel(channel)
        self.reminders_opt_in = bool(reminders_opt_in)

    def accept_consent(self, lang: str) -> None:
        """The customer touched "I agree" with the text shown in ``lang``."""
        self.consent_language = normalize_language(lang)

    def set_signature(self, strokes: Sequence[Sequence[StrokePoint]]) -> list[FieldIssue]:
        probe = Signature(
            visit_id=new_id(),
            purpose=SignaturePurpose.consent,
            strokes=[list(stroke) for stroke in strokes],
            signed_sha256="0" * 64,
        )
        if not probe.has_enough_ink():
            return [_issue("signature", "signature_missing", NO_SIGNATURE)]
        self.strokes = [list(stroke) for stroke in strokes]
        return []

    # -- saving ------------------------------------------------------------------------

    def missing_steps(self) -> list[FieldIssue]:
        """What still stops the check-in from being saved."""
        missing: list[FieldIssue] = []
        if self.path is CheckinPath.appointment and self.appointment is None:
            missing.append(_issue("appointment", "appointment_missing", NO_APPOINTMENT_FOUND))
        if self.path is CheckinPath.walk_in and not (self.phone and self.plate):
            missing.append(
                _issue(
                    "phone",
                    "walk_in_incomplete",
                    Text("Please enter your phone number and plate.", "kiosk"),
                )
            )
        if self.path is None:
            missing.append(_issue("path", "path_missing", NO_APPOINTMENT_FOUND))
        if self.consent_language not in LANGUAGES:
            missing.append(_issue("consent", "consent_missing", NO_CONSENT))
        if not self.strokes:
            missing.append(_issue("signature", "signature_missing", NO_SIGNATURE))
        return missing

    def check_in(self, store: LocalStore, now: datetime | None = None) -> CheckinReceipt:
        """What the kiosk's last step does: the ticket of this very check-in if it is
        saved already (the customer tries again after the kiosk lost power just as it
        saved), else :meth:`save`. A retry never makes a second visit."""
        now = now or utcnow()
        recent = recent_checkins(store, now)  # read once for the retry, ticket and wait
        earlier = self.earlier_checkin(store, now, recent)
        return earlier if earlier is not None else self.save(store, now, recent)

    def earlier_checkin(
        self,
        store: LocalStore,
        now: datetime | None = None,
        recent: list[dict[str, Any]] | None = None,
    ) -> CheckinReceipt | None:
        """This customer's check-in saved on this kiosk in the last
        ``RETRY_WINDOW_MINUTES``: the same appointment, or (walk-in) the same phone and
        plate. Found through the check-in time index, never by reading history."""
        appointment_id = (
            self.appointment.appointment_id
            if self.path is CheckinPath.appointment and self.appointment is not None
            else None
        )
        walk_in = (self.plate, self.phone) if self.path is CheckinPath.walk_in else None
        device_id = self.setup.device_id if is_uuid(self.setup.device_id) else None
        return find_earlier_checkin(
            store,
            device_id,
            appointment_id,
            walk_in,
            self.setup.server_url,
            now or utcnow(),
            recent,
        )

    def save(
        self,
        store: LocalStore,
        now: datetime | None = None,
        recent: list[dict[str, Any]] | None = None,
    ) -> CheckinReceipt:
        """Save the check-in: the signature image, then every record (customer, car,
        visit, consent, signature) and their outbox entries in **one** transaction.

        Returns only after that commit, so the Done screen may say so; after a crash
        either the whole check-in is on the kiosk or none of it. ``ValueError`` when a
        step is missing (the UI never gets here then). ``recent`` is
        :func:`kiosk.services.checkin_history.recent_checkins` if read already.
        """
        missing = self.missing_steps()
        if missing:
            raise ValueError("; ".join(issue.code for issue in missing))
        checked_in_at = now or utcnow()
        device_id = self.setup.device_id if is_uuid(self.setup.device_id) else None
        if recent is None:
            recent = recent_checkins(store, checked_in_at)
        ticket = next_ticket_number(store, self.setup.ticket_prefix, checked_in_at, recent)
        wait = expected_wait_minutes(store, checked_in_at, recent)

        records: list[tuple[str, Any]] = []
        if self.path is CheckinPath.walk_in:
            customer = Customer(
                name=self.name,
                phone=self.phone,
                preferred_channel=self.contact_channel,
                reminders_opt_in=self.reminders_opt_in,
            )
            vehicle = Vehicle(
                customer_id=customer.id,
                plate=self.plate,
                plate_region=PlateRegion(shop_region(self.setup.plate_region)),
                vin=self.vin,
                make=self.make,
                model=self.model,
                year=self.year,
                last_mileage_km=self.mileage_km,
            )
            records += [("customer", customer), ("vehicle", vehicle)]
            customer_id, vehicle_id, appointment_id = customer.id, vehicle.id, None
        else:
            assert self.appointment is not None
            customer_id = self.appointment.customer_id
            vehicle_id = self.appointment.vehicle_id
            appointment_id = self.appointment.appointment_id
        visit = Visit(
            ticket_number=ticket,
            customer_id=customer_id,
            vehicle_id=vehicle_id,
            appointment_id=appointment_id,
            concern_codes=[ConcernCode(code) for code in self.concern_codes],
            concern_text=self.concern_text,
            mileage_in_km=self.mileage_km,
            contact_channel=self.contact_channel,
            reminders_opt_in=self.reminders_opt_in,
            checked_in_at=checked_in_at,
            checked_in_device_id=device_id,
            advisor_user_id=self.advisor_user_id,
        )
        visit.status_token = (
            status_token_for(self.setup.status_link_key, visit.id)
            if self.setup.status_link_key
            else new_status_token()
        )
        language = self.consent_language or "en"
        consent = Consent(
            visit_id=visit.id,
            text_version=CONSENT_VERSION,
            text_sha256=consent_sha256(language),
            language=language,
            accepted_at=checked_in_at,
        )
        # The picture is saved with the records, in their transaction (one fsync).
        picture = store.prepare_blob(render_signature_png(self.strokes), ImageType.png.value)
        blob = picture.info
        signature = Signature(
            visit_id=visit.id,
            purpose=SignaturePurpose.consent,
            strokes=self.strokes,
            image=PhotoRef(
                sha256=blob.sha256,
                size_bytes=blob.size,
                content_type=ImageType.png,
                width=IMAGE_WIDTH,
                height=IMAGE_HEIGHT,
            ),
            signed_sha256=canonical_sha256(
                {
                    "visit_id": visit.id,
                    "consent_version": consent.text_version,
                    "consent_sha256": consent.text_sha256,
                }
            ),
            signer_name=self.name,
            signed_at=checked_in_at,
        )
        records += [("visit", visit), ("consent", consent), ("signature", signature)]
        for kind, record in records:
            found = problems(record)
            if found:
                raise ValueError(f"{kind} would be refused: {found}")
        changes: list[RecordChange] = []
        for kind, record in records:
            fields = to_wire(record)
            record_id = fields.pop("id")
            refs = (blob.sha256,) if kind == "signature" else ()
            changes.append(RecordChange(kind, record_id, fields, refs))
        store.save_many(changes, blobs=[picture])
        saved = [(change.kind, change.record_id) for change in changes]
        log.info("Check-in %s saved (%s)", ticket, self.path)
        return CheckinReceipt(
            ticket_number=ticket,
            visit_id=visit.id,
            status_token=visit.status_token,
            status_url=status_url(self.setup.server_url, visit.status_token),
            expected_wait_minutes=wait,
            saved_records=tuple(saved),
        )


__all__ = [
    "MINUTES_PER_CUSTOMER_AHEAD",
    "QUEUE_WINDOW_MINUTES",
    "AppointmentMatch",
    "CheckinFlow",
    "CheckinReceipt",
    "KioskSetup",
    "LookupKind",
    "LookupResult",
    "expected_wait_minutes",
    "next_ticket_number",
    "phone_complete",
    "phone_prefix",
    "shop_region",
    "status_url",
]
