"""The wire format: canonical JSON, strict reading with field-level issues."""

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
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
    new_id,
)
from shared.i18n import LANGUAGES
from shared.visit_status import VisitStatus
from shared.wire import (
    KINDS,
    Issue,
    WireError,
    canonical_json,
    canonical_sha256,
    from_wire,
    problems,
    sha256_hex,
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


# --- example records ------------------------------------------------------------------

PHOTO = PhotoRef(
    sha256=hashlib.sha256(b"rear bumper").hexdigest(),
    size_bytes=204_800,
    content_type=ImageType.jpeg,
    width=1600,
    height=1200,
)


def make_walkaround() -> Walkaround:
    walkaround = Walkaround(
        visit_id=new_id(),
        odometer_km=86_420,
        fuel_eighths=3,
        tyre_tread_mm={"fl": 4.0, "rr": 6.5},
        photos=[PHOTO],
    )
    walkaround.marks.append(
        DamageMark(
            walkaround_id=walkaround.id,
            view=DiagramView.rear,
            x=0.25,
            y=0.75,
            damage_type=DamageType.scratch,
            severity=2,
            pins=[PhotoPin(PHOTO.sha256, 0.5, 0.5)],
        )
    )
    return walkaround


def issues_of(kind: Any, data: Any) -> dict[str, str]:
    with pytest.raises(WireError) as refused:
        from_wire(kind, data)
    return refused.value.codes


def test_a_walkaround_is_written_out_field_by_field() -> None:
    walkaround = make_walkaround()
    wire = to_wire(walkaround)
    assert wire["photos"][0]["content_type"] == "image/jpeg"
    assert wire["marks"][0]["damage_type"] == "A"
    assert wire["marks"][0]["created_at"].endswith("Z")
    assert wire["belongings"]["keys_count"] == 1
    assert from_wire(Walkaround, json.loads(json.dumps(wire))) == walkaround


def test_signature_strokes_travel_as_compact_points() -> None:
    signature = Signature(
        visit_id=new_id(),
        purpose=SignaturePurpose.checkin_sheet,
        strokes=[[StrokePoint(0.1, 0.2, 0), StrokePoint(0.3, 0.4, 16)]],
        signed_sha256="a" * 64,
    )
    assert to_wire(signature)["strokes"] == [[[0.1, 0.2, 0], [0.3, 0.4, 16]]]
    assert from_wire(Signature, to_wire(signature)) == signature


def test_money_travels_as_text_with_its_cents() -> None:
    line = QuoteLine(
        kind=QuoteLineKind.part,
        description="Oil filter",
        quantity=Decimal("2"),
        unit_price=Decimal("45.50"),
    )
    wire = to_wire(line)
    assert wire["unit_price"] == "45.50"
    assert wire["quantity"] == "2"
    read = from_wire(QuoteLine, wire)
    assert str(read.unit_price) == "45.50"
    assert read.amount == Decimal("91.00")


# --- canonical JSON --------------------------------------------------------------------


def test_canonical_json_bytes_are_exact() -> None:
    value = {
        "total": Decimal("12.50"),
        "at": datetime(2024, 5, 1, 8, 30, tzinfo=UTC),
        "name": "张三",
        "list": [1, 2.5, None, True],
        "concern": ConcernCode.brakes,
        "day": date(2024, 5, 1),
    }
    assert (
        canonical_json(value)
        == (
            '{"at":"2024-05-01T08:30:00.000Z","concern":"brakes","day":"2024-05-01",'
            '"list":[1,2.5,null,true],"name":"张三","total":"12.50"}'
        ).encode()
    )


def test_canonical_json_of_a_record_is_its_wire_form() -> None:
    photo = PhotoRef(sha256="ab" * 32, size_bytes=1, content_type=ImageType.png, width=2, height=3)
    assert canonical_json(photo) == (
        b'{"content_type":"image/png","height":3,"sha256":"' + b"ab" * 32 + b'","size_bytes":1,'
        b'"width":2}'
    )
    assert canonical_sha256(photo) == hashlib.sha256(canonical_json(photo)).hexdigest()
    assert sha256_hex(b"") == hashlib.sha256(b"").hexdigest()


def test_canonical_json_writes_times_in_utc_with_milliseconds() -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2024, 5, 1, 16, 30, 5, 123_456, tzinfo=beijing)
    assert canonical_json(moment) == b'"2024-05-01T08:30:05.123Z"'


def test_canonical_json_writes_decimals_in_full() -> None:
    assert (
        canonical_json([Decimal("1E+2"), Decimal("0.10"), Decimal("-3")]) == b'["100","0.10","-3"]'
    )


