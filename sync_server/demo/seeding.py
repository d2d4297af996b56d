"""Seeding the demo shop: settings, people, records through the sync engine, technicians,
bays, dispatch and the messages a customer would have had."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import domain
from shared.visit_status import VisitStatus
from sync_server.appointment_tables import ServiceBay
from sync_server.back_office_tables import JobAssignment, OutboundMessage, Technician
from sync_server.demo.after_care import seed_after_care
from sync_server.demo.cast import (
    APPOINTMENTS,
    CUSTOMERS,
    DEMO_PASSWORD,
    DEMO_PIN,
    LANGUAGES,
    PEOPLE,
    TECHNICIANS,
    VISITS,
    demo_id,
    vin_with_check_digit,
)
from sync_server.demo.quotes import david_quote, liu_quote, seed_approval, seed_quote
from sync_server.demo.walkarounds import DAVID_WALKAROUND, LIU_WALKAROUND, seed_walkaround
from sync_server.messaging.outbox import Gateways
from sync_server.people import create_user, set_pin
from sync_server.shop import shop_settings
from sync_server.shop_tables import User, UserRole
from sync_server.sync.blobs import BlobStore
from sync_server.visit_tables import Appointment, Customer


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
    seed_walkaround(
        session, blob_store, "david-mueller", DAVID_WALKAROUND, mileage, ago["david-mueller"]
    )
    seed_walkaround(session, blob_store, "liu-yang", LIU_WALKAROUND, mileage, ago["liu-yang"])
    seed_quote(session, "david-mueller", david_quote(), now - timedelta(minutes=110))
    seed_quote(session, "liu-yang", liu_quote(), now - timedelta(minutes=20))
    seed_approval(session, blob_store, "david-mueller", now - timedelta(minutes=95))
    _seed_dispatch(session, "david-mueller", technicians["Wu Lei 吴磊"])
    _seed_messages(
        session,
        "david-mueller",
        [("quote_sent", 110), ("approved", 95), ("in_progress", 90)],
        now,
        david_quote(),
    )
    _seed_messages(session, "liu-yang", [("quote_sent", 20)], now, liu_quote())
    advisor = session.scalar(select(User.id).where(User.username == "li.na"))
    assert advisor is not None
    after_care = seed_after_care(session, now, zone, advisor, _base_url())
    session.commit()
    people_note = (
        f"people {', '.join(made_people)} (password {DEMO_PASSWORD!r}, "
        f"advisors' tablet PIN {DEMO_PIN})"
        if made_people
        else "people already there"
    )
    return (
        f"Demo shop ready: {len(CUSTOMERS)} customers and vehicles, "
        f"{len(APPOINTMENTS)} appointments today, {len(VISITS)} visits under way; {after_care}; "
        f"{people_note}."
    )


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
    base_url = _base_url()
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


def _base_url() -> str:
    """Where the links in the demo's messages point."""
    from flask import current_app, has_app_context

    config = current_app.config if has_app_context() else {}
    return str(config.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")


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
