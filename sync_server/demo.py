"""A realistic demo shop: people, customers with English and Chinese names, their cars,
today's appointments and a few visits already under way.

Running it again brings the demo records back to their demo state (their ids are fixed),
with appointments moved to today; it never touches records it did not make.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import domain
from shared.validation import check_vin
from shared.visit_status import VisitStatus
from sync_server.models import Appointment, User, UserRole
from sync_server.people import create_user
from sync_server.shop import shop_settings

DEMO_NAMESPACE = uuid.UUID("5b0f3c52-7f57-4a4e-9d0e-1f3b7a0c9d11")
DEMO_PASSWORD = "demo-pass-2026"


def demo_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{key}"))


def vin_with_check_digit(first_eight: str, last_eight: str) -> str:
    """A VIN whose 9th character is the right ISO 3779 check digit."""
    for digit in "0123456789X":
        vin = f"{first_eight}{digit}{last_eight}"
        checked = check_vin(vin)
        if checked.ok and not checked.warnings:
            return vin
    raise ValueError(f"no check digit fits {first_eight}?{last_eight}")


@dataclass(frozen=True)
class DemoCustomer:
    key: str
    name: str
    phone: str
    tier: str
    channel: str
    plate: str
    vin_head: str
    vin_tail: str
    make: str
    model: str
    year: int
    mileage: int


CUSTOMERS = (
    DemoCustomer(
        "zhang-wei",
        "张伟",
        "+8613812345678",
        "vip",
        "sms",
        "京A12345",
        "LVGBE40K",
        "KG118422",
        "Toyota",
        "Camry",
        2019,
        48210,
    ),
    DemoCustomer(
        "wang-fang",
        "王芳",
        "+8613912345601",
        "regular",
        "phone",
        "沪BD12345",
        "LGXCE4CB",
        "NC034517",
        "BYD",
        "Han EV",
        2022,
        21540,
    ),
    DemoCustomer(
        "emily-carter",
        "Emily Carter",
        "+8618600001111",
        "regular",
        "email",
        "粤B88K21",
        "LSVAX60E",
        "LN204418",
        "Volkswagen",
        "Tiguan L",
        2020,
        63005,
    ),
    DemoCustomer(
        "li-qiang",
        "李强",
        "+8615012345602",
        "regular",
        "sms",
        "浙A5G7H2",
        "LHGCV163",
        "HA051236",
        "Honda",
        "Accord",
        2017,
        112873,
    ),
    DemoCustomer(
        "chen-jing",
        "陈静",
        "+8617712345603",
        "vip",
        "sms",
        "苏ED56789",
        "LRW3E7FA",
        "MC190032",
        "Tesla",
        "Model 3",
        2021,
        35790,
    ),
    DemoCustomer(
        "david-mueller",
        "David Müller",
        "+491701234567",
        "regular",
        "email",
        "京B6Y2Q3",
        "WBAJA510",
        "JG882163",
        "BMW",
        "530Li",
        2018,
        89440,
    ),
    DemoCustomer(
        "liu-yang",
        "刘洋",
        "+8613612345604",
        "regular",
        "phone",
        "川A7K8M9",
        "L6T78Y4E",
        "LN402251",
        "Geely",
        "Boyue",
        2020,
        57312,
    ),
    DemoCustomer(
        "zhao-min",
        "赵敏",
        "+8618912345605",
        "regular",
        "sms",
        "鄂A3N2P8",
        "LGBH52E0",
        "KY310987",
        "Nissan",
        "Sylphy",
        2019,
        70126,
    ),
)

# (customer key, code, local arrival time, requested work, concern codes, minutes)
APPOINTMENTS = (
    ("zhang-wei", "Q7M4KX", time(8, 30), "Scheduled 50,000 km maintenance", ["maintenance"], 90),
    ("wang-fang", "H3PZ9D", time(9, 15), "Air conditioning not cooling", ["air_conditioning"], 60),
    ("emily-carter", "T8VN2R", time(10, 0), "Brake noise when stopping", ["brakes", "noise"], 120),
    (
        "li-qiang",
        "C5WJ6G",
        time(13, 30),
        "Oil change and tyre rotation",
        ["oil_change", "tyres"],
        60,
    ),
    ("chen-jing", "R2XF8B", time(15, 0), "Annual inspection", ["inspection"], 45),
)

# (customer key, ticket, status, minutes since check-in, concern codes, concern text)
VISITS = (
    (
        "david-mueller",
        "A-001",
        "in_progress",
        150,
        ["warning_light"],
        "Engine light on since Monday",
    ),
    (
        "liu-yang",
        "A-002",
        "quote_sent",
        95,
        ["noise", "tyres"],
        "Knocking from front left at low speed",
    ),
    ("zhao-min", "A-003", "checked_in", 12, ["maintenance"], ""),
)

PEOPLE = (
    ("manager", "Manager Zhou 周经理", UserRole.MANAGER),
    ("li.na", "Li Na 李娜", UserRole.ADVISOR),
    ("tom", "Tom Becker", UserRole.ADVISOR),
)


def seed_demo(session: Session, now: datetime | None = None) -> str:
    """Create or refresh the demo shop; returns a summary to print."""
    now = now or datetime.now(UTC)
    shop = shop_settings(session)
    shop.name = "Bright Star Auto Service 明星汽车服务"
    shop.plate_region = "CN"
    shop.phone_region = "CN"
    shop.timezone = "Asia/Shanghai"
    shop.address = "88 Jianguo Road, Chaoyang, Beijing"
    shop.phone = "+861065550188"

    made_people = []
    for username, display_name, role in PEOPLE:
        if session.scalar(select(User).where(User.username == username)) is None:
            create_user(session, username, DEMO_PASSWORD, role, display_name)
            made_people.append(username)

    from sync_server.sync.records import lock_feed, put_server_record

    lock_feed(session)
    for item in CUSTOMERS:
        put_server_record(
            session,
            "customer",
            domain.Customer(
                id=demo_id("customer", item.key),
                name=item.name,
                phone=item.phone,
                email=f"{item.key}@example.com",
                preferred_channel=domain.ContactChannel(item.channel),
                reminders_opt_in=item.tier == "vip",
                tier=domain.CustomerTier(item.tier),
            ),
        )
        put_server_record(
            session,
            "vehicle",
            domain.Vehicle(
                id=demo_id("vehicle", item.key),
                customer_id=demo_id("customer", item.key),
                plate=item.plate,
                vin=vin_with_check_digit(item.vin_head, item.vin_tail),
                make=item.make,
                model=item.model,
                year=item.year,
                last_mileage_km=item.mileage,
            ),
        )

    zone = ZoneInfo(shop.timezone)
    today = now.astimezone(zone).date()
    for key, code, local_time, work, concerns, minutes in APPOINTMENTS:
        put_server_record(
            session,
            "appointment",
            domain.Appointment(
                id=demo_id("appointment", key),
                code=code,
                customer_id=demo_id("customer", key),
                vehicle_id=demo_id("vehicle", key),
                expected_arrival=datetime.combine(today, local_time, tzinfo=zone).astimezone(UTC),
                requested_work=work,
                concern_codes=[domain.ConcernCode(c) for c in concerns],
                expected_duration_minutes=minutes,
                channel=domain.AppointmentChannel.phone,
            ),
        )
        # The demo resets its appointments to "booked", so the kiosk can find them again.
        appointment = session.get(Appointment, demo_id("appointment", key))
        assert appointment is not None
        appointment.status = "booked"
    mileage = {item.key: item.mileage for item in CUSTOMERS}
    for key, ticket, status, minutes_ago, concerns, text in VISITS:
        put_server_record(
            session,
            "visit",
            domain.Visit(
                id=demo_id("visit", key),
                ticket_number=ticket,
                customer_id=demo_id("customer", key),
                vehicle_id=demo_id("vehicle", key),
                status=VisitStatus(status),
                concern_codes=[domain.ConcernCode(c) for c in concerns],
                concern_text=text,
                mileage_in_km=mileage[key] + 1200,
                checked_in_at=now - timedelta(minutes=minutes_ago),
                checked_in_device_id=None,
            ),
        )
    session.commit()
    people_note = (
        f"people {', '.join(made_people)} (password {DEMO_PASSWORD!r})"
        if made_people
        else "people already there"
    )
    return (
        f"Demo shop ready: {len(CUSTOMERS)} customers and vehicles, "
        f"{len(APPOINTMENTS)} appointments today, {len(VISITS)} visits; {people_note}."
    )
