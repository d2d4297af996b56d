"""Migration 0016 upgrades a filled database with nothing lost: a complaint case taken at
the desk before it (with its step and its author) is there after it, and afterwards a case
the customer raises (no user as its author) can be kept."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from flask import Flask
from sqlalchemy import select
from web_fixtures import make_visit

from sync_server import db
from sync_server.complaints import cases, intake
from sync_server.complaints.tables import ComplaintCase, ComplaintStep
from sync_server.migrate import alembic_config, current_revision, upgrade
from sync_server.people import create_user
from sync_server.shop_tables import User, UserRole

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_complaints_before_0016_are_kept_and_the_customers_own_can_follow(app: Flask) -> None:
    made = make_visit(app)
    with app.app_context():
        session = db.session()
        create_user(session, "desk.wang", "correct-horse-9", UserRole.ADVISOR, "Wang")
        session.commit()
        author = session.scalar(select(User.id).where(User.username == "desk.wang"))
        case = cases.receive(
            session,
            customer_id=made.customer_id,
            visit_id=made.visit_id,
            channel="phone",
            summary="Scratch on the door",
            category_id="",
            user_id=author,
            now=NOW,
        )
        session.commit()
        case_id = case.id
        db.session().close()
    command.downgrade(alembic_config(app), "0015")
    assert current_revision(app) == "0015"
    upgrade(app)
    with app.app_context():
        session = db.session()
        kept = session.get(ComplaintCase, case_id)
        assert kept is not None and kept.created_by_user_id == author
        assert kept.summary == "Scratch on the door" and kept.first_response_due is not None
        (step,) = session.scalars(select(ComplaintStep).where(ComplaintStep.case_id == case_id))
        assert step.user_id == author and step.action == "receive"
        theirs = intake.receive_from_customer(
            session,
            customer_id=made.customer_id,
            visit_id=made.visit_id,
            channel="status_page",
            summary="Oil on the seat",
            now=NOW,
        )
        session.commit()
        assert session.get(ComplaintCase, theirs.id).created_by_user_id is None
