"""The schema comes from Alembic migrations, and they match the models exactly."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect, select, text

from shared import domain
from shared.wire import to_wire
from sync_server import db
from sync_server.back_office_tables import ApprovalRow
from sync_server.checklist_settings import shop_checklists
from sync_server.migrate import alembic_config, current_revision, upgrade
from sync_server.models import Base
from sync_server.quotes import latest_version
from sync_server.sync.tables import SyncRecord


def test_upgrade_from_empty_creates_every_table(app: Flask) -> None:
    tables = set(inspect(app.extensions["db_engine"]).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert current_revision(app) is not None


def test_no_drift_between_models_and_migrations(app: Flask) -> None:
    engine = app.extensions["db_engine"]
    with engine.connect() as connection, warnings.catch_warnings():
        if engine.dialect.name == "sqlite":
            # SQLite's reflection cannot read expression indexes; they are compared
            # below, by their SQL, instead.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expr")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _old_quote_records() -> tuple[dict, dict]:  # type: ignore[type-arg]
    """A quote and its approval as they were written before options existed."""
    line_ids = [domain.new_id(), domain.new_id()]
    lines = [
        to_wire(
            domain.QuoteLine(
                id=line_ids[0],
                kind=domain.QuoteLineKind.labour,
                description="Replace pads",
                hours=Decimal("1.5"),
                labour_rate=Decimal("200"),
            )
        ),
        to_wire(
            domain.QuoteLine(
                id=line_ids[1],
                kind=domain.QuoteLineKind.part,
                description="Pads",
                unit_price=Decimal("480"),
            )
        ),
    ]
    for line in lines:
        del line["option_id"]
    quote = {
        "visit_id": domain.new_id(),
        "version": 1,
        "option_label": "Option A: genuine parts",
        "lines": lines,
        "tax_rate": "0.13",
        "currency": "CNY",
        "notes": "",
    }
    approval = {
        "quote_id": domain.new_id(),
        "quote_version": 1,
        "decisions": {line_ids[0]: "approved", line_ids[1]: "declined"},
        "signature_id": domain.new_id(),
        "approved_at": "2026-11-20T08:00:00.000Z",
        "ip_address": "127.0.0.1",
        "user_agent": "Old phone",
    }
    return quote, approval


def test_quotes_and_approvals_from_before_options_still_read(app: Flask) -> None:
    """Back to 0004, a quote and an approval of the old shape, and up again."""
    command.downgrade(alembic_config(app), "0004")
    assert current_revision(app) == "0004"
    assert "option_id" not in {
        column["name"] for column in inspect(app.extensions["db_engine"]).get_columns("approvals")
    }
    quote, approval = _old_quote_records()
    quote_id, approval_id = approval["quote_id"], domain.new_id()
    with app.extensions["db_engine"].begin() as connection:
        for seq, (kind, record_id, fields) in enumerate(
            [("quote", quote_id, quote), ("approval", approval_id, approval)], start=1
        ):
            connection.execute(
                SyncRecord.__table__.insert().values(
                    kind=kind,
                    id=record_id,
                    fields=fields,
                    clocks={},
                    seq=seq,
                    created_by="server",
                    updated_by="server",
                    created_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC),
                )
            )
        connection.execute(
            text(
                "INSERT INTO quotes (id, visit_id, version, option_label, currency, notes)"
                " VALUES (:id, :visit, 1, :label, 'CNY', '')"
            ),
            {"id": quote_id, "visit": quote["visit_id"], "label": quote["option_label"]},
        )
        connection.execute(
            text(
                "INSERT INTO approvals (id, quote_id, quote_version, signature_id,"
                " approved_at, ip_address, user_agent)"
                " VALUES (:id, :quote, 1, :signature, :at, '127.0.0.1', 'Old phone')"
            ),
            {
                "id": approval_id,
                "quote": quote_id,
                "signature": approval["signature_id"],
                "at": datetime(2026, 11, 20, 8, tzinfo=UTC),
            },
        )
    upgrade(app)
    head = ScriptDirectory.from_config(alembic_config(app)).get_current_head()
    assert current_revision(app) == head
    with app.app_context():
        session = db.session()
        row = session.get(ApprovalRow, approval_id)
        assert row is not None and row.option_id is None
        version = latest_version(session, quote["visit_id"])
        assert version is not None and version.approval is not None
        assert version.quote.options == []
        assert version.quote.option_label == "Option A: genuine parts"
        assert version.approval.option_id is None
        # 1.5 h × 200 approved, the pads declined, 13 % tax
        assert version.approval.approved_total(version.quote) == Decimal("339.00")


def test_the_checklists_file_is_imported_once_by_the_upgrade(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shop that kept its checklists in ``QUALITY_CHECKLISTS_FILE`` finds them on the
    settings page after the upgrade (an item without a key gets one from its words)."""
    script = ScriptDirectory.from_config(alembic_config(app))
    command.downgrade(alembic_config(app), str(script.get_revision("0022").down_revision))
    assert "quality_checklist_items" not in inspect(app.extensions["db_engine"]).get_table_names()
    checklists = tmp_path / "checklists.json"
    checklists.write_text(
        json.dumps(
            {
                "": [{"key": "key_returned", "en": "Key on the hook", "zh_CN": "钥匙已挂回"}],
                "brakes": [{"en": "Pads bedded in"}, {"en": "Pedal firm", "zh_CN": "踏板坚实"}],
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("QUALITY_CHECKLISTS_FILE", str(checklists))
    upgrade(app)
    assert current_revision(app) == script.get_current_head()
    with app.app_context():
        assert shop_checklists(db.session()) == {
            "": [{"key": "key_returned", "en": "Key on the hook", "zh_CN": "钥匙已挂回"}],
            "brakes": [
                {"key": "pads_bedded_in", "en": "Pads bedded in", "zh_CN": "Pads bedded in"},
                {"key": "pedal_firm", "en": "Pedal firm", "zh_CN": "踏板坚实"},
            ],
        }


def test_upgrade_twice_is_harmless(app: Flask) -> None:
    before = current_revision(app)
    upgrade(app)
    assert current_revision(app) == before


def _typed_rows(app: Flask) -> dict[str, list[str]]:
    """Every row of every typed table a sync record is projected into."""
    from sync_server.record_tables import (
        ApprovalDecisionRow,
        QuoteLineRow,
        QuoteOptionRow,
    )
    from sync_server.sync.projections import PROJECTIONS

    models = [*PROJECTIONS.values(), QuoteLineRow, QuoteOptionRow, ApprovalDecisionRow]
    found = {}
    with app.extensions["db_engine"].connect() as connection:
        for model in models:
            table = model.__table__
            rows = connection.execute(select(table)).all()
            found[table.name] = sorted(repr(tuple(row)) for row in rows)
    return found


def _approval_months(app: Flask) -> list[tuple[object, ...]]:
    from sync_server.approval_month_tables import ApprovalMonth

    table = ApprovalMonth.__table__
    with app.extensions["db_engine"].connect() as connection:
        rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
    return [tuple(row) for row in rows]


def test_a_demo_shop_at_0005_upgrades_with_every_record_in_its_typed_table(app: Flask) -> None:
    """The demo shop (walk-arounds, marks, photos, signatures, consents, quotes with
    options, an approval) and a note, taken back to 0005 (only the sync records and the
    six old typed tables hold them), then upgraded: every record is in its typed table,
    row for row as the projection wrote it, and the monthly approval summary as the
    projection kept it."""
    from sync_server.demo import seed_demo
    from sync_server.sync.projections import PROJECTIONS
    from sync_server.sync.records import lock_feed, put_server_record
    from sync_server.visit_tables import Visit

    with app.app_context():
        session = db.session()
        seed_demo(session)
        visit_id = session.scalars(select(Visit.id)).first()
        lock_feed(session)
        put_server_record(session, "note", domain.VisitNote(visit_id=visit_id, text="Waits"))
        session.commit()
    projected = _typed_rows(app)
    for table in ("walkarounds", "damage_marks", "visit_photos", "signatures", "consents"):
        assert projected[table], f"the demo has no {table}"
    for table in ("visit_notes", "quote_lines", "quote_options", "approval_decisions"):
        assert projected[table], f"the demo has no {table}"
    summary = _approval_months(app)  # as the projection kept it
    assert summary, "the demo has no approvals"

    command.downgrade(alembic_config(app), "0005")
    tables = set(inspect(app.extensions["db_engine"]).get_table_names())
    assert not tables & {"walkarounds", "consents", "quote_lines", "approval_decisions"}
    upgrade(app)

    assert _typed_rows(app) == projected
    assert _approval_months(app) == summary  # filled again by migration 0023
    with app.extensions["db_engine"].connect() as connection:
        for kind, model in PROJECTIONS.items():
            synced = set(
                connection.execute(select(SyncRecord.id).where(SyncRecord.kind == kind)).scalars()
            )
            typed = set(connection.execute(select(model.__table__.c.id)).scalars())
            assert synced == typed, kind


def test_0008_gives_a_database_full_of_data_an_identity_and_keeps_the_data(
    app: Flask,
) -> None:
    """Down to 0005 with a synced record, up again: the record stays; the server gets an
    identity and a first feed epoch (a restore changes the epoch later)."""
    from sync_server.sync.tables import ServerIdentity

    command.downgrade(alembic_config(app), "0005")
    assert "server_identity" not in inspect(app.extensions["db_engine"]).get_table_names()
    record_id = domain.new_id()
    with app.extensions["db_engine"].begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sync_records (kind, id, fields, clocks, seq, created_by,"
                " updated_by, created_at, updated_at)"
                " VALUES ('note', :id, '{}', '{}', 1, 'dev', 'dev', :at, :at)"
            ),
            {"id": record_id, "at": datetime(2026, 11, 20, 8, tzinfo=UTC)},
        )
    upgrade(app)
    with app.app_context():
        session = db.session()
        assert session.get(SyncRecord, ("note", record_id)) is not None
        identity = session.get(ServerIdentity, 1)
        assert identity is not None and len(identity.feed_epoch) == 36
        assert identity.server_id != identity.feed_epoch


def test_0024_works_out_every_car_of_a_filled_database(app: Flask) -> None:
    """The demo shop taken back before 0024, then upgraded: every car's due dates are
    there, the same as the server keeps them, before any run."""
    from sync_server.demo import seed_demo
    from sync_server.follow_up.cars_due import catch_up
    from sync_server.follow_up.tables import CarDue

    with app.app_context():
        seed_demo(db.session())
        db.session().commit()
        assert catch_up(db.session()) > 0  # the cars the demo wrote, queued for the job
        db.session().commit()

    def rows() -> list[tuple[object, ...]]:
        with app.extensions["db_engine"].connect() as connection:
            table = CarDue.__table__
            found = connection.execute(
                select(table.c.vehicle_id, table.c.kind, table.c.subject, table.c.due_on)
            ).all()
        return sorted(tuple(row) for row in found)

    kept = rows()
    assert {kind for _car, kind, _subject, _due in kept} == {"maintenance", "deferred"}
    script = ScriptDirectory.from_config(alembic_config(app))
    command.downgrade(alembic_config(app), str(script.get_revision("0024").down_revision))
    assert "follow_up_cars_due" not in inspect(app.extensions["db_engine"]).get_table_names()
    upgrade(app)
    assert rows() == kept


def test_0025_counts_every_hand_back_already_recorded_for_the_service_star(app: Flask) -> None:
    """Hand-backs recorded before 0025 — one with its advisor, a promise and a quality
    check, one with none of them — are in the star's table after the upgrade, row for
    row as the hand-back writes them now."""
    from survey_fixtures import at, hand_back, person

    from sync_server.work_tables import HandedBackJob

    def jobs() -> list[tuple]:  # type: ignore[type-arg]
        with app.extensions["db_engine"].connect() as connection:
            table = HandedBackJob.__table__
            return [
                tuple(row) for row in connection.execute(select(table).order_by(table.c.visit_id))
            ]

    with app.app_context():
        session = db.session()
        advisor = person(session, "star.advisor")
        hand_back(
            session,
            at("2026-06-10T18:00"),
            advisor_id=advisor,
            promised=at("2026-06-10T17:00"),
            ready_at=at("2026-06-10T16:30"),
        )
        hand_back(session, at("2026-06-12T18:00"))
    written = jobs()
    assert len(written) == 2 and {row[2] for row in written} == {advisor, None}
    script = ScriptDirectory.from_config(alembic_config(app))
    command.downgrade(alembic_config(app), str(script.get_revision("0025").down_revision))
    assert "handed_back_jobs" not in inspect(app.extensions["db_engine"]).get_table_names()
    upgrade(app)
    assert jobs() == written


def test_0027_drops_the_unused_origin_index_and_keeps_every_applied_change(
    app: Flask, client: Any
) -> None:
    """A shop whose devices pushed before 0027: the changes applied stay, row for row
    (a repeated push still gets its first answer); only the index on their origin goes."""
    from server_fixtures import Shop, bearer

    from sync_server.sync.tables import AppliedChange

    token = Shop(app).device_token("tablet", "Lane tablet")
    customer = to_wire(domain.Customer(name="王芳", phone="+8613612345678"))
    change = {
        "change_id": "0b6f9d2e-6a43-4c1e-9a55-2f7c1d3e4b5a",
        "kind": "customer",
        "id": customer.pop("id"),
        "hlc": f"{int(datetime.now(UTC).timestamp() * 1000):016d}-0000-lane",
        "fields": customer,
    }
    push = {"schema": 1, "changes": [change]}
    first = client.post("/api/v1/sync/push", json=push, headers=bearer(token)).get_json()
    assert first["results"][0]["status"] == 201

    def applied() -> list[tuple]:  # type: ignore[type-arg]
        with app.extensions["db_engine"].connect() as connection:
            return [tuple(row) for row in connection.execute(select(AppliedChange.__table__))]

    def origin_indexed() -> bool:
        indexes = inspect(app.extensions["db_engine"]).get_indexes("applied_changes")
        return any(index["column_names"] == ["origin"] for index in indexes)

    before = applied()
    assert len(before) == 1 and not origin_indexed()
    script = ScriptDirectory.from_config(alembic_config(app))
    command.downgrade(alembic_config(app), str(script.get_revision("0027").down_revision))
    assert origin_indexed()
    upgrade(app)
    assert applied() == before and not origin_indexed()
    again = client.post("/api/v1/sync/push", json=push, headers=bearer(token)).get_json()
    assert again["results"] == first["results"]
