"""The domain records: quote arithmetic, the signed check-in sheet, signatures, labels."""

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import pytest

from shared.domain import (
    Approval,
    Belongings,
    ConcernCode,
    ContactChannel,
    DamageMark,
    DamageType,
    DiagramView,
    ImageType,
    LineDecision,
    PhotoPin,
    PhotoRef,
    Quote,
    QuoteLine,
    QuoteLineKind,
    Signature,
    SignaturePurpose,
    StrokePoint,
    Urgency,
    Visit,
    Walkaround,
    concern_label,
    damage_label,
    label,
    new_id,
    urgency_label,
    utcnow,
)
from shared.visit_status import TransitionRefused, VisitEvent, VisitStatus

D = Decimal
PHOTO_SHA = hashlib.sha256(b"front bumper").hexdigest()


def labour(hours: str, rate: str, **extra: object) -> QuoteLine:
    return QuoteLine(
        kind=QuoteLineKind.labour,
        description="Replace front brake pads",
        hours=D(hours),
        labour_rate=D(rate),
        **extra,  # type: ignore[arg-type]
    )


def part(quantity: str, price: str) -> QuoteLine:
    return QuoteLine(
        kind=QuoteLineKind.part,
        description="Brake pad set",
        quantity=D(quantity),
        unit_price=D(price),
        part_number="BP-1234",
    )


def discount(amount: str) -> QuoteLine:
    return QuoteLine(kind=QuoteLineKind.discount, description="Loyalty", unit_price=D(amount))


def fee(amount: str) -> QuoteLine:
    return QuoteLine(kind=QuoteLineKind.fee, description="Waste disposal", unit_price=D(amount))


# --- quotes --------------------------------------------------------------------------


def test_brake_job_quote_adds_up_to_the_cent() -> None:
    quote = Quote(
        visit_id=new_id(),
        lines=[labour("1.5", "180.00"), part("2", "45.50"), discount("20.00")],
        tax_rate=D("0.13"),
    )
    assert [line.amount for line in quote.lines] == [D("270.00"), D("91.00"), D("-20.00")]
    assert quote.subtotal == D("361.00")
    assert quote.discount_total == D("20.00")
    assert quote.tax == D("44.33")  # 13% of 341.00 = 44.33
    assert quote.total == D("385.33")
    assert str(quote.total) == "385.33"


def test_half_a_cent_rounds_up_as_at_the_till() -> None:
    # 0.5 h × 180.25 = 90.125: banker's rounding would give 90.12.
    assert labour("0.5", "180.25").amount == D("90.13")
    assert part("0.5", "0.25").amount == D("0.13")


def test_labour_ignores_quantity_and_fees_use_it() -> None:
    assert labour("2", "100.00", quantity=D("3")).amount == D("200.00")
    assert replace(fee("5.00"), quantity=D("3")).amount == D("15.00")


def test_a_discount_always_takes_money_off() -> None:
    assert discount("15.00").amount == D("-15.00")
    assert discount("-15.00").amount == D("-15.00")


def test_a_discount_never_makes_the_customer_owe_less_than_nothing() -> None:
    quote = Quote(visit_id=new_id(), lines=[fee("10.00"), discount("50.00")])
    assert quote.discount_total == D("10.00")
    assert quote.tax == D("0.00")
    assert quote.total == D("0.00")


def test_an_empty_quote_is_zero_in_cents() -> None:
    quote = Quote(visit_id=new_id())
    assert (quote.subtotal, quote.discount_total, quote.tax, quote.total) == (D("0.00"),) * 4
    assert quote.total.as_tuple().exponent == -2


def test_approved_total_counts_only_what_the_customer_said_yes_to() -> None:
    pads, disc, waste, wipers = (
        labour("1.5", "180.00"),
        part("2", "45.50"),
        fee("10.00"),
        part("1", "80.00"),
    )
    quote = Quote(visit_id=new_id(), lines=[pads, disc, waste, wipers], tax_rate=D("0.13"))
    approval = Approval(
        quote_id=quote.id,
        quote_version=quote.version,
        decisions={pads.id: LineDecision.approved, disc.id: LineDecision.approved},
        signature_id=new_id(),
    )
    # The wipers were never answered: no yes, no work. The fee applies regardless.
    assert approval.approved_lines(quote) == [pads, disc, waste]
    assert approval.approved_total(quote) == D("419.23")  # (270 + 91 + 10) × 1.13

    approval.decisions[waste.id] = LineDecision.declined
    approval.decisions[wipers.id] = LineDecision.declined
    assert approval.approved_total(quote) == D("407.93")


