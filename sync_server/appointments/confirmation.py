"""Telling the customer about their appointment, in their language, through the outbox.

A booking, a move and a cancellation each queue an e-mail (when we have the address)
with an iCalendar invite made by the ``icalendar`` package — one stable ``UID`` per
appointment, ``SEQUENCE`` raised by every change, ``METHOD:CANCEL`` when cancelled, the
shop's time zone as a ``VTIMEZONE`` — and the QR code of the short code the kiosk scans;
and a text message with the code. A reminder is queued for the day before, at a time
outside the quiet hours; a move re-times it and a cancellation withdraws it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta

import icalendar
import qrcode
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.i18n import Text, normalize_language
from shared.shop_time import shop_zone
from sync_server.appointment_tables import AppointmentPlan, OutboundAttachment
from sync_server.back_office_tables import OutboundMessage
from sync_server.shop_tables import Shop
from sync_server.visit_tables import Appointment, Customer, Vehicle

UID_DOMAIN = "appointments.service-lane"
# No message goes out between these shop-local hours.
QUIET_FROM, QUIET_UNTIL = time(21), time(8)
REMINDER_AT = time(10)
WITHDRAWN = "withdrawn"

SUBJECTS = {
    "booked": Text("Your appointment at {shop}: {when}", "server"),
    "moved": Text("Your appointment at {shop} has moved: {when}", "server"),
    "cancelled": Text("Your appointment at {shop} is cancelled", "server"),
    "reminder": Text("Reminder: your appointment at {shop} tomorrow at {time}", "server"),
}
BODIES = {
    "booked": Text(
        "Hello {name}, your appointment for {plate} is booked for {when} ({work}). "
        "At the kiosk, scan the QR code or type the code {code}.",
        "server",
    ),
    "moved": Text(
        "Hello {name}, your appointment for {plate} is now on {when} ({work}). "
        "Your code stays {code}.",
        "server",
    ),
    "cancelled": Text(
        "Hello {name}, your appointment for {plate} on {when} is cancelled.", "server"
    ),
    "reminder": Text(
        "Hello {name}, see you tomorrow at {time} for {plate}. Your code: {code}.", "server"
    ),
}


def invite(appointment: Appointment, plan: AppointmentPlan, shop: Shop, language: str) -> bytes:
    """The iCalendar invite (or its cancellation) for ``appointment``."""
    zone_name = shop.timezone or "UTC"
    zone = shop_zone(zone_name)
    cancelled = plan.state == "cancelled"
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Service lane//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"{appointment.id}@{UID_DOMAIN}")
    event.add("sequence", plan.sequence)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", plan.starts_at.astimezone(zone))
    event.add("dtend", plan.ends_at.astimezone(zone))
    event.add(
        "summary",
        Text("Car service at {shop}", "server", {"shop": shop.name}).render(language),
    )
    event.add("description", f"{appointment.requested_work}\n{appointment.code}")
    if shop.address:
        event.add("location", shop.address)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def qr_png(code: str) -> bytes:
    image = qrcode.make(code, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def reminder_time(arrival: datetime, now: datetime, zone_name: str) -> datetime | None:
    """When to remind: the day before at 10:00 shop time, or now if that has passed and
    it is not quiet hours; ``None`` when there is no fitting time before the arrival."""
    zone = shop_zone(zone_name)
    local = arrival.astimezone(zone)
    planned = datetime.combine(local.date() - timedelta(days=1), REMINDER_AT, zone)
    if planned > now:
        return planned.astimezone(UTC)
    local_now = now.astimezone(zone).time()
    if QUIET_UNTIL <= local_now < QUIET_FROM and arrival - now > timedelta(hours=3):
        return now
    return None


def message_params(
    appointment: Appointment,
    plan: AppointmentPlan,
    customer: Customer,
    vehicle: Vehicle,
    shop: Shop,
) -> dict[str, str]:
    """What the messages about ``appointment`` fill in, in the shop's time."""
    local = plan.starts_at.astimezone(shop_zone(shop.timezone))
    return {
        "shop": shop.name,
        "name": customer.name,
        "plate": vehicle.plate,
        "when": local.strftime("%Y-%m-%d %H:%M"),
        "time": local.strftime("%H:%M"),
        "work": appointment.requested_work,
        "code": appointment.code,
    }


