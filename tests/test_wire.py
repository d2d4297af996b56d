"""The wire format, by property: every kind of record, drawn at random, reads back equal
after JSON, and any JSON in any field is read or refused with issues. Canonical JSON is in
``test_wire_canonical.py``; strict reading by example in ``test_wire_reading.py``.
"""

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import (
    TYRE_POSITIONS,
    Appointment,
    AppointmentChannel,
    Approval,
    Belongings,
    ConcernCode,
    Consent,
    ContactChannel,
    Customer,
    CustomerTier,
    DamageMark,
    DamageType,
    DiagramView,
    ImageType,
    LineDecision,
    PhotoPin,
    PhotoRef,
    PlateRegion,
    Quote,
    QuoteLine,
    QuoteLineKind,
    Signature,
    SignaturePurpose,
    StrokePoint,
    Urgency,
    Vehicle,
    Visit,
    VisitNote,
    VisitPhoto,
    Walkaround,
)
from shared.i18n import LANGUAGES
from shared.visit_status import VisitStatus
from shared.wire import (
    KINDS,
    WireError,
    canonical_json,
    from_wire,
    problems,
    to_wire,
)

# --- strategies: valid records of every kind -----------------------------------------

ids = st.uuids().map(str)
hex_digests = st.binary(max_size=16).map(lambda data: hashlib.sha256(data).hexdigest())
moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
days = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
unit = st.floats(min_value=0, max_value=1)
# Text the wire keeps: no NUL, within the shortest column it may land in (12 characters).
kept_characters = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
words = st.text(kept_characters, max_size=12)
filled = st.text(kept_characters, min_size=1, max_size=12).filter(str.strip)
money = st.decimals(min_value=0, max_value=1_000_000, places=2)
phones = st.one_of(st.just(""), st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True))
counts = st.integers(min_value=0, max_value=2_000_000)

photo_refs = st.builds(
    PhotoRef,
    sha256=hex_digests,
    size_bytes=st.integers(1, 10**8),
    content_type=st.sampled_from(ImageType),
    width=st.integers(1, 8000),
    height=st.integers(1, 8000),
)
customers = st.builds(
    Customer,
    id=ids,
    name=words,
    phone=phones,
    email=words,
    preferred_channel=st.sampled_from(ContactChannel),
    reminders_opt_in=st.booleans(),
    tier=st.sampled_from(CustomerTier),
    birthday=st.none() | days,
    notes=words,
)
vehicles = st.builds(
    Vehicle,
    id=ids,
    customer_id=ids,
    plate=filled,
    plate_region=st.sampled_from(PlateRegion),
    vin=words,
    make=words,
    model=words,
    year=st.none() | st.integers(1886, 2100),
    purchase_date=st.none() | days,
    last_mileage_km=st.none() | counts,
)
concern_codes = st.lists(st.sampled_from(ConcernCode), max_size=3)
appointments = st.builds(
    Appointment,
    id=ids,
    customer_id=ids,
    vehicle_id=ids,
    code=filled,
    expected_arrival=moments,
    requested_work=words,
    concern_codes=concern_codes,
    expected_duration_minutes=st.integers(1, 10_000),
    channel=st.sampled_from(AppointmentChannel),
)
consents = st.builds(
    Consent,
    id=ids,
    visit_id=ids,
    text_version=filled,
    text_sha256=hex_digests,
    language=st.sampled_from(LANGUAGES),
    accepted_at=moments,
)
stroke_points = st.builds(StrokePoint, unit, unit, st.integers(0, 10**6))
signatures = st.builds(
    Signature,
    id=ids,
    visit_id=ids,
    purpose=st.sampled_from(SignaturePurpose),
    strokes=st.lists(st.lists(stroke_points, max_size=4), max_size=3),
    image=st.none() | photo_refs.map(lambda photo: _as_png(photo)),
    signed_sha256=hex_digests,
    signer_name=words,
    signed_at=moments,
)


def _as_png(photo: PhotoRef) -> PhotoRef:
    return PhotoRef(
        sha256=photo.sha256,
        size_bytes=photo.size_bytes,
        content_type=ImageType.png,
        width=photo.width,
        height=photo.height,
    )


def damage_marks(walkaround_id: st.SearchStrategy[str], photo_hashes: list[str]) -> Any:
    pins = (
        st.lists(st.builds(PhotoPin, st.sampled_from(photo_hashes), unit, unit), max_size=2)
        if photo_hashes
        else st.just([])
    )
    return st.builds(
        DamageMark,
        id=ids,
        walkaround_id=walkaround_id,
        view=st.sampled_from(DiagramView),
        x=unit,
        y=unit,
        damage_type=st.sampled_from(DamageType),
        severity=st.integers(1, 3),
        note=words,
        pins=pins,
        created_at=moments,
    )


