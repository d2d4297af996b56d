"""The wire format read strictly, by example: records written out field by field, wrong
values reported at their field, unknown fields refused, times with their zone, a
walk-around that must agree with itself, and every refusal's message in English and
Chinese.
"""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from shared.domain import (
    Approval,
    Consent,
    Customer,
    DamageMark,
    DamageType,
    DiagramView,
    ImageType,
    PhotoPin,
    PhotoRef,
    PlateRegion,
    Quote,
    QuoteLine,
    QuoteLineKind,
    Signature,
    SignaturePurpose,
    StrokePoint,
    Vehicle,
    Visit,
    Walkaround,
    new_id,
)
from shared.wire import (
    Issue,
    WireError,
    from_wire,
    problems,
    to_wire,
)

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