def _language(customer: Customer, shop: Shop) -> str:
    return normalize_language(customer.language or shop.default_language or "zh_CN")


def notify_appointment(
    session: Session, appointment_id: str, event: str, *, now: datetime | None = None
) -> list[OutboundMessage]:
    """Queue the e-mail and text for ``event`` (booked, moved, cancelled) in the caller's
    transaction, and set up (or re-time, or withdraw) the day-before reminder."""
    now = now or datetime.now(UTC)
    appointment = session.get(Appointment, appointment_id)
    plan = session.get(AppointmentPlan, appointment_id)
    shop = session.get(Shop, 1)
    if appointment is None or plan is None or shop is None:
        return []
    customer = session.get(Customer, appointment.customer_id)
    vehicle = session.get(Vehicle, appointment.vehicle_id)
    if customer is None or vehicle is None:
        return []
    language = _language(customer, shop)
    params = message_params(appointment, plan, customer, vehicle, shop)
    queued: list[OutboundMessage] = []
    subject = Text(SUBJECTS[event].message, "server", params).render(language)
    body = Text(BODIES[event].message, "server", params).render(language)
    method = "CANCEL" if event == "cancelled" else "REQUEST"
    if customer.email:
        mail = OutboundMessage(
            event=f"appointment_{event}",
            channel="email",
            recipient=customer.email,
            language=language,
            subject=subject,
            body=body,
            next_attempt_at=now,
        )
        session.add(mail)
        session.flush()
        session.add(
            OutboundAttachment(
                message_id=mail.id,
                filename="invite.ics",
                content_type=f"text/calendar; method={method}",
                content=invite(appointment, plan, shop, language),
            )
        )
        if event != "cancelled":
            session.add(
                OutboundAttachment(
                    message_id=mail.id,
                    filename=f"{appointment.code}.png",
                    content_type="image/png",
                    content=qr_png(appointment.code),
                )
            )
        queued.append(mail)
    if customer.phone:
        text = OutboundMessage(
            event=f"appointment_{event}",
            channel="sms",
            recipient=customer.phone,
            language=language,
            subject="",
            body=body,
            next_attempt_at=now,
        )
        session.add(text)
        queued.append(text)
    _reminder(session, appointment, plan, customer, shop, language, params, now)
    session.flush()
    return queued


def _reminder(
    session: Session,
    appointment: Appointment,
    plan: AppointmentPlan,
    customer: Customer,
    shop: Shop,
    language: str,
    params: dict[str, str],
    now: datetime,
) -> None:
    tag = reminder_event(appointment.code)
    for pending in session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.event == tag, OutboundMessage.state == "pending"
        )
    ):
        pending.state = WITHDRAWN
    plan.reminder_message_id = None
    if plan.state == "cancelled" or not customer.phone:
        return
    due = reminder_time(plan.starts_at, now, shop.timezone)
    if due is None:
        return  # too late for the planned time: the reminder job tries after quiet hours
    queue_reminder(session, plan, customer, language, params, due)


def reminder_event(code: str) -> str:
    return f"appointment_reminder:{code}"[:30]


def queue_reminder(
    session: Session,
    plan: AppointmentPlan,
    customer: Customer,
    language: str,
    params: dict[str, str],
    due: datetime,
) -> OutboundMessage:
    """Queue the day-before text for ``plan``, due at ``due``, and remember it on the plan."""
    message = OutboundMessage(
        event=reminder_event(params["code"]),
        channel="sms",
        recipient=customer.phone,
        language=language,
        subject="",
        body=Text(BODIES["reminder"].message, "server", params).render(language),
        next_attempt_at=due,
    )
    session.add(message)
    session.flush()
    plan.reminder_message_id = message.id
    return message
