"""The ``checkin-server`` commands, through Flask's CLI runner."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from sync_server import db
from sync_server.shop_tables import Device, User
from sync_server.visit_tables import Appointment, Customer, Visit


def test_create_user_and_refusals(app: Flask, runner: FlaskCliRunner) -> None:
    made = runner.invoke(
        args=["create-user", "li.na", "--role", "advisor", "--password", "long-enough-1"]
    )
    assert made.exit_code == 0, made.output
    again = runner.invoke(
        args=["create-user", "li.na", "--role", "advisor", "--password", "long-enough-1"]
    )
    assert again.exit_code != 0 and "already taken" in again.output
    short = runner.invoke(args=["create-user", "tom", "--role", "manager", "--password", "short"])
    assert short.exit_code != 0 and "at least 8" in short.output
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(User)) == 1


def test_pair_code_then_devices_list_and_revoke(app: Flask, runner: FlaskCliRunner) -> None:
    issued = runner.invoke(
        args=["pair", "--role", "tablet", "--name", "Advisor tablet 2", "--quiet"]
    )
    assert issued.exit_code == 0
    code = issued.output.strip()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)

    paired = app.test_client().post("/api/v1/devices/pair", json={"code": code})
    assert paired.status_code == 201
    listing = runner.invoke(args=["devices", "list"])
    assert "Advisor tablet 2" in listing.output and "active" in listing.output

    revoked = runner.invoke(args=["devices", "revoke", paired.json["device_id"]])
    assert revoked.exit_code == 0
    assert "revoked" in runner.invoke(args=["devices", "list"]).output
    with app.app_context():
        assert db.session().scalar(select(Device)).revoked_at is not None


def test_pair_shows_qr_for_people(runner: FlaskCliRunner) -> None:
    shown = runner.invoke(args=["pair", "--role", "kiosk"])
    assert shown.exit_code == 0
    assert "Pairing code for a kiosk" in shown.output
    assert "█" in shown.output or "▀" in shown.output


def test_demo_is_repeatable(app: Flask, runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "already there" in second.output
    with app.app_context():
        session = db.session()
        assert session.scalar(select(func.count()).select_from(Customer)) == 8
        assert session.scalar(select(func.count()).select_from(Appointment)) == 5
        assert session.scalar(select(func.count()).select_from(Visit)) == 5  # 2 handed back
        names = set(session.scalars(select(Customer.name)))
        assert "张伟" in names and "Emily Carter" in names
        # The appointment pages can book from the start: the demo shop has its bays.
        from sync_server.appointment_tables import ServiceBay

        assert session.scalar(select(func.count()).select_from(ServiceBay)) == 4
    assert "2 answered surveys (1 hot alert), 1 complaint in progress" in second.output
    _one_of_each_after_care(app)


def _one_of_each_after_care(app: Flask) -> None:
    """The follow-up half after two runs: one promoter, one hot alert with its call-back
    and case, one complaint in progress with its steps, the settings rows — once each."""
    from sync_server.complaints.tables import ComplaintCase, ComplaintLabel, ComplaintStep
    from sync_server.follow_up.tables import FollowUpSettings
    from sync_server.surveys.tables import Survey, SurveyCallback

    with app.app_context():
        session = db.session()
        surveys = session.scalars(select(Survey).order_by(Survey.recommend)).all()
        assert [(s.recommend, s.hot) for s in surveys] == [(4, True), (10, False)]
        assert all(s.answered_at is not None and s.comment for s in surveys)
        [callback] = session.scalars(select(SurveyCallback)).all()
        assert callback.survey_id == surveys[0].id and callback.done_at is None
        by_channel = {c.channel: c for c in session.scalars(select(ComplaintCase))}
        assert sorted(by_channel) == ["phone", "survey"]
        assert callback.complaint_case_id == by_channel["survey"].id
        phoned = by_channel["phone"]
        assert phoned.state == "investigating" and phoned.category_id is not None
        steps = session.scalars(
            select(ComplaintStep.action).where(ComplaintStep.case_id == phoned.id)
        ).all()
        assert list(steps) == ["receive", "acknowledge", "investigate"]
        assert session.scalar(select(func.count()).select_from(ComplaintStep)) == 4
        assert session.scalar(select(func.count()).select_from(ComplaintLabel)) == 7
        settings = session.get(FollowUpSettings, 1)
        assert settings is not None and (settings.budget_count, settings.budget_days) == (1, 7)


def test_db_upgrade_command(app: Flask, runner: FlaskCliRunner) -> None:
    from alembic.script import ScriptDirectory

    from sync_server.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(app)).get_current_head()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and f"revision {head}" in result.output
