"""A realistic demo shop: people, customers with English and Chinese names, their cars,
today's appointments and a few visits already under way.

The visits under way carry what the back office would hold by then: the consent, the
walk-around with photos (drawn here, stored like a tablet's uploads), damage marks and
the signed check-in sheet, quotes with options (sent, and one approved on the phone
with a signature), technicians and the work dispatched.

Running it again brings the demo records back to their demo state (their ids are fixed),
with appointments moved to today; it never touches records it did not make.
"""

from __future__ import annotations

import hashlib
import io
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import domain
from shared.validation import check_vin
from shared.visit_status import VisitStatus
from shared.walkaround_report import assemble
from sync_server.appointment_tables import ServiceBay
from sync_server.messaging.outbox import Gateways
from sync_server.models import (
    Appointment,
    ApprovalRow,
    Blob,
    Customer,
    JobAssignment,
    OutboundMessage,
    QuoteRow,
    Technician,
    User,
    UserRole,
)
from sync_server.people import create_user, set_pin
from sync_server.shop import shop_settings
from sync_server.sync.blobs import BlobStore

DEMO_NAMESPACE = uuid.UUID("5b0f3c52-7f57-4a4e-9d0e-1f3b7a0c9d11")
DEMO_PASSWORD = "demo-pass-2026"
DEMO_PIN = "2026"  # the advisors' tablet PIN


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
        "低速时前左有异响 Knocking from front left at low speed",
    ),
    ("zhao-min", "A-003", "checked_in", 12, ["maintenance"], ""),
)

PEOPLE = (
    ("manager", "Manager Zhou 周经理", UserRole.MANAGER),
    ("li.na", "Li Na 李娜", UserRole.ADVISOR),
    ("tom", "Tom Becker", UserRole.ADVISOR),
)

TECHNICIANS = (
    ("Chen Gang 陈刚", ["brakes", "tyres"]),
    ("Wu Lei 吴磊", ["engine", "electrics"]),
    ("Zhou Ming 周明", ["maintenance", "air_conditioning"]),
)
# The language each demo customer chose at the kiosk (their consent).
LANGUAGES = {"david-mueller": "en", "liu-yang": "zh_CN", "zhao-min": "zh_CN"}


