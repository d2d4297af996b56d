"""A walk-around's signature state is computed when it is read, not during a sync: a
change of the sheet writes its records only, and an edit made after the customer signed
leaves one warning line for the operator."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from flask import Flask
from sqlalchemy import event
from web_fixtures import make_visit

from shared import domain
from sync_server import db
from sync_server.sync.records import lock_feed, put_server_record
from sync_server.walkarounds import signature_state

SHEET_TABLES = ("signatures", "damage_marks", "visit_photos", "blobs")


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = db.session().get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def put(kind: str, record: object) -> None:
    session = db.session()
    lock_feed(session)
    put_server_record(session, kind, record)
    session.commit()


def test_a_sheet_change_reads_nothing_else_and_an_edit_after_signing_is_logged(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    made = make_visit(app)
    caplog.set_level(logging.WARNING, logger="sync_server")
    with app.app_context():
        sheet = domain.Walkaround(visit_id=made.visit_id, odometer_km=61250, fuel_eighths=4)
        with statements(app) as seen:
            put("walkaround", sheet)
        assert not [s for s in seen if any(table in s for table in SHEET_TABLES)]
        put(
            "signature",
            domain.Signature(
                visit_id=made.visit_id,
                purpose=domain.SignaturePurpose.checkin_sheet,
                strokes=[[domain.StrokePoint(0.1, 0.5, 0), domain.StrokePoint(0.8, 0.4, 90)]],
                signed_sha256=sheet.report_sha256(),
                signer_name="张伟",
            ),
        )
        assert signature_state(db.session(), made.visit_id) == "signed_unchanged"
        assert "changed after the customer signed" not in caplog.text

        # The advisor edits the signed sheet: the tablet starts version 2.
        edited = replace(sheet, fuel_eighths=3, version=2)
        with statements(app) as seen:
            put("walkaround", edited)
        assert not [s for s in seen if any(table in s for table in SHEET_TABLES)]
        warnings = [r.getMessage() for r in caplog.records if "changed after" in r.getMessage()]
        assert warnings == [
            f"check-in sheet of visit {made.visit_id} changed after the customer signed (version 2)"
        ]
        assert signature_state(db.session(), made.visit_id) == "changed_after_signing"

        # More edits of version 2 before the customer signs again: nothing new to say.
        put("walkaround", replace(edited, fuel_eighths=2))
        assert len([r for r in caplog.records if "changed after" in r.getMessage()]) == 1
