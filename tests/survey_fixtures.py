"""Surveys' test data in a few words: a shop in Shanghai with advisors, and cars handed
back at a given shop time (with the quality check's pass, the promised time, the concern),
written the way the server writes them (``put_server_record`` for the synced records)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from server_fixtures import PASSWORD
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import domain
from shared.visit_status import VisitStatus
from sync_server import create_app, db
from sync_server.hand_back import keep_handed_back_job
from sync_server.people import create_user
from sync_server.shop import shop_settings
from sync_server.shop_tables import User, UserRole
from sync_server.sync.records import lock_feed, put_server_record
from sync_server.work_tables import HandBack, QualityCheck

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A shop wall-clock time in Shanghai, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def survey_app(folder: Path, template: Path, database_url: str | None = None) -> Flask:
    """An app on a copy of the migrated SQLite template (or on ``database_url``), the shop
    in Shanghai, links to customers on ``PUBLIC_URL``."""
    if database_url is None:
        path = folder / "server.sqlite3"
        shutil.copyfile(template, path)
        database_url = f"sqlite:///{path}"
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "SECRET_KEY": "t",
            "PUBLIC_URL": "https://shop.example",
        }
    )
    with app.app_context():
        shop_settings(db.session()).timezone = "Asia/Shanghai"
        db.session().commit()
    return app


@pytest.fixture(scope="module")
def module_app(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Flask]:
    app = survey_app(tmp_path_factory.mktemp("surveys"), sqlite_template)
    yield app
    app.extensions["db_engine"].dispose()


def person(session: Session, username: str, role: str = "advisor") -> int:
    found = session.scalar(select(User.id).where(User.username == username))
    if found is not None:
        return found
    create_user(session, username, PASSWORD, UserRole(role), username.replace(".", " ").title())
    session.commit()
    return int(session.scalar(select(User.id).where(User.username == username)) or 0)


@dataclass
class Delivered:
    visit_id: str
    customer_id: str
    vehicle_id: str
    status_token: str


def hand_back(
    session: Session,
    handed_back_at: datetime,
    *,
    advisor_id: int | None = None,
    vehicle_id: str | None = None,
    customer_id: str | None = None,
    concern: str = "Brake noise when stopping",
    codes: tuple[str, ...] = ("brakes",),
    promised: datetime | None = None,
    ready_at: datetime | None = None,
    checked_in_at: datetime | None = None,
    phone: str = "+8613812345678",
    email: str = "",
    channel: str = "sms",
    language: str | None = None,
    status: VisitStatus = VisitStatus.delivered,
) -> Delivered:
    """A visit checked in, made ready and handed back at the given times (UTC stored)."""
    lock_feed(session)
    if customer_id is None:
        customer = domain.Customer(name="张伟", phone=phone, email=email)
        put_server_record(session, "customer", customer)
        customer_id = customer.id
    if vehicle_id is None:
        vehicle = domain.Vehicle(customer_id=customer_id, plate="京A12345", make="Toyota")
        put_server_record(session, "vehicle", vehicle)
        vehicle_id = vehicle.id
    visit = domain.Visit(
        ticket_number="K-001",
        customer_id=customer_id,
        vehicle_id=vehicle_id,
        status=status,
        concern_text=concern,
        concern_codes=[domain.ConcernCode(code) for code in codes],
        contact_channel=domain.ContactChannel(channel),
        checked_in_at=checked_in_at or handed_back_at - timedelta(hours=5),
        status_token=domain.new_status_token(),
        advisor_user_id=advisor_id,
        expected_ready_at=promised,
    )
    put_server_record(session, "visit", visit)
    if language:
        put_server_record(
            session,
            "consent",
            domain.Consent(
                visit_id=visit.id, text_version="v1", text_sha256="a" * 64, language=language
            ),
        )
    if status == VisitStatus.delivered:
        session.add(
            QualityCheck(
                visit_id=visit.id,
                job_type="",
                items=[],
                passed=True,
                checked_at=ready_at or handed_back_at - timedelta(hours=1),
            )
        )
        handed = HandBack(
            visit_id=visit.id,
            odometer_out_km=1000,
            work_done="Brake pads",
            parts_replaced=[],
            handed_back_at=handed_back_at,
        )
        session.add(handed)
        session.flush()
        keep_handed_back_job(session, handed)
    session.commit()
    return Delivered(visit.id, customer_id, vehicle_id, visit.status_token)