def test_canonical_json_does_not_depend_on_key_order() -> None:
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == canonical_json(
        {"a": {"c": 3, "d": 2}, "b": 1}
    )


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), Decimal("NaN"), Decimal("Infinity"), datetime(2024, 5, 1)],
    ids=["nan", "inf", "decimal-nan", "decimal-inf", "naive-datetime"],
)
def test_canonical_json_refuses_values_with_no_single_meaning(value: Any) -> None:
    with pytest.raises(ValueError):
        canonical_json({"value": value})


def test_canonical_json_refuses_what_has_no_wire_form() -> None:
    with pytest.raises(TypeError):
        canonical_json({1, 2})
    with pytest.raises(TypeError):
        canonical_json({1: "one"})


# --- strict reading --------------------------------------------------------------------


def test_wrong_values_are_reported_at_their_field() -> None:
    wire = to_wire(make_walkaround())
    wire["fuel_eighths"] = 9
    wire["odometer_km"] = "86420"
    wire["version"] = True
    wire["photos"][0]["sha256"] = "ABC"
    wire["marks"][0]["x"] = "left"
    wire["marks"][0]["severity"] = 5
    wire["marks"][0]["view"] = "underneath"
    wire["marks"][0]["pins"][0]["y"] = 1.5
    wire["marks"][0]["created_at"] = "2024-05-01 08:30"
    wire["tyre_tread_mm"]["spare"] = 7.0
    wire["belongings"]["keys_count"] = None
    assert issues_of(Walkaround, wire) == {
        "fuel_eighths": "out_of_range",
        "odometer_km": "wrong_type",
        "version": "wrong_type",
        "photos[0].sha256": "bad_sha256",
        "marks[0].x": "wrong_type",
        "marks[0].severity": "out_of_range",
        "marks[0].view": "unknown_value",
        "marks[0].pins[0].y": "out_of_range",
        "marks[0].created_at": "wrong_type",
        "tyre_tread_mm.spare": "unknown_value",
        "belongings.keys_count": "wrong_type",
    }


def test_ids_must_be_canonical_uuids() -> None:
    data = to_wire(Customer())
    data["id"] = data["id"].upper()
    assert issues_of(Customer, data) == {"id": "bad_uuid"}
    vehicle = to_wire(Vehicle(customer_id="42", plate="京A12345"))
    assert issues_of("vehicle", vehicle) == {"customer_id": "bad_uuid"}


def test_missing_required_fields_are_named_and_optional_ones_get_defaults() -> None:
    assert issues_of(Vehicle, {"id": new_id()}) == {
        "customer_id": "required",
        "plate": "required",
    }
    vehicle = from_wire(Vehicle, {"id": new_id(), "customer_id": new_id(), "plate": "京A12345"})
    assert vehicle.plate_region is PlateRegion.cn
    assert vehicle.year is None


def test_unknown_fields_are_refused_not_dropped() -> None:
    data = to_wire(Customer(name="Li Lei"))
    data["nickname"] = "Lei"
    assert issues_of(Customer, data) == {"nickname": "unknown_field"}


def test_money_as_a_json_number_is_refused() -> None:
    data = to_wire(QuoteLine(kind=QuoteLineKind.fee, description="Disposal"))
    data["unit_price"] = 12.5
    data["hours"] = "1,5"
    assert issues_of(QuoteLine, data) == {"unit_price": "wrong_type", "hours": "wrong_type"}


def test_times_must_say_their_time_zone() -> None:
    data = to_wire(
        Consent(visit_id=new_id(), text_version="2024-05", text_sha256="0" * 64, language="zh_CN")
    )
    data["accepted_at"] = "2024-05-01T08:30:00"
    assert issues_of(Consent, data) == {"accepted_at": "naive_datetime"}
    data["accepted_at"] = "2024-13-01T08:30:00Z"
    assert issues_of(Consent, data) == {"accepted_at": "bad_datetime"}


def test_times_with_an_offset_are_read_as_utc_to_the_millisecond() -> None:
    data = to_wire(
        Consent(visit_id=new_id(), text_version="v1", text_sha256="0" * 64, language="en")
    )
    data["accepted_at"] = "2024-05-01T16:30:00.123456+08:00"
    consent = from_wire(Consent, data)
    assert consent.accepted_at == datetime(2024, 5, 1, 8, 30, 0, 123_000, tzinfo=UTC)
    assert consent.accepted_at.utcoffset() == timedelta(0)


def test_a_record_must_be_an_object() -> None:
    assert issues_of(Customer, ["not", "an", "object"]) == {"": "wrong_type"}