def test_an_approval_is_for_one_version_of_one_quote() -> None:
    quote = Quote(visit_id=new_id(), version=2, lines=[part("1", "10.00")])
    stale = Approval(quote_id=quote.id, quote_version=1, signature_id=new_id())
    with pytest.raises(ValueError, match="v1"):
        stale.approved_total(quote)


# --- the walk-around and its signed report -------------------------------------------


def make_walkaround() -> Walkaround:
    walkaround = Walkaround(
        visit_id=new_id(),
        odometer_km=86_420,
        fuel_eighths=3,
        warning_lights=["tpms", "abs"],
        belongings=Belongings(spare_wheel=True, keys_count=2, other_note="umbrella"),
        exterior_notes="Dusty",
        tyre_tread_mm={"fl": 4.0, "fr": 4.2, "rl": 6.5, "rr": 6.4},
        photos=[
            PhotoRef(
                sha256=PHOTO_SHA,
                size_bytes=123_456,
                content_type=ImageType.jpeg,
                width=1600,
                height=1200,
            )
        ],
    )
    walkaround.marks = [
        DamageMark(
            walkaround_id=walkaround.id,
            view=DiagramView.front,
            x=0.30,
            y=0.62,
            damage_type=DamageType.scratch,
            severity=2,
            pins=[PhotoPin(PHOTO_SHA, 0.41, 0.55)],
        ),
        DamageMark(
            walkaround_id=walkaround.id,
            view=DiagramView.left,
            x=0.71,
            y=0.40,
            damage_type=DamageType.dent,
            note="Door edge",
        ),
    ]
    return walkaround


def test_the_report_names_the_visit_and_the_edition_signed() -> None:
    walkaround = make_walkaround()
    report = walkaround.condition_report()
    assert report["visit_id"] == walkaround.visit_id
    assert report["version"] == 1
    assert report["photos"] == [PHOTO_SHA]
    assert report["tyre_tread_mm"]["rl"] == "6.5"
    assert {
        "view": "front",
        "x": "0.3000",
        "y": "0.6200",
        "damage_type": "A",
        "severity": 2,
        "note": "",
        "pins": [[PHOTO_SHA, "0.4100", "0.5500"]],
    } in report["marks"]
    assert walkaround.id not in str(report)


def test_report_hash_is_the_sha256_of_its_canonical_json() -> None:
    from shared.wire import canonical_json

    walkaround = make_walkaround()
    expected = hashlib.sha256(canonical_json(walkaround.condition_report())).hexdigest()
    assert walkaround.report_sha256() == expected


def test_report_hash_changes_when_a_mark_moves() -> None:
    walkaround = make_walkaround()
    before = walkaround.report_sha256()
    walkaround.marks[0].x = 0.35
    assert walkaround.report_sha256() != before


@pytest.mark.parametrize(
    "edit",
    [
        lambda w: setattr(w, "version", 2),
        lambda w: setattr(w, "odometer_km", 86_421),
        lambda w: setattr(w.marks[1], "damage_type", DamageType.rust),
        lambda w: setattr(w.marks[1], "severity", 3),
        lambda w: setattr(w.belongings, "valuables", True),
        lambda w: w.marks.pop(),
        lambda w: w.tyre_tread_mm.update(fl=3.0),
    ],
    ids=["version", "odometer", "damage_type", "severity", "belongings", "mark", "tread"],
)
def test_report_hash_changes_with_anything_the_customer_can_see(
    edit: Callable[[Walkaround], object],
) -> None:
    walkaround = make_walkaround()
    before = walkaround.report_sha256()
    edit(walkaround)
    assert walkaround.report_sha256() != before


def test_report_hash_ignores_order_ids_and_drawing_times() -> None:
    walkaround = make_walkaround()
    same = make_walkaround()
    same.visit_id = walkaround.visit_id
    same.tyre_tread_mm = dict(reversed(list(walkaround.tyre_tread_mm.items())))
    same.warning_lights = ["abs", "tpms"]
    same.marks = [
        replace(mark, id=new_id(), created_at=mark.created_at + timedelta(minutes=5))
        for mark in reversed(same.marks)
    ]
    assert list(same.tyre_tread_mm) != list(walkaround.tyre_tread_mm)
    assert same.report_sha256() == walkaround.report_sha256()


