"""A planned shop for appointment tests: bays, technicians, a customer and a car."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy.orm import Session

from shared import domain
from sync_server.appointment_tables import ServiceBay
from sync_server.back_office_tables import Technician
from sync_server.shop_tables import Shop
from sync_server.sync.records import lock_feed, put_server_record

ZONE = ZoneInfo("Asia/Shanghai")
# Long before every day the tests book, so no booking is "in the past" and VIP hours
# are still reserved.
EARLY = datetime(2026, 1, 1, 9, tzinfo=ZONE)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


@dataclass
class PlannedShop:
    bay_ids: list[int]
    technician_ids: list[int]
    customer_id: str
    vehicle_id: str


def engine_session(app: Flask) -> Session:
    return Session(app.extensions["db_engine"], expire_on_commit=False)


def plan_shop(
    app: Flask,
    *,
    bays: int = 1,
    specialities: tuple[tuple[str, ...], ...] = (("engine",),),
    phone: str = "+8613812345678",
    plate: str = "京A12345",
) -> PlannedShop:
    with engine_session(app) as session:
        shop = session.get(Shop, 1) or Shop(id=1)
        shop.timezone = "Asia/Shanghai"
        session.add(shop)
        bay_rows = [ServiceBay(name=f"Bay {index + 1}") for index in range(bays)]
        people = [
            Technician(name=f"Tech {index + 1}", specialities=list(kinds))
            for index, kinds in enumerate(specialities)
        ]
        session.add_all(bay_rows + people)
        customer = domain.Customer(name="王芳", phone=phone, email="wang.fang@example.com")
        vehicle = domain.Vehicle(customer_id=customer.id, plate=plate, make="BYD", model="Han")
        lock_feed(session)
        put_server_record(session, "customer", customer)
        put_server_record(session, "vehicle", vehicle)
        session.commit()
        return PlannedShop(
            [row.id for row in bay_rows], [row.id for row in people], customer.id, vehicle.id
        )