def test_the_whole_walkaround_must_agree_with_itself() -> None:
    walkaround = make_walkaround()
    stray = DamageMark(
        walkaround_id=new_id(),
        view=DiagramView.top,
        x=0.5,
        y=0.5,
        damage_type=DamageType.dent,
        pins=[PhotoPin(hashlib.sha256(b"elsewhere").hexdigest(), 0.1, 0.1)],
    )
    walkaround.marks.append(stray)
    assert issues_of(Walkaround, to_wire(walkaround)) == {
        "marks[1].walkaround_id": "mismatch",
        "marks[1].pins[0].photo_sha256": "unknown_photo",
    }


def test_a_signature_picture_is_a_png() -> None:
    signature = Signature(
        visit_id=new_id(), purpose=SignaturePurpose.consent, signed_sha256="f" * 64, image=PHOTO
    )
    assert [issue.code for issue in problems(signature)] == ["not_png"]


def test_quote_lines_have_distinct_ids() -> None:
    line = QuoteLine(kind=QuoteLineKind.fee, description="Disposal", unit_price=Decimal("5"))
    quote = Quote(visit_id=new_id(), lines=[line, line])
    assert issues_of(Quote, to_wire(quote)) == {"lines[1].id": "duplicate"}


def test_problems_checks_a_record_made_on_the_device() -> None:
    visit = Visit(
        ticket_number=" ",
        customer_id=new_id(),
        vehicle_id=new_id(),
        checked_in_device_id="kiosk-3",
        mileage_in_km=-5,
    )
    assert {issue.field: issue.code for issue in problems(visit)} == {
        "ticket_number": "blank",
        "checked_in_device_id": "bad_uuid",
        "mileage_in_km": "out_of_range",
    }


def test_unknown_kind_names_are_refused() -> None:
    assert issues_of("invoice", {}) == {"kind": "unknown_kind"}


# --- messages in both languages -------------------------------------------------------


def test_issue_messages_are_shown_in_english_and_chinese() -> None:
    data = to_wire(Customer())
    data["tier"] = "gold"
    data["name"] = 7
    with pytest.raises(WireError) as refused:
        from_wire(Customer, data)
    english = refused.value.as_dicts("en")
    chinese = refused.value.as_dicts("zh_CN")
    assert english == [
        {"field": "name", "code": "wrong_type", "message": "Expected text."},
        {
            "field": "tier",
            "code": "unknown_value",
            "message": 'Unknown value "gold"; expected one of: regular, vip.',
        },
    ]
    assert chinese[0]["message"] == "应为文本。"
    assert chinese[1]["message"] == '未知的值 "gold"；应为以下之一：regular, vip。'
    assert "gold" in str(refused.value)


def test_an_issue_fits_the_servers_problem_document() -> None:
    issue = Issue("marks[0].x", "out_of_range", problems_x_message())
    assert issue.to_dict() == {
        "field": "marks[0].x",
        "code": "out_of_range",
        "message": "Must be between 0 and 1.",
        "message_zh": "必须在 0 到 1 之间。",
        "severity": "error",
    }


def problems_x_message() -> Any:
    mark = DamageMark(
        walkaround_id=new_id(), view=DiagramView.top, x=1.2, y=0.5, damage_type=DamageType.dent
    )
    (issue,) = problems(mark)
    assert (issue.field, issue.code) == ("x", "out_of_range")
    return issue.message


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        (Customer, "phone", "13812345678"),
        (Customer, "birthday", "2024-02-30"),
        (Consent, "text_sha256", "xyz"),
        (Consent, "language", "fr"),
        (Quote, "currency", "rmb"),
        (Quote, "tax_rate", "1.5"),
        (Approval, "ip_address", "not-an-ip"),
        (Approval, "decisions", {"line-1": "approved"}),
        (Approval, "decisions", {new_id(): "maybe"}),
        (Signature, "strokes", [[[0.5, 0.5]]]),
        (Signature, "strokes", [[[0.5, 2.0, 0]]]),
        (Walkaround, "warning_lights", "abs"),
        (Vehicle, "year", 1700),
    ],
)
def test_every_refusal_has_a_chinese_message(kind: type, field: str, value: Any) -> None:
    samples: dict[type, Any] = {
        Customer: Customer(),
        Consent: Consent(visit_id=new_id(), text_version="v1", text_sha256="0" * 64, language="en"),
        Quote: Quote(visit_id=new_id()),
        Approval: Approval(quote_id=new_id(), quote_version=1, signature_id=new_id()),
        Signature: Signature(
            visit_id=new_id(), purpose=SignaturePurpose.consent, signed_sha256="0" * 64
        ),
        Walkaround: Walkaround(visit_id=new_id()),
        Vehicle: Vehicle(customer_id=new_id(), plate="粤B12345"),
    }
    data = to_wire(samples[kind]) | {field: value}
    with pytest.raises(WireError) as refused:
        from_wire(kind, data)
    for issue in refused.value.issues:
        assert issue.field.startswith(field)
        assert issue.message.render("zh_CN") != issue.message.render("en")