def test_a_signature_stops_covering_the_sheet_after_an_edit() -> None:
    walkaround = make_walkaround()
    signature = Signature(
        visit_id=walkaround.visit_id,
        purpose=SignaturePurpose.checkin_sheet,
        strokes=[[StrokePoint(0.1, 0.5, 0), StrokePoint(0.9, 0.5, 400)]],
        signed_sha256=walkaround.report_sha256(),
    )
    assert walkaround.is_covered_by(signature)
    walkaround.exterior_notes = "Dusty; new scratch on the bonnet"
    walkaround.version += 1
    assert not walkaround.is_covered_by(signature)


def test_damage_mark_reads_like_an_auction_sheet() -> None:
    mark = DamageMark(
        walkaround_id=new_id(),
        view=DiagramView.top,
        x=0.5,
        y=0.5,
        damage_type=DamageType.chip,
        severity=1,
    )
    assert mark.condition_code == "G1"


# --- signatures ----------------------------------------------------------------------


def test_ink_length_adds_up_every_stroke() -> None:
    signature = Signature(
        visit_id=new_id(),
        purpose=SignaturePurpose.consent,
        strokes=[
            [StrokePoint(0.0, 0.0, 0), StrokePoint(0.3, 0.4, 50), StrokePoint(0.6, 0.0, 90)],
            [StrokePoint(0.5, 0.5, 300), StrokePoint(0.5, 0.7, 340)],
        ],
        signed_sha256="0" * 64,
    )
    assert signature.ink_length() == pytest.approx(1.2)
    assert signature.has_enough_ink()


def test_a_tap_is_not_a_signature() -> None:
    tap = Signature(
        visit_id=new_id(),
        purpose=SignaturePurpose.approval,
        strokes=[
            [StrokePoint(0.5, 0.5, 0)],
            [StrokePoint(0.5, 0.5, 10), StrokePoint(0.51, 0.5, 20)],
        ],
        signed_sha256="0" * 64,
    )
    assert tap.ink_length() == pytest.approx(0.01)
    assert not tap.has_enough_ink()
    assert (
        Signature(
            visit_id=new_id(), purpose=SignaturePurpose.approval, signed_sha256="0" * 64
        ).ink_length()
        == 0
    )


# --- visits, ids, times, labels ------------------------------------------------------


def test_a_visit_moves_on_only_by_allowed_events() -> None:
    visit = Visit(
        ticket_number="A-042",
        customer_id=new_id(),
        vehicle_id=new_id(),
        checked_in_device_id=new_id(),
    )
    assert visit.status is VisitStatus.checked_in
    assert visit.apply(VisitEvent.complete_walkaround) is VisitStatus.walkaround_done
    with pytest.raises(TransitionRefused):
        visit.apply(VisitEvent.start_work)
    assert visit.status is VisitStatus.walkaround_done


def test_ids_are_canonical_uuid4_text_and_unique() -> None:
    first, second = new_id(), new_id()
    assert first != second
    assert str(uuid.UUID(first)) == first
    assert uuid.UUID(first).version == 4


def test_utcnow_is_aware_utc_to_the_millisecond() -> None:
    now = utcnow()
    assert now.tzinfo is UTC
    assert now.microsecond % 1000 == 0
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


ALL_LABELLED: list[StrEnum] = [
    *ContactChannel,
    *ConcernCode,
    *DamageType,
    *DiagramView,
    *QuoteLineKind,
    *Urgency,
]


@pytest.mark.parametrize("word", ALL_LABELLED, ids=lambda w: f"{type(w).__name__}.{w.name}")
def test_every_shop_word_has_an_english_and_a_chinese_label(word: StrEnum) -> None:
    text = label(word)
    assert text.render("en")
    assert text.render("zh_CN") != text.render("en")


def test_label_helpers_take_stored_text_too() -> None:
    assert concern_label("brakes").render("zh_CN") == "刹车"
    assert damage_label("U").render("en") == "Dent"
    assert urgency_label(Urgency.red).render("en") == "Safety: needs doing now"


def test_damage_types_carry_the_auction_sheet_letters() -> None:
    letters = {damage.name: damage.value for damage in DamageType}
    assert letters == {
        "scratch": "A",
        "dent": "U",
        "chip": "G",
        "crack": "Y",
        "rust": "S",
        "missing": "M",
        "broken": "B",
        "other": "O",
    }
