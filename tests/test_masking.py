"""Tests for shared.masking: what a lobby kiosk shows, and masked log lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from shared.masking import (
    PersonalDataFilter,
    install_log_masking,
    mask_email,
    mask_name,
    mask_phone,
    mask_plate,
    mask_text,
    mask_vin,
)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Zhang Wei", "Zhang **"),
        ("  John   Ronald Smith ", "John **"),
        ("Madonna", "M**"),
        ("张伟", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧**"),
        ("张", "张*"),
        ("阿卜杜·热合曼", "阿**"),
        ("", ""),
        ("   ", ""),
        (None, ""),
    ],
)
def test_mask_name(name: str | None, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("plate", "masked"),
    [
        ("京A12345", "京A·***45"),
        ("京a·12345", "京A·***45"),
        ("京AD12345", "京A·****45"),
        ("京A12345D", "京A·****5D"),
        ("京A1234学", "京A·***4学"),
        ("AB12CDE", "AB***DE"),
        ("ab12 cde", "AB***DE"),
        ("ABC12", "A***2"),
        ("AB", "**"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_plate(plate: str | None, masked: str) -> None:
    assert mask_plate(plate) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+8613812345678", "138****5678"),
        ("13812345678", "138****5678"),
        ("+86 139-8765-4321", "139****4321"),
        ("+4915123456789", "+49 *******6789"),
        ("+12025550123", "+1 ******0123"),
        ("+79161234567", "+7 ******4567"),
        ("+35312345678", "+353 ****5678"),
        ("+85291234567", "+852 ****4567"),  # Hong Kong: a three-digit country code
        ("0123456789", "******6789"),  # not a valid number: last four only
        ("12345", "*****"),
        ("n/a", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(phone: str | None, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("vin", "masked"),
    [
        ("LSVAU2180N2183294", "LSV**********3294"),
        ("1m8-gdm9ax kp042788", "1M8**********2788"),
        ("LSVAU2180N21832", "LSV********1832"),
        ("ABC", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_vin(vin: str | None, masked: str) -> None:
    assert mask_vin(vin) == masked


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("zhang.wei@example.com", "z***@example.com"),
        ("A@Example.CN", "A***@example.cn"),
        ("not-an-email", "***"),
        ("@example.com", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_email(email: str | None, masked: str) -> None:
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("phone=13812345678", "phone=138****5678"),
        ("call +8613812345678 now", "call 138****5678 now"),
        ("call +86 138 1234 5678.", "call 138****5678."),
        ("tel 0086-139-8765-4321", "tel 139****4321"),
        ("uk +447911123456", "uk +44 ******3456"),
        ("vin LSVAU2180N2183294 in", "vin LSV**********3294 in"),
        ("vin=lsvau2180n2183294", "vin=LSV**********3294"),
        ("vin 11111111111111111", "vin 111**********1111"),
        ("a 138123456789 b", "a 138123456789 b"),  # 12 digits: not a mobile
        ("ts 1712345678901", "ts 1712345678901"),
        ("id 550e8400-e29b-41d4-a716-446655440000", "id 550e8400-e29b-41d4-a716-446655440000"),
        ("ABCDEFGHJKLMNPRST", "ABCDEFGHJKLMNPRST"),  # letters only: not a VIN
        ("LSVAU2180N21832945", "LSVAU2180N21832945"),  # 18 characters: not a VIN
        ("no personal data", "no personal data"),
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_mask_text_is_idempotent() -> None:
    once = mask_text("13812345678 LSVAU2180N2183294 +4915123456789")
    assert mask_text(once) == once


# --------------------------------------------------------------------------- logging


@pytest.fixture
def masked_root(caplog: pytest.LogCaptureFixture) -> Iterator[PersonalDataFilter]:
    caplog.set_level(logging.INFO)
    root = logging.getLogger()
    masking = install_log_masking()
    yield masking
    root.removeFilter(masking)
    for handler in root.handlers:
        handler.removeFilter(masking)


def test_log_line_with_phone_and_vin_comes_out_masked(
    caplog: pytest.LogCaptureFixture, masked_root: PersonalDataFilter
) -> None:
    log = logging.getLogger("checkin.test")
    log.info("Check-in for %s, vehicle %s", "+8613812345678", "LSVAU2180N2183294")
    log.warning("customer phone 139-8765-4321 changed")

    assert caplog.messages == [
        "Check-in for 138****5678, vehicle LSV**********3294",
        "customer phone 139****4321 changed",
    ]
    assert "13812345678" not in caplog.text
    assert "LSVAU2180N2183294" not in caplog.text
    record = caplog.records[0]
    assert record.args == ()
    assert record.msg == "Check-in for 138****5678, vehicle LSV**********3294"


def test_tracebacks_are_masked(
    caplog: pytest.LogCaptureFixture, masked_root: PersonalDataFilter
) -> None:
    log = logging.getLogger("checkin.test")
    try:
        raise ValueError("no customer with phone 13812345678")
    except ValueError:
        log.exception("lookup failed")
    assert "lookup failed" in caplog.text
    assert "138****5678" in caplog.text
    assert "13812345678" not in caplog.text


def test_install_log_masking_is_idempotent(masked_root: PersonalDataFilter) -> None:
    root = logging.getLogger()
    assert install_log_masking() is masked_root
    assert sum(isinstance(f, PersonalDataFilter) for f in root.filters) == 1
    for handler in root.handlers:
        assert sum(isinstance(f, PersonalDataFilter) for f in handler.filters) == 1


def test_filter_on_a_named_logger(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("checkin.sync")
    masking = install_log_masking(log)
    try:
        with caplog.at_level(logging.INFO, logger="checkin.sync"):
            log.info("pushed %s", {"phone": "13812345678"})
    finally:
        log.removeFilter(masking)
    assert caplog.messages == ["pushed {'phone': '138****5678'}"]


def test_filter_keeps_records_and_leaves_a_broken_format_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %s", ("only one",), None)
    assert PersonalDataFilter().filter(record) is True
    assert record.msg == "%s and %s"  # logging reports the broken format itself
