"""The schema comes from Alembic migrations, and they match the models exactly."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime
from decimal import Decimal

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import inspect, select, text
from sqlalchemy.schema import CreateIndex

from shared import domain
from shared.wire import to_wire
from sync_server import db
from sync_server.migrate import alembic_config, current_revision, upgrade
from sync_server.models import (
    INDEXED_RECORD_FIELDS,
    ApprovalRow,
    Base,
    SyncRecord,
    record_field,
)
from sync_server.quotes import latest_version


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


def _squeeze(sql: str) -> str:
    return re.sub(r"\s+", "", sql).lower()


def test_expression_indexes_match_the_models_on_sqlite_too(app: Flask) -> None:
    """Partial indexes on ``kind`` and a JSON member; compared by their SQL, which SQLite
    keeps as written and PostgreSQL gives back in its own words."""
    engine = app.extensions["db_engine"]
    indexes = {
        index.name: index
        for index in SyncRecord.__table__.indexes
        if index.name and index.name.startswith("ix_sync_records_")
    }
    assert set(indexes) == {f"ix_sync_records_{name}" for name in INDEXED_RECORD_FIELDS}
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            stored = dict(
                connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
                ).all()
            )
        else:
            stored = dict(
                connection.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"),
                    {"t": "sync_records"},
                ).all()
            )
    for name, index in indexes.items():
        assert name in stored, f"{name} is missing"
        if engine.dialect.name == "sqlite":
            model_sql = str(CreateIndex(index).compile(dialect=engine.dialect))
            assert _squeeze(stored[name]) == _squeeze(model_sql)
        else:
            field = name[len("ix_sync_records_") :]
            definition = stored[name]
            assert f"(kind, ((fields ->> '{field}'::text)))" in definition, definition
            assert f"WHERE ((fields ->> '{field}'::text) IS NOT NULL)" in definition, definition


def _plan(connection, statement) -> str:  # type: ignore[no-untyped-def]
    """The query plan of ``statement`` as the app runs it (values as bound parameters)."""
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args = tuple(params[name] for name in compiled.positiontup) if dialect.positional else params
    if dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), args).all()
        return "\n".join(str(row[-1]) for row in rows)
    connection.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: ask for the index
    rows = connection.exec_driver_sql("EXPLAIN " + str(compiled), args).all()
    return "\n".join(row[0] for row in rows)


def test_lookups_by_visit_and_walkaround_search_the_index(app: Flask) -> None:
    with app.extensions["db_engine"].connect() as connection:
        for name in INDEXED_RECORD_FIELDS:
            query = select(SyncRecord.id).where(
                SyncRecord.kind == "photo",
                record_field(name).in_(["6f1c1d7e-3f43-4c59-9a6f-0c4c7ad0a9b1"]),
            )
            plan = _plan(connection, query)
            assert f"ix_sync_records_{name}" in plan, plan
            assert "SCAN sync_records" not in plan and "Seq Scan" not in plan, plan


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


def test_upgrade_twice_is_harmless(app: Flask) -> None:
    before = current_revision(app)
    upgrade(app)
    assert current_revision(app) == before
