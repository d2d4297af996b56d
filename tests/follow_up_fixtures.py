"""Customers with cars and service histories for the reminder tests, written the way the
server writes them (``put_server_record``), in a shop in Shanghai."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from shared import domain
from shared.visit_status import VisitStatus
from sync_server import create_app, db
from sync_server.shop import shop_settings
from sync_server.sync.records import lock_feed, put_server_record
from sync_server.visit_tables import Customer

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Numbers for the phones and plates of customers whose test does not name them, so that
# every customer of a module's shared database is told apart (``make_customer_with_car``).
_NUMBERS = itertools.count(1)


def at(text: str) -> datetime:
    """A shop wall-clock time in Shanghai, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def shop_app(database_url: str, folder: Path) -> Flask:
    os.environ["CHECKIN_INSTANCE_PATH"] = str(folder / "instance")
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
def reminder_app(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """One app per module on its own copy of the migrated SQLite database."""
    folder = tmp_path_factory.mktemp("follow-up")
    path = folder / "server.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = shop_app(f"sqlite:///{path}", folder)
    yield app
    app.extensions["db_engine"].dispose()
    os.environ.pop("CHECKIN_INSTANCE_PATH", None)


@dataclass(frozen=True)
class Service:
    day: str  # shop date, YYYY-MM-DD
    km: int | None
    codes: tuple[str, ...] = ("oil_change",)
    status: VisitStatus = VisitStatus.delivered


@dataclass(frozen=True)
class Made:
    customer_id: str
    vehicle_id: str


def make_customer_with_car(
    app: Flask,
    name: str,
    services: list[Service],
    *,
    phone: str | None = None,
    email: str = "",
    channel: str = "sms",
    language: str = "zh_CN",
    birthday: date | None = None,
    plate: str | None = None,
    opt_in: bool = True,
) -> Made:
    """A customer with a car and its services, as the server writes them. A customer the
    test gives no phone (and no e-mail) nor plate gets a phone and a plate of its own."""
    number = next(_NUMBERS)
    if phone is None:
        phone = "" if email else f"+86136{number:08d}"
    if plate is None:
        plate = f"沪D{number:05d}"
    with app.app_context():
        session = db.session()
        lock_feed(session)
        customer = domain.Customer(
            name=name,
            phone=phone,
            email=email,
            preferred_channel=domain.ContactChannel(channel),
            reminders_opt_in=opt_in,
            birthday=birthday,
        )
        vehicle = domain.Vehicle(customer_id=customer.id, plate=plate, make="BYD", model="Qin")
        put_server_record(session, "customer", customer)
        put_server_record(session, "vehicle", vehicle)
        for number, service in enumerate(services, start=1):
            put_server_record(
                session,
                "visit",
                domain.Visit(
                    ticket_number=f"F-{number:03d}",
                    customer_id=customer.id,
                    vehicle_id=vehicle.id,
                    status=service.status,
                    concern_codes=[domain.ConcernCode(code) for code in service.codes],
                    mileage_in_km=service.km,
                    checked_in_at=at(f"{service.day}T10:00"),
                    status_token=domain.new_status_token(),
                    reminders_opt_in=opt_in,
                ),
            )
        session.commit()
        row = session.get(Customer, customer.id)
        assert row is not None
        row.language = language
        session.commit()
        return Made(customer.id, vehicle.id)
