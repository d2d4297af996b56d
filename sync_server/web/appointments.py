"""The desk books, moves and cancels appointments (any channel), against capacity.

The customer and car are picked by phone and plate or created on the spot, checked as
the kiosk checks them (``shared.validation``). A time that does not fit says why and
offers the next free times; nothing the desk typed is lost.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from shared import domain
from shared.i18n import Text
from shared.validation import check_name, check_phone, check_plate
from sync_server import db
from sync_server.access import STAFF, allow, require_caller
from sync_server.appointment_tables import AppointmentPlan, ServiceBay
from sync_server.appointments.booking import BookingRequest, SlotFull, book, cancel, move
from sync_server.appointments.capacity import calendar_for, day_capacity
from sync_server.appointments.confirmation import notify_appointment
from sync_server.appointments.day_plan import day_plan, mark_no_shows, undo_no_show
from sync_server.appointments.presets import JOB_PRESETS, PRESETS
from sync_server.appointments.settings import SettingsError, capacity_rules
from sync_server.appointments.vip import set_vip
from sync_server.back_office_tables import Technician
from sync_server.shop import shop_settings
from sync_server.visit_tables import Appointment, Customer, Vehicle
from sync_server.web import render_text

bp = Blueprint("appointments", __name__)

FORM_FIELDS = (
    "channel",
    "name",
    "phone",
    "plate",
    "starts",
    "preset",
    "minutes",
    "requested_work",
    "bay",
    "technician",
    "vip_reason",
)
CHANNELS = (
    ("phone", Text("Phone", "server")),
    ("web", Text("Web", "server")),
    ("walk_in", Text("Walk-in", "server")),
    ("vip", Text("VIP line", "server")),
)


def _calendar() -> Any:
    session = db.session()
    return calendar_for(session, shop_settings(session))


def _zone() -> Any:
    return _calendar().timezone


def _day() -> date:
    try:
        return date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return datetime.now(UTC).astimezone(_zone()).date()


def _day_rows(day: date) -> list[tuple[Appointment, AppointmentPlan | None]]:
    zone = _zone()
    start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
    end = start + timedelta(days=1)
    session = db.session()
    rows = session.execute(
        select(Appointment, AppointmentPlan)
        .outerjoin(AppointmentPlan, AppointmentPlan.appointment_id == Appointment.id)
        .options(joinedload(Appointment.customer), joinedload(Appointment.vehicle))
        .where(Appointment.expected_arrival >= start, Appointment.expected_arrival < end)
        .order_by(Appointment.expected_arrival)
    ).all()
    return [(row[0], row[1]) for row in rows]


def _page(form: dict[str, str], errors: dict[str, str], free: list[datetime], status: int = 200):  # type: ignore[no-untyped-def]
    session = db.session()
    day = _day()
    calendar = _calendar()
    capacity = day_capacity(session, calendar, day, datetime.now(UTC))
    body = render_template(
        "appointments/index.html",
        day=day,
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        rows=_day_rows(day),
        capacity=capacity,
        holiday=calendar.holiday_name(day),
        form=form,
        errors=errors,
        free=free,
        presets=[(preset.key, render_text(preset.label), preset.minutes) for preset in JOB_PRESETS],
        channels=[(key, render_text(label)) for key, label in CHANNELS],
        bays=session.scalars(select(ServiceBay).where(ServiceBay.active.is_(True))).all(),
        technicians=session.scalars(select(Technician).where(Technician.active.is_(True))).all(),
    )
    return body, status


@bp.get("/appointments")
@allow(*STAFF)
def index() -> ResponseReturnValue:
    # A request to book (a reminder's link) opens the form filled in: name, phone,
    # plate, the work and its preset.
    form = {"channel": "phone", "preset": "oil_service"}
    for name in ("name", "phone", "plate", "preset", "requested_work"):
        value = request.args.get(name, "").strip()
        if value and len(value) <= 500:
            form[name] = value
    return _page(form, {}, [])


def _local(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=_zone()) if moment.tzinfo is None else moment


def _pick_customer(form: dict[str, str], errors: dict[str, str]) -> tuple[str, str] | None:
    """The customer (by phone) and car (by plate), made if new; ``None`` on bad input."""
    from sync_server.sync.records import lock_feed, put_server_record

    session = db.session()
    shop = shop_settings(session)
    name = check_name(form["name"], required=False)
    phone = check_phone(form["phone"], shop.phone_region)  # type: ignore[arg-type]
    plate = check_plate(form["plate"], shop.plate_region)  # type: ignore[arg-type]
    for key, checked in (("name", name), ("phone", phone), ("plate", plate)):
        if checked.errors:
            errors[key] = render_text(checked.errors[0].message)
    if errors:
        return None
    lock_feed(session)
    customer = session.scalar(select(Customer).where(Customer.phone == phone.value))
    if customer is None:
        record = domain.Customer(name=name.value or "", phone=phone.value or "")
        put_server_record(session, "customer", record)
        customer_id = record.id
    else:
        customer_id = customer.id
    vehicle = session.scalar(select(Vehicle).where(Vehicle.plate == plate.value))
    if vehicle is None:
        car = domain.Vehicle(customer_id=customer_id, plate=plate.value or "")
        put_server_record(session, "vehicle", car)
        vehicle_id = car.id
    else:
        vehicle_id = vehicle.id
    return customer_id, vehicle_id


def _vip_line(form: dict[str, str], customer_id: str, errors: dict[str, str]) -> None:
    """The VIP line is for VIPs: a manager may make the customer one here, with a reason."""
    customer = db.session().get(Customer, customer_id)
    if form["channel"] != "vip" or (customer is not None and customer.vip):
        return
    if require_caller().role != "manager":
        errors["channel"] = render_text(
            Text(
                "The VIP line is for VIP customers; ask a manager to make this customer a VIP.",
                "server",
            )
        )
        return
    try:
        set_vip(db.session(), customer_id, True, form["vip_reason"])
    except SettingsError as refused:
        errors["vip_reason"] = render_text(refused.errors["vip_reason"])


def _chosen_start() -> str:
    """The time typed, or the offered free time tapped (its button comes after the field)."""
    given = [value.strip() for value in request.form.getlist("starts") if value.strip()]
    return given[-1] if given else ""


def _int_or_none(text: str) -> int | None:
    return int(text) if text.isdigit() else None


@bp.post("/appointments")
@allow(*STAFF)
def create() -> ResponseReturnValue:
    form = {name: (request.form.get(name) or "").strip() for name in FORM_FIELDS}
    form["starts"] = _chosen_start()
    errors: dict[str, str] = {}
    starts = _local(form["starts"])
    if starts is None:
        errors["starts"] = render_text(Text("Give the expected arrival.", "server"))
    preset = PRESETS.get(form["preset"])
    minutes = _int_or_none(form["minutes"]) or (preset.minutes if preset else 60)
    if not 30 <= minutes <= 600:
        errors["minutes"] = render_text(
            Text("The duration is between 30 and 600 minutes.", "server")
        )
    if form["channel"] not in dict(CHANNELS):
        form["channel"] = "phone"
    picked = _pick_customer(form, errors)
    if picked is not None and not errors:
        _vip_line(form, picked[0], errors)
    if picked is None or starts is None or errors:
        db.session().rollback()
        return _page(form, errors, [], 400)
    session = db.session()
    calendar = _calendar()
    customer = session.get(Customer, picked[0])
    vip = form["channel"] == "vip" or bool(customer and customer.vip)
    channel = domain.AppointmentChannel(form["channel"] if form["channel"] != "vip" else "phone")
    work = form["requested_work"] or (render_text(preset.label) if preset else "")
    try:
        appointment = book(
            session,
            calendar,
            BookingRequest(
                customer_id=picked[0],
                vehicle_id=picked[1],
                starts_at=starts,
                minutes=minutes,
                speciality=preset.speciality if preset else "",
                requested_work=work[:500],
                channel=channel,
                bay_id=_int_or_none(form["bay"]),
                technician_id=_int_or_none(form["technician"]),
                vip=vip,
            ),
            user_id=require_caller().id,
        )
    except SlotFull as full:
        session.rollback()
        errors["starts"] = render_text(full.reason)
        return _page(form, errors, full.next_free, 409)
    notify_appointment(session, appointment.id, "booked")
    session.commit()
    return redirect(url_for("appointments.detail", appointment_id=appointment.id))


def _load(appointment_id: str) -> tuple[Appointment, AppointmentPlan | None]:
    session = db.session()
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        abort(404)
    return appointment, session.get(AppointmentPlan, appointment_id)


def _detail(appointment_id: str, errors: dict[str, str], free: list[datetime], status: int = 200):  # type: ignore[no-untyped-def]
    appointment, plan = _load(appointment_id)
    session = db.session()
    body = render_template(
        "appointments/detail.html",
        appointment=appointment,
        plan=plan,
        bay=session.get(ServiceBay, plan.bay_id) if plan and plan.bay_id else None,
        technician=session.get(Technician, plan.technician_id)
        if plan and plan.technician_id
        else None,
        errors=errors,
        free=free,
    )
    return body, status


@bp.get("/appointments/<appointment_id>")
@allow(*STAFF)
def detail(appointment_id: str) -> ResponseReturnValue:
    return _detail(appointment_id, {}, [])


@bp.post("/appointments/<appointment_id>/move")
@allow(*STAFF)
def move_appointment(appointment_id: str) -> ResponseReturnValue:
    _load(appointment_id)
    starts = _local(_chosen_start())
    if starts is None:
        return _detail(
            appointment_id,
            {"starts": render_text(Text("Give the expected arrival.", "server"))},
            [],
            400,
        )
    session = db.session()
    try:
        move(session, _calendar(), appointment_id, starts)
    except SlotFull as full:
        session.rollback()
        return _detail(appointment_id, {"starts": render_text(full.reason)}, full.next_free, 409)
    notify_appointment(session, appointment_id, "moved")
    session.commit()
    return redirect(url_for("appointments.detail", appointment_id=appointment_id))


@bp.post("/appointments/<appointment_id>/cancel")
@allow(*STAFF)
def cancel_appointment(appointment_id: str) -> ResponseReturnValue:
    _load(appointment_id)
    session = db.session()
    try:
        cancel(session, appointment_id)
    except SlotFull as full:
        session.rollback()
        return _detail(appointment_id, {"form": render_text(full.reason)}, [], 409)
    notify_appointment(session, appointment_id, "cancelled")
    session.commit()
    return redirect(url_for("appointments.detail", appointment_id=appointment_id))


@bp.get("/appointments/day-plan")
@allow(*STAFF)
def plan_of_day() -> ResponseReturnValue:
    session = db.session()
    calendar = _calendar()
    grace = capacity_rules(session).no_show_grace_minutes
    if mark_no_shows(session, datetime.now(UTC), grace):
        session.commit()
    day = _day()
    return render_template(
        "appointments/day_plan.html",
        plan=day_plan(session, calendar, day),
        previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        grace=grace,
    )


@bp.post("/appointments/<appointment_id>/no-show/undo")
@allow(*STAFF)
def undo_no_show_view(appointment_id: str) -> ResponseReturnValue:
    appointment, _plan = _load(appointment_id)
    session = db.session()
    undo_no_show(session, appointment_id)
    session.commit()
    day = appointment.expected_arrival.astimezone(_zone()).date().isoformat()
    return redirect(url_for("appointments.plan_of_day", day=day))


@bp.post("/appointments/<appointment_id>/vip")
@allow("manager")
def customer_vip(appointment_id: str) -> ResponseReturnValue:
    """A manager makes the appointment's customer a VIP (with a reason) or takes it back."""
    from sync_server.sync.records import lock_feed

    appointment, _plan = _load(appointment_id)
    session = db.session()
    lock_feed(session)
    try:
        set_vip(
            session,
            appointment.customer_id,
            request.form.get("vip") == "on",
            request.form.get("vip_reason", ""),
        )
    except SettingsError as refused:
        session.rollback()
        errors = {key: render_text(text) for key, text in refused.errors.items()}
        errors["vip_typed"] = request.form.get("vip_reason", "")
        return _detail(appointment_id, errors, [], 400)
    session.commit()
    return redirect(url_for("appointments.detail", appointment_id=appointment_id) + "#vip")