def seed_demo(
    session: Session, now: datetime | None = None, blob_store: BlobStore | None = None
) -> str:
    """Create or refresh the demo shop; returns a summary to print.

    Photos and signatures need the blob store: the app's own (inside an app context)
    unless one is given; without either the walk-arounds come without pictures.
    """
    now = now or datetime.now(UTC)
    if blob_store is None:
        blob_store = _app_blob_store()
    shop = shop_settings(session)
    shop.name = "Bright Star Auto Service 明星汽车服务"
    shop.plate_region = "CN"
    shop.phone_region = "CN"
    shop.timezone = "Asia/Shanghai"
    shop.address = "88 Jianguo Road, Chaoyang, Beijing"
    shop.phone = "+861065550188"

    made_people = []
    for username, display_name, role in PEOPLE:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = create_user(session, username, DEMO_PASSWORD, role, display_name)
            made_people.append(username)
        if role == UserRole.ADVISOR and user.pin_hash is None:
            set_pin(session, user, DEMO_PIN)

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

    for item in CUSTOMERS:  # the demo's VIPs, as a manager would have marked them
        customer = session.get(Customer, demo_id("customer", item.key))
        if customer is not None and item.tier == "vip" and not customer.vip:
            customer.vip, customer.vip_reason = True, "VIP tier"

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
    channel = {item.key: item.channel for item in CUSTOMERS}
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
                contact_channel=domain.ContactChannel(channel[key]),
                checked_in_at=now - timedelta(minutes=minutes_ago),
                checked_in_device_id=None,
                status_token=_status_token(key),
            ),
        )
        put_server_record(
            session,
            "consent",
            domain.Consent(
                id=demo_id("consent", key),
                visit_id=demo_id("visit", key),
                text_version="2026-1",
                text_sha256=hashlib.sha256(b"demo consent text 2026-1").hexdigest(),
                language=LANGUAGES[key],
                accepted_at=domain.utcnow() - timedelta(minutes=minutes_ago),
            ),
        )
    technicians = _seed_technicians(session)
    _seed_bays(session)
    ago = {key: now - timedelta(minutes=minutes) for key, _t, _s, minutes, _c, _x in VISITS}
    _seed_walkaround(
        session, blob_store, "david-mueller", DAVID_WALKAROUND, mileage, ago["david-mueller"]
    )
    _seed_walkaround(session, blob_store, "liu-yang", LIU_WALKAROUND, mileage, ago["liu-yang"])
    _seed_quote(session, "david-mueller", david_quote(), now - timedelta(minutes=110))
    _seed_quote(session, "liu-yang", liu_quote(), now - timedelta(minutes=20))
    _seed_approval(session, blob_store, "david-mueller", now - timedelta(minutes=95))
    _seed_dispatch(session, "david-mueller", technicians["Wu Lei 吴磊"])
    _seed_messages(
        session,
        "david-mueller",
        [("quote_sent", 110), ("approved", 95), ("in_progress", 90)],
        now,
        david_quote(),
    )
    _seed_messages(session, "liu-yang", [("quote_sent", 20)], now, liu_quote())
    session.commit()
    people_note = (
        f"people {', '.join(made_people)} (password {DEMO_PASSWORD!r}, "
        f"advisors' tablet PIN {DEMO_PIN})"
        if made_people
        else "people already there"
    )
    return (
        f"Demo shop ready: {len(CUSTOMERS)} customers and vehicles, "
        f"{len(APPOINTMENTS)} appointments today, {len(VISITS)} visits; {people_note}."
    )


