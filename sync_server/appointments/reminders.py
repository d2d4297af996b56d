"""The day-before reminder job, run before every pass of the message sender (the server's
sender thread and ``checkin-server send-messages`` alike).

* Bookings from three hours ahead to the end of tomorrow (shop time) that have no
  reminder get one — those booked late in the evening, when a reminder could not be
  planned outside quiet hours, and those booked before reminders existed. At most
  ``REMINDER_CAP`` per run; each booking remembers its reminder, so a second run (or a
  second server process) queues nothing twice.
* A reminder that comes due in quiet hours (the sender was off, a retry slipped past
  21:00) waits for the morning; one whose booking was cancelled, moved without it, or
  whose time has come is withdrawn. A reminder never goes out in quiet hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.shop_time import shop_zone
from sync_server.appointment_tables import AppointmentPlan
from sync_server.appointments.confirmation import (
    QUIET_FROM,
    QUIET_UNTIL,
    WITHDRAWN,
    _language,
    message_params,
    queue_reminder,
    reminder_time,
)
from sync_server.back_office_tables import OutboundMessage
from sync_server.shop_tables import Shop
from sync_server.visit_tables import Appointment, Customer, Vehicle

REMINDER_CAP = 200
# A reminder later than this before the arrival is no longer worth sending.
LAST_USEFUL = timedelta(hours=1)
EVENT_PREFIX = "appointment_reminder:"


def is_quiet(moment: datetime, zone_name: str) -> bool:
    local = moment.astimezone(shop_zone(zone_name)).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def quiet_ends(moment: datetime, zone_name: str) -> datetime:
    """When the quiet hours around ``moment`` end (UTC)."""
    zone = shop_zone(zone_name)
    local = moment.astimezone(zone)
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, zone).astimezone(UTC)


def queue_missing_reminders(session: Session, now: datetime, cap: int = REMINDER_CAP) -> int:
    """Queue the reminders bookings until the end of tomorrow lack; returns how many."""
    shop = session.get(Shop, 1)
    if shop is None or is_quiet(now, shop.timezone):
        return 0
    zone = shop_zone(shop.timezone)
    tomorrow_ends = datetime.combine(
        now.astimezone(zone).date() + timedelta(days=2), time.min, zone
    ).astimezone(UTC)
    rows = session.execute(
        select(AppointmentPlan, Appointment, Customer, Vehicle)
        .join(Appointment, Appointment.id == AppointmentPlan.appointment_id)
        .join(Customer, Customer.id == Appointment.customer_id)
        .join(Vehicle, Vehicle.id == Appointment.vehicle_id)
        .where(
            AppointmentPlan.starts_at > now + timedelta(hours=3),
            AppointmentPlan.starts_at < tomorrow_ends,
            AppointmentPlan.state == "booked",
            AppointmentPlan.reminder_message_id.is_(None),
            Appointment.status == "booked",
            Customer.phone != "",
        )
        .order_by(AppointmentPlan.starts_at)
        .limit(cap)
        .with_for_update(of=AppointmentPlan, skip_locked=True)
    ).all()
    queued = 0
    for plan, appointment, customer, vehicle in rows:
        due = reminder_time(plan.starts_at, now, shop.timezone)
        if due is None:
            continue
        params = message_params(appointment, plan, customer, vehicle, shop)
        queue_reminder(session, plan, customer, _language(customer, shop), params, due)
        queued += 1
    return queued


def hold_quiet_reminders(session: Session, now: datetime) -> int:
    """Withdraw due reminders that no longer fit their booking and put those that come
    due in quiet hours off until the morning; returns how many were touched."""
    shop = session.get(Shop, 1)
    if shop is None:
        return 0
    due = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.state == "pending",
            OutboundMessage.next_attempt_at <= now,
            OutboundMessage.event.startswith(EVENT_PREFIX),
        )
    ).all()
    if not due:
        return 0
    plans = {
        plan.reminder_message_id: plan
        for plan in session.scalars(
            select(AppointmentPlan).where(
                AppointmentPlan.reminder_message_id.in_([message.id for message in due])
            )
        )
    }
    touched = 0
    for message in due:
        plan = plans.get(message.id)
        if plan is None or plan.state != "booked" or plan.starts_at - LAST_USEFUL <= now:
            message.state = WITHDRAWN
            touched += 1
        elif is_quiet(now, shop.timezone):
            morning = quiet_ends(now, shop.timezone)
            if plan.starts_at - LAST_USEFUL <= morning:
                message.state = WITHDRAWN
            else:
                message.next_attempt_at = morning
            touched += 1
    return touched


def prepare_reminders(session: Session, now: datetime) -> dict[str, int]:
    """The reminder job: queue what is missing, hold what would be quiet; commits."""
    held = hold_quiet_reminders(session, now)
    queued = queue_missing_reminders(session, now)
    session.commit()
    return {"queued": queued, "held": held}