lone_damage_marks = st.lists(hex_digests, max_size=2).flatmap(
    lambda hashes: damage_marks(ids, hashes)
)
belongings = st.builds(
    Belongings,
    spare_wheel=st.booleans(),
    jack=st.booleans(),
    documents=st.booleans(),
    valuables=st.booleans(),
    child_seat=st.booleans(),
    keys_count=st.integers(0, 9),
    other_note=words,
)


@st.composite
def walkarounds(draw: st.DrawFn) -> Walkaround:
    walkaround_id = draw(ids)
    photos = draw(st.lists(photo_refs, max_size=3))
    marks = draw(
        st.lists(damage_marks(st.just(walkaround_id), [p.sha256 for p in photos]), max_size=3)
    )
    return Walkaround(
        id=walkaround_id,
        visit_id=draw(ids),
        version=draw(st.integers(1, 50)),
        odometer_km=draw(st.none() | counts),
        fuel_eighths=draw(st.none() | st.integers(0, 8)),
        warning_lights=draw(st.lists(words, max_size=3)),
        belongings=draw(belongings),
        exterior_notes=draw(words),
        interior_notes=draw(words),
        tyre_tread_mm=draw(
            st.dictionaries(st.sampled_from(TYRE_POSITIONS), st.floats(0, 30), max_size=4)
        ),
        photos=photos,
        marks=marks,
    )


visits = st.builds(
    Visit,
    id=ids,
    ticket_number=filled,
    customer_id=ids,
    vehicle_id=ids,
    appointment_id=st.none() | ids,
    status=st.sampled_from(VisitStatus),
    concern_codes=concern_codes,
    concern_text=words,
    mileage_in_km=st.none() | counts,
    contact_channel=st.sampled_from(ContactChannel),
    reminders_opt_in=st.booleans(),
    checked_in_at=moments,
    checked_in_device_id=st.none() | st.uuids().map(str),
    advisor_user_id=st.none() | st.integers(1, 10**6),
    expected_ready_at=st.none() | moments,
)
quote_lines = st.builds(
    QuoteLine,
    id=ids,
    kind=st.sampled_from(QuoteLineKind),
    description=filled,
    hours=st.decimals(min_value=0, max_value=100, places=2),
    labour_rate=money,
    quantity=st.decimals(min_value=0, max_value=1000, places=3),
    unit_price=money,
    part_number=words,
    urgency=st.sampled_from(Urgency),
    photo_sha256s=st.lists(hex_digests, max_size=2),
)
quotes = st.builds(
    Quote,
    id=ids,
    visit_id=ids,
    version=st.integers(1, 20),
    option_label=words,
    lines=st.lists(quote_lines, max_size=4, unique_by=lambda line: line.id),
    tax_rate=st.decimals(min_value=0, max_value=1, places=4),
    currency=st.from_regex(r"[A-Z]{3}", fullmatch=True),
    notes=words,
)
approvals = st.builds(
    Approval,
    id=ids,
    quote_id=ids,
    quote_version=st.integers(1, 20),
    decisions=st.dictionaries(ids, st.sampled_from(LineDecision), max_size=4),
    signature_id=ids,
    approved_at=moments,
    ip_address=st.one_of(st.just(""), st.ip_addresses().map(str)),
    user_agent=words,
)

RECORDS: dict[str, st.SearchStrategy[Any]] = {
    "customer": customers,
    "vehicle": vehicles,
    "appointment": appointments,
    "visit": visits,
    "consent": consents,
    "signature": signatures,
    "walkaround": walkarounds(),
    "damage_mark": lone_damage_marks,
    "quote": quotes,
    "quote_line": quote_lines,
    "approval": approvals,
    "photo_ref": photo_refs,
    "photo": st.builds(
        VisitPhoto,
        id=ids,
        visit_id=ids,
        image=photo_refs,
        walkaround_id=st.none() | ids,
        caption=words,
        taken_at=moments,
    ),
    "note": st.builds(VisitNote, id=ids, visit_id=ids, text=filled),
}


def test_every_kind_on_the_wire_has_a_strategy() -> None:
    assert set(RECORDS) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(RECORDS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_kind_reads_back_equal_after_json(kind: str, data: st.DataObject) -> None:
    record = data.draw(RECORDS[kind])
    assert type(record) is KINDS[kind]
    sent = json.loads(json.dumps(to_wire(record)))
    assert from_wire(type(record), sent) == record
    assert from_wire(kind, sent) == record
    assert canonical_json(from_wire(kind, sent)) == canonical_json(record)
    assert problems(record) == []


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.parametrize("kind", sorted(RECORDS))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_json_in_any_field_is_read_or_refused_with_issues(
    kind: str, data: st.DataObject
) -> None:
    wire = to_wire(data.draw(RECORDS[kind]))
    field = data.draw(st.sampled_from(sorted(wire)))
    wire[field] = data.draw(json_values)
    try:
        from_wire(kind, wire)
    except WireError as refused:
        # A field that reads wrong is named; the walk-around's own cross-checks may instead
        # name a mark whose photo has gone, hence no claim about which field.
        assert refused.issues
        for issue in refused.issues:
            assert issue.message.render("zh_CN")