def _millis(moment: datetime) -> datetime:
    """A time cut to the millisecond, as the wire format carries it."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _seed_messages(
    session: Session,
    key: str,
    events: list[tuple[str, int]],
    now: datetime,
    quote: domain.Quote,
) -> None:
    """What the customer was told so far (once: messages have no fixed ids); "sent" only
    where this server has a gateway for the channel, as it would really have gone."""
    from flask import current_app, has_app_context

    from sync_server.messaging import CALLED, SENT, notify_customer
    from sync_server.messaging.outbox import gateways
    from sync_server.quotes import approval_token

    visit_id = demo_id("visit", key)
    if session.scalar(select(OutboundMessage.id).where(OutboundMessage.visit_id == visit_id)):
        return
    config = current_app.config if has_app_context() else {}
    base_url = (config.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
    secret = config.get("SECRET_KEY")
    link = f"{base_url}/approve/{approval_token(secret, quote)}" if secret else base_url
    for event, minutes_ago in events:
        message = notify_customer(session, visit_id, event, base_url=base_url, links={"link": link})
        if message is None:
            continue
        at = now - timedelta(minutes=minutes_ago)
        message.created_at = message.next_attempt_at = at
        message.state, message.attempts = _demo_outcome(message.channel, gateways(config)), 1
        if message.state in (SENT, CALLED):
            message.sent_at = at
        else:  # told as it would really have gone: not sent, without a gateway
            message.last_error = "no e-mail server or SMS gateway set up"


def _demo_outcome(channel: str, ready: Gateways) -> str:
    """What became of a past demo message: sent only through a gateway this server has."""
    from sync_server.messaging import CALLED, NO_GATEWAY, SENT

    if channel == "call":
        return CALLED
    return SENT if (ready.email if channel == "email" else ready.sms) else NO_GATEWAY


def _app_blob_store() -> BlobStore | None:
    from flask import current_app, has_app_context

    return current_app.extensions.get("blob_store") if has_app_context() else None


def _status_token(key: str) -> str:
    """A fixed status-page token per demo visit (the ticket's QR code stays valid)."""
    return hashlib.sha256(f"demo-status:{key}".encode()).hexdigest()[:22]


def _seed_technicians(session: Session) -> dict[str, int]:
    ids = {}
    for name, specialities in TECHNICIANS:
        technician = session.scalar(select(Technician).where(Technician.name == name))
        if technician is None:
            technician = Technician(name=name, specialities=specialities)
            session.add(technician)
            session.flush()
        ids[name] = technician.id
    return ids


# The demo shop's lifts: the appointment pages book against them from the start.
BAYS = ("1号工位 Bay 1", "2号工位 Bay 2", "3号工位 Bay 3", "4号工位 Bay 4")


def _seed_bays(session: Session) -> None:
    known = set(session.scalars(select(ServiceBay.name)))
    session.add_all(ServiceBay(name=name) for name in BAYS if name not in known)
    session.flush()


def _seed_dispatch(session: Session, key: str, technician_id: int) -> None:
    visit_id = demo_id("visit", key)
    if session.scalar(select(JobAssignment.id).where(JobAssignment.visit_id == visit_id)):
        return
    session.add(JobAssignment(visit_id=visit_id, technician_id=technician_id))


# --- pictures: drawn, so the demo needs no files ----------------------------------------


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return buffer.getvalue()


def car_photo(body: tuple[int, int, int], damage: str) -> bytes:
    """A side view of a car in the workshop, with a scratch or a dent to see."""
    image = Image.new("RGB", (1280, 960), (214, 219, 226))
    draw = ImageDraw.Draw(image)
    for y in range(0, 560, 4):  # the workshop wall, lighter towards the top
        shade = 232 - y // 12
        draw.rectangle((0, y, 1280, y + 4), fill=(shade, shade + 2, shade + 6))
    draw.rectangle((0, 640, 1280, 960), fill=(150, 154, 160))  # the floor
    for x in range(0, 1280, 160):
        draw.line((x, 640, x - 120, 960), fill=(138, 142, 148), width=3)
    dark = tuple(max(0, c - 45) for c in body)
    draw.rounded_rectangle((130, 430, 1150, 650), radius=70, fill=body)  # lower body
    draw.polygon([(330, 440), (450, 300), (820, 290), (990, 440)], fill=body)  # cabin
    draw.polygon([(372, 432), (470, 318), (620, 314), (620, 432)], fill=(160, 190, 215))
    draw.polygon([(640, 432), (640, 312), (805, 308), (935, 432)], fill=(160, 190, 215))
    draw.line((630, 300, 630, 640), fill=dark, width=5)  # the door gap
    draw.line((130, 520, 1150, 520), fill=dark, width=3)
    draw.rectangle((1100, 470, 1150, 500), fill=(250, 230, 170))  # head light
    draw.rectangle((130, 470, 165, 500), fill=(200, 40, 40))  # tail light
    for centre in (320, 960):
        draw.ellipse((centre - 105, 545, centre + 105, 755), fill=(28, 28, 30))
        draw.ellipse((centre - 60, 590, centre + 60, 710), fill=(170, 174, 180))
        draw.ellipse((centre - 18, 632, centre + 18, 668), fill=(90, 92, 96))
    if damage == "scratch":
        draw.line((690, 548, 805, 575), fill=(235, 235, 235), width=5)
        draw.line((700, 560, 790, 580), fill=(220, 220, 220), width=3)
    elif damage == "dent":
        draw.ellipse((860, 560, 950, 615), fill=dark)
        draw.arc((860, 560, 950, 615), 200, 340, fill=(240, 240, 240), width=4)
    return _jpeg(image.filter(ImageFilter.SMOOTH))


def tyre_photo() -> bytes:
    """A close-up of a worn tyre tread, the wear bars level with the tread."""
    image = Image.new("RGB", (1280, 960), (120, 118, 112))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((180, 60, 1100, 900), radius=60, fill=(36, 36, 38))
    for x in (380, 560, 740, 920):
        draw.rectangle((x - 14, 60, x + 14, 900), fill=(22, 22, 24))  # grooves, shallow
        for y in range(120, 900, 180):
            draw.rectangle((x - 14, y, x + 14, y + 26), fill=(58, 58, 60))  # wear bars
    for y in range(90, 900, 60):
        draw.line((180, y, 1100, y + 30), fill=(48, 48, 50), width=6)
    return _jpeg(image)


def coil_photo() -> bytes:
    """Under the bonnet: six ignition coils, the third one cracked."""
    image = Image.new("RGB", (1280, 960), (44, 46, 50))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((120, 260, 1160, 700), radius=30, fill=(70, 72, 78))
    for index in range(6):
        x = 220 + index * 170
        draw.rounded_rectangle((x - 50, 320, x + 50, 640), radius=18, fill=(24, 24, 26))
        draw.ellipse((x - 36, 340, x + 36, 412), fill=(210, 120, 30))
        if index == 2:
            draw.line((x - 30, 460, x + 10, 540), fill=(230, 230, 230), width=6)
            draw.line((x + 10, 540, x - 8, 610), fill=(230, 230, 230), width=5)
    return _jpeg(image)


def signature_strokes(seed: int) -> list[list[domain.StrokePoint]]:
    """A handwritten-looking signature: two strokes of a wave and a flourish."""
    first = [
        domain.StrokePoint(
            round(0.08 + step * 0.012, 4),
            round(0.55 - 0.25 * math.sin(step / (3.2 + seed % 3)) * (1 - step / 80), 4),
            step * 12,
        )
        for step in range(60)
    ]
    second = [
        domain.StrokePoint(
            round(0.55 + step * 0.02, 4), round(0.72 - step * 0.012, 4), 900 + step * 15
        )
        for step in range(18)
    ]
    return [first, second]


def signature_png(strokes: list[list[domain.StrokePoint]]) -> bytes:
    image = Image.new("RGB", (600, 200), "white")
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(
            [(p.x * 600, p.y * 200) for p in stroke], fill=(17, 17, 17), width=4, joint="curve"
        )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _store_picture(
    session: Session, blob_store: BlobStore | None, data: bytes, content_type: str
) -> domain.PhotoRef:
    """Keep a picture as a tablet's upload would be kept; its reference either way."""
    sha = hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as picture:
        width, height = picture.size
    if blob_store is not None:
        if not blob_store.has(sha):
            blob_store.receive(sha, content_type, io.BytesIO(data))
        if session.get(Blob, sha) is None:
            session.add(
                Blob(
                    sha256=sha,
                    content_type=content_type,
                    size_bytes=len(data),
                    width=width,
                    height=height,
                    uploaded_by="demo",
                )
            )
    return domain.PhotoRef(
        sha256=sha,
        size_bytes=len(data),
        content_type=domain.ImageType(content_type),
        width=width,
        height=height,
    )


# --- walk-arounds -----------------------------------------------------------------------


@dataclass(frozen=True)
class DemoWalkaround:
    body: tuple[int, int, int]
    fuel_eighths: int
    warning_lights: tuple[str, ...]
    exterior_notes: str
    interior_notes: str
    belongings: domain.Belongings
    tread_mm: dict[str, float]
    # (caption, picture, damage on a drawing: (view, x, y, type, severity, note, pin x, y))
    photos: tuple[tuple[str, str, tuple | None], ...]  # type: ignore[type-arg]
    signer: str


DAVID_WALKAROUND = DemoWalkaround(
    body=(28, 44, 78),
    fuel_eighths=5,
    warning_lights=("engine",),
    exterior_notes="Scratch on the right rear door; small dent on the rear bumper",
    interior_notes="Clean; dash cam fitted",
    belongings=domain.Belongings(documents=True, keys_count=2, other_note="Umbrella in the boot"),
    tread_mm={"fl": 5.5, "fr": 5.4, "rl": 4.8, "rr": 4.9},
    photos=(
        (
            "Right side",
            "car:scratch",
            ("right", 0.58, 0.62, domain.DamageType.scratch, 2, "Right rear door", 0.58, 0.59),
        ),
        (
            "Rear bumper",
            "car:dent",
            ("rear", 0.7, 0.7, domain.DamageType.dent, 1, "Rear bumper, right", 0.71, 0.61),
        ),
        ("Ignition coils", "coil", None),
    ),
    signer="David Müller",
)
LIU_WALKAROUND = DemoWalkaround(
    body=(186, 190, 196),
    fuel_eighths=2,
    warning_lights=("tyre_pressure",),
    exterior_notes="前左轮胎已磨到磨损标记 Front-left tyre worn to the wear bars",
    interior_notes="",
    belongings=domain.Belongings(spare_wheel=True, jack=True, keys_count=1),
    tread_mm={"fl": 1.6, "fr": 3.1, "rl": 4.2, "rr": 4.0},
    photos=(
        (
            "左侧 Left side",
            "car:scratch",
            (
                "left",
                0.45,
                0.6,
                domain.DamageType.scratch,
                1,
                "驾驶员侧车门 Driver's door",
                0.6,
                0.59,
            ),
        ),
        ("前左轮胎 Front-left tyre", "tyre", None),
    ),
    signer="刘洋",
)


def _picture(name: str, body: tuple[int, int, int]) -> bytes:
    if name.startswith("car:"):
        return car_photo(body, name.split(":", 1)[1])
    return {"tyre": tyre_photo, "coil": coil_photo}[name]()


def _seed_walkaround(
    session: Session,
    blob_store: BlobStore | None,
    key: str,
    demo: DemoWalkaround,
    mileage: dict[str, int],
    checked_in: datetime,
) -> None:
    """The walk-around done with the customer in the minutes after check-in."""
    from sync_server.sync.records import put_server_record

    visit_id = demo_id("visit", key)
    walkaround = domain.Walkaround(
        id=demo_id("walkaround", key),
        visit_id=visit_id,
        odometer_km=mileage[key] + 1200,
        fuel_eighths=demo.fuel_eighths,
        warning_lights=list(demo.warning_lights),
        belongings=demo.belongings,
        exterior_notes=demo.exterior_notes,
        interior_notes=demo.interior_notes,
        tyre_tread_mm=dict(demo.tread_mm),
    )
    photos, marks = [], []
    for index, (caption, picture, mark) in enumerate(demo.photos):
        image = _store_picture(session, blob_store, _picture(picture, demo.body), "image/jpeg")
        photos.append(
            domain.VisitPhoto(
                id=demo_id("photo", f"{key}:{index}"),
                visit_id=visit_id,
                walkaround_id=walkaround.id,
                image=image,
                caption=caption,
                taken_at=_millis(checked_in + timedelta(minutes=4 + index)),
            )
        )
        if mark is not None:
            view, x, y, damage_type, severity, note, pin_x, pin_y = mark
            marks.append(
                domain.DamageMark(
                    id=demo_id("damage_mark", f"{key}:{index}"),
                    walkaround_id=walkaround.id,
                    view=domain.DiagramView(view),
                    x=x,
                    y=y,
                    damage_type=damage_type,
                    severity=severity,
                    note=note,
                    pins=[domain.PhotoPin(image.sha256, pin_x, pin_y)],
                    created_at=_millis(checked_in + timedelta(minutes=5 + index)),
                )
            )
    # Put together as the tablet does before the customer signs (shared.walkaround_report).
    assemble(visit_id, [walkaround], marks, photos, [])
    strokes = signature_strokes(len(key))
    image = _store_picture(session, blob_store, signature_png(strokes), "image/png")
    signature = domain.Signature(
        id=demo_id("signature", f"{key}:sheet"),
        visit_id=visit_id,
        purpose=domain.SignaturePurpose.checkin_sheet,
        strokes=strokes,
        image=image,
        signed_sha256=walkaround.report_sha256(),
        signer_name=demo.signer,
        signed_at=_millis(checked_in + timedelta(minutes=11)),
    )
    put_server_record(session, "walkaround", walkaround)
    for photo in photos:
        put_server_record(session, "photo", photo)
    for mark in marks:
        put_server_record(session, "damage_mark", mark)
    put_server_record(session, "signature", signature)


# --- quotes with options, and an approval -----------------------------------------------


def _labour(
    key: str,
    description: str,
    hours: str,
    rate: str,
    urgency: domain.Urgency,
    option: domain.QuoteOption | None = None,
) -> domain.QuoteLine:
    return domain.QuoteLine(
        id=demo_id("quote_line", key),
        kind=domain.QuoteLineKind.labour,
        description=description,
        hours=Decimal(hours),
        labour_rate=Decimal(rate),
        urgency=urgency,
        option_id=option.id if option else None,
    )


def _part(
    key: str,
    description: str,
    quantity: str,
    price: str,
    urgency: domain.Urgency,
    part_number: str = "",
    option: domain.QuoteOption | None = None,
    photos: tuple[str, ...] = (),
    kind: domain.QuoteLineKind = domain.QuoteLineKind.part,
) -> domain.QuoteLine:
    return domain.QuoteLine(
        id=demo_id("quote_line", key),
        kind=kind,
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        part_number=part_number,
        urgency=urgency,
        photo_sha256s=list(photos),
        option_id=option.id if option else None,
    )


def _photo_sha(index: int, demo: DemoWalkaround) -> str:
    return hashlib.sha256(_picture(demo.photos[index][1], demo.body)).hexdigest()


RED, YELLOW, GREEN = domain.Urgency.red, domain.Urgency.yellow, domain.Urgency.green


def david_quote() -> domain.Quote:
    """The BMW's engine light: one cracked ignition coil; replace it, or all six."""
    one = domain.QuoteOption(
        id=demo_id("quote_option", "david:one"),
        label="Replace the cracked coil (cylinder 3)",
        notes="Fixes today's misfire at the lowest cost. The other five coils are the "
        "same age and may fail later.",
    )
    six = domain.QuoteOption(
        id=demo_id("quote_option", "david:six"),
        label="Replace all six coils and the spark plugs",
        notes="Costs more now, but the plugs are due at 90,000 km anyway and it saves "
        "another visit for the next coil.",
    )
    coil = (_photo_sha(2, DAVID_WALKAROUND),)
    coil_number = "12 13 8 657 273"
    return domain.Quote(
        id=demo_id("quote", "david-mueller"),
        visit_id=demo_id("visit", "david-mueller"),
        option_label="Engine warning light: misfire on cylinder 3",
        notes="We read the fault codes and found a cracked ignition coil on cylinder 3.",
        options=[one, six],
        lines=[
            _labour("david:diagnosis", "Read fault codes and test the ignition", "0.5", "220", RED),
            _part(
                "david:filter", "Engine air filter (dirty)", "1", "168", GREEN, "13 71 8 577 170"
            ),
            _part(
                "david:one-coil",
                "Ignition coil, genuine BMW",
                "1",
                "620",
                RED,
                coil_number,
                one,
                coil,
            ),
            _labour("david:one-fit", "Fit the ignition coil", "0.4", "220", RED, one),
            _part(
                "david:six-coils",
                "Ignition coils, genuine BMW (set of 6)",
                "6",
                "590",
                RED,
                coil_number,
                six,
                coil,
            ),
            _part(
                "david:six-plugs",
                "Spark plugs (set of 6)",
                "6",
                "95",
                YELLOW,
                "12 12 0 039 664",
                six,
            ),
            _labour("david:six-fit", "Fit the coils and the plugs", "1.5", "220", YELLOW, six),
            _part(
                "david:loyalty",
                "Loyal customer discount",
                "1",
                "50",
                GREEN,
                option=six,
                kind=domain.QuoteLineKind.discount,
            ),
        ],
    )


def liu_quote() -> domain.Quote:
    """The Geely's knock at the front left: a worn stabiliser link, genuine or not."""
    genuine = domain.QuoteOption(
        id=demo_id("quote_option", "liu:genuine"),
        label="原厂配件 Genuine Geely parts",
        notes="两年质保，今天可装好。2-year warranty; in stock, fitted today.",
    )
    aftermarket = domain.QuoteOption(
        id=demo_id("quote_option", "liu:aftermarket"),
        label="品牌副厂配件 Lemförder parts",
        notes="约便宜四成，一年质保。About 40% cheaper, 1-year warranty.",
    )
    tyre = (_photo_sha(1, LIU_WALKAROUND),)
    return domain.Quote(
        id=demo_id("quote", "liu-yang"),
        visit_id=demo_id("visit", "liu-yang"),
        option_label="前左异响与轮胎 Front-left knock and tyre",
        notes="异响来自磨损的前左稳定杆连杆。The knock comes from a worn stabiliser link.",
        options=[genuine, aftermarket],
        lines=[
            _part("liu:tyre", "前左轮胎 Front-left tyre 225/55 R18", "1", "780", RED, photos=tyre),
            _labour("liu:alignment", "四轮定位 Wheel alignment", "1", "180", YELLOW),
            _part("liu:wipers", "雨刮片 Wiper blades (pair)", "1", "120", GREEN),
            _part(
                "liu:genuine-link",
                "稳定杆连杆 Stabiliser link, genuine",
                "1",
                "420",
                RED,
                "4013034800",
                genuine,
            ),
            _labour("liu:genuine-fit", "更换连杆 Replace the link", "1", "180", RED, genuine),
            _part(
                "liu:after-link",
                "稳定杆连杆 Stabiliser link, Lemförder",
                "1",
                "250",
                RED,
                "LF-38211",
                aftermarket,
            ),
            _labour("liu:after-fit", "更换连杆 Replace the link", "1", "180", RED, aftermarket),
        ],
    )


def _seed_quote(session: Session, key: str, quote: domain.Quote, sent_at: datetime) -> None:
    from sync_server.sync.records import put_server_record

    put_server_record(session, "quote", quote)
    row = session.get(QuoteRow, quote.id)
    assert row is not None
    if row.sent_at is None:
        row.sent_at = sent_at


def _seed_approval(
    session: Session, blob_store: BlobStore | None, key: str, approved_at: datetime
) -> None:
    """The customer chose the first option on their phone and signed."""
    from sync_server.quotes import signed_content_sha256
    from sync_server.sync.records import put_server_record

    quote = david_quote()
    option_id = quote.options[0].id
    decisions = {
        line.id: (
            domain.LineDecision.declined
            if line.id == demo_id("quote_line", "david:filter")
            else domain.LineDecision.approved
        )
        for line in quote.lines_for(option_id)
        if line.kind in (domain.QuoteLineKind.labour, domain.QuoteLineKind.part)
    }
    strokes = signature_strokes(7)
    image = _store_picture(session, blob_store, signature_png(strokes), "image/png")
    signature = domain.Signature(
        id=demo_id("signature", f"{key}:approval"),
        visit_id=quote.visit_id,
        purpose=domain.SignaturePurpose.approval,
        strokes=strokes,
        image=image,
        signed_sha256=signed_content_sha256(quote, decisions, option_id),
        signer_name="David Müller",
        signed_at=_millis(approved_at),
    )
    approval = domain.Approval(
        id=demo_id("approval", key),
        quote_id=quote.id,
        quote_version=quote.version,
        decisions=decisions,
        signature_id=signature.id,
        approved_at=_millis(approved_at),
        ip_address="203.0.113.24",
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile Safari/604.1",
        option_id=option_id,
    )
    put_server_record(session, "signature", signature)
    put_server_record(session, "approval", approval)
    assert session.get(ApprovalRow, approval.id) is not None
