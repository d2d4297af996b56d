""" "Walk-around done" at the desk: only with the walk-around signed on the tablet, or on a
manager's word with the reason, which is kept and shown on the visit page; migration
0009 adds the table without touching anything else."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from server_fixtures import Shop
from sqlalchemy import inspect, text
from web_fixtures import make_visit, page_text, post_form, web_login

from shared import domain
from shared.visit_status import VisitStatus
from sync_server import db
from sync_server.migrate import alembic_config, current_revision, upgrade
from sync_server.record_tables import ApprovalSafetyAcknowledgementRow
from sync_server.sync.records import lock_feed, put_server_record
from sync_server.sync.tables import SyncRecord
from sync_server.visit_tables import Visit, WalkaroundOverride


def status_of(app: Flask, visit_id: str) -> str:
    with app.app_context():
        visit = db.session().get(Visit, visit_id)
        assert visit is not None
        return visit.status


def walkaround_done(client: FlaskClient, visit_id: str):  # type: ignore[no-untyped-def]
    return post_form(
        client,
        f"/visits/{visit_id}/status",
        {"event": "complete_walkaround"},
        f"/visits/{visit_id}",
    )


def tablet_walkaround(app: Flask, visit_id: str, *, signed: bool) -> None:
    """The walk-around as the tablet syncs it, signed by the customer or not."""
    with app.app_context():
        session = db.session()
        walkaround = domain.Walkaround(visit_id=visit_id, odometer_km=61250, fuel_eighths=4)
        lock_feed(session)
        put_server_record(session, "walkaround", walkaround)
        if signed:
            put_server_record(
                session,
                "signature",
                domain.Signature(
                    visit_id=visit_id,
                    purpose=domain.SignaturePurpose.checkin_sheet,
                    strokes=[[domain.StrokePoint(0.1, 0.5, 0), domain.StrokePoint(0.8, 0.4, 90)]],
                    signed_sha256=walkaround.report_sha256(),
                    signer_name="张伟",
                ),
            )
        session.commit()


def test_walkaround_done_needs_a_signed_walkaround(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app, status=VisitStatus.checked_in)
    web_login(client, shop)
    walkaround_done(client, made.visit_id).close()
    assert status_of(app, made.visit_id) == VisitStatus.checked_in
    page = page_text(client.get(f"/visits/{made.visit_id}"))
    assert "The walk-around is not signed yet" in page
    assert "a manager can mark it done with a reason" in page
    assert 'name="reason"' not in page  # an advisor has no override form

    tablet_walkaround(app, made.visit_id, signed=False)
    walkaround_done(client, made.visit_id).close()
    assert status_of(app, made.visit_id) == VisitStatus.checked_in

    tablet_walkaround(app, made.visit_id, signed=True)
    walkaround_done(client, made.visit_id).close()
    assert status_of(app, made.visit_id) == VisitStatus.walkaround_done


def test_an_advisor_cannot_override(app: Flask, client: FlaskClient, shop: Shop) -> None:
    made = make_visit(app, status=VisitStatus.checked_in)
    web_login(client, shop)
    response = post_form(
        client,
        f"/visits/{made.visit_id}/walkaround-override",
        {"reason": "The tablet is broken today"},
        f"/visits/{made.visit_id}",
    )
    assert response.status_code == 403
    response.close()
    assert status_of(app, made.visit_id) == VisitStatus.checked_in


def test_a_manager_overrides_with_a_reason_that_is_kept_and_shown(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    made = make_visit(app, status=VisitStatus.checked_in)
    web_login(client, shop, "manager")
    url = f"/visits/{made.visit_id}/walkaround-override"
    page = page_text(client.get(f"/visits/{made.visit_id}"))
    assert 'name="reason"' in page and "Mark walk-around done (manager)" in page

    post_form(client, url, {"reason": "  "}, f"/visits/{made.visit_id}").close()
    assert status_of(app, made.visit_id) == VisitStatus.checked_in
    assert "Say why the walk-around is done" in page_text(client.get(f"/visits/{made.visit_id}"))

    reason = "Tablet broken; photos taken with the shop camera"
    post_form(client, url, {"reason": reason}, f"/visits/{made.visit_id}").close()
    assert status_of(app, made.visit_id) == VisitStatus.walkaround_done
    with app.app_context():
        kept = db.session().query(WalkaroundOverride).one()
        assert kept.visit_id == made.visit_id and kept.reason == reason
    page = page_text(client.get(f"/visits/{made.visit_id}"))
    assert "Walk-around marked done without a signed walk-around by" in page and reason in page

    # Once done, a second override changes nothing.
    post_form(client, url, {"reason": "again, by mistake"}, f"/visits/{made.visit_id}").close()
    with app.app_context():
        assert db.session().query(WalkaroundOverride).count() == 1


def test_migration_0009_adds_its_tables_and_keeps_acknowledged_safety_lines(app: Flask) -> None:
    """Down to 0008 (an empty shop: a later revision's downgrade is not this test's
    business), an approval whose record names an acknowledged safety line, up again."""
    command.downgrade(alembic_config(app), "0008")
    assert current_revision(app) == "0008"
    tables = set(inspect(app.extensions["db_engine"]).get_table_names())
    assert "walkaround_overrides" not in tables
    approval_id, line_id = domain.new_id(), domain.new_id()
    fields = {
        "quote_id": domain.new_id(),
        "quote_version": 1,
        "decisions": {line_id: "declined"},
        "signature_id": domain.new_id(),
        "safety_acknowledged": [line_id],
    }
    with app.extensions["db_engine"].begin() as connection:
        connection.execute(
            SyncRecord.__table__.insert().values(
                kind="approval",
                id=approval_id,
                fields=fields,
                clocks={},
                seq=1,
                created_by="server",
                updated_by="server",
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        )
        connection.execute(
            text(
                "INSERT INTO approvals (id, quote_id, quote_version, signature_id, approved_at,"
                " ip_address, user_agent) VALUES (:id, :quote, 1, :signature, :at, '', '')"
            ),
            {
                "id": approval_id,
                "quote": fields["quote_id"],
                "signature": fields["signature_id"],
                "at": datetime(2026, 12, 6, 8, tzinfo=UTC),
            },
        )
    upgrade(app, "0009")
    assert current_revision(app) == "0009"
    with app.app_context():
        session = db.session()
        assert session.query(WalkaroundOverride).count() == 0
        kept = session.query(ApprovalSafetyAcknowledgementRow).one()
        assert (kept.approval_id, kept.line_id) == (approval_id, line_id)
