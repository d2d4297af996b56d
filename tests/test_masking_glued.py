"""Phones and VINs glued to letters are masked too, also in database errors (issue 10, 15)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from shared.masking import install_log_masking, mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("tel13912346002", "tel139****6002"),
        ("phone:13912346002x", "phone:139****6002x"),
        ("mobile+8613912346002end", "mobile139****6002end"),
        ("cell+4915123456789", "cell+49 *******6789"),
        ("vinLFV3A28K6B3046008", "vinLFV**********6008"),
        ("VINLFV3A28K6B3046008", "VINLFV**********6008"),
        ("carLFV3A28K6B3046008is", "carLFV**********6008is"),
        ("vinlfv3a28k6b3046008", "vinLFV**********6008"),
    ],
)
def test_glued_phones_and_vins_are_masked(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


@pytest.mark.parametrize(
    "kept",
    [
        "photo e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "ts 17123456789012",
        "LSVAU2180N21832945",
        "CHECKINSERVERMIGRATION",
    ],
)
def test_hashes_timestamps_and_words_stay(kept: str) -> None:
    assert mask_text(kept) == kept


def test_database_error_parameters_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    install_log_masking()
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (phone TEXT UNIQUE, vin TEXT)"))
        connection.execute(text("INSERT INTO t VALUES ('tel13912346002', 'x')"))
    caplog.set_level(logging.ERROR)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO t VALUES (:phone, :vin)"),
                {"phone": "tel13912346002", "vin": "vinLFV3A28K6B3046008"},
            )
    except IntegrityError:
        logging.getLogger("sync_server.test").exception("push failed")
    assert "push failed" in caplog.text
    assert "13912346002" not in caplog.text
    assert "LFV3A28K6B3046008" not in caplog.text
    assert "139****6002" in caplog.text
