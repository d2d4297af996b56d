"""The manager's capacity page: the rules (VIP share and cut-off, no-show grace, holiday
country), the bays, the technicians' specialities and weekly hours, and absences.

Each part is its own form; a refused one shows the page again with the form as it was
typed and a message at each field, and nothing of it saved (``appointments.settings``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import exists, select

from shared.i18n import Text, plural_text
from sync_server import db
from sync_server.access import allow, require_caller
from sync_server.appointment_tables import AppointmentPlan, ServiceBay
from sync_server.appointments import settings
from sync_server.appointments.capacity import calendar_for
from sync_server.back_office_tables import Technician
from sync_server.shop import shop_settings
from sync_server.web import language, render_text

bp = Blueprint("capacity_settings", __name__)

RULE_FIELDS = ("vip_share_percent", "vip_cutoff_hours", "no_show_grace_minutes", "holiday_country")


def _page(
    status: int = 200,
    *,
    section: str = "",
    errors: dict[str, Text] | None = None,
    typed: dict[str, Any] | None = None,
) -> ResponseReturnValue:
    session = db.session()
    shop = shop_settings(session)
    zone = calendar_for(session, shop).timezone
    today = datetime.now(UTC).astimezone(zone).date()
    rules = settings.rules_row(session)
    technicians = list(session.scalars(select(Technician).order_by(Technician.name)))
    ever_booked = exists().where(AppointmentPlan.bay_id == ServiceBay.id)
    booked_bays = set(session.scalars(select(ServiceBay.id).where(ever_booked)))
    body = render_template(
        "capacity/settings.html",
        rules={name: getattr(rules, name) for name in RULE_FIELDS},
        bays=session.scalars(select(ServiceBay).order_by(ServiceBay.name)).all(),
        booked_bays=booked_bays,
        technicians=technicians,
        names={person.id: person.name for person in technicians},
        hours=settings.hours_by_weekday(session, [person.id for person in technicians]),
        absences=settings.absences_from(session, today),
        countries=settings.country_names(language()),
        weekdays=settings.weekday_names(language()),
        specialities={key: render_text(label) for key, label in settings.SPECIALITIES.items()},
        today=today.isoformat(),
        section=section,
        errors={key: render_text(text) for key, text in (errors or {}).items()},
        typed=typed or {},
    )
    return body, status


def _refused(section: str, refused: settings.SettingsError, typed: dict[str, Any]) -> Any:
    db.session().rollback()
    return _page(400, section=section, errors=refused.errors, typed=typed)


def _done(anchor: str, message: Text | None = None) -> ResponseReturnValue:
    db.session().commit()
    if message is not None:
        flash(render_text(message), "success")
    return redirect(url_for("capacity_settings.page") + f"#{anchor}")


@bp.get("/settings/capacity")
@allow("manager")
def page() -> ResponseReturnValue:
    return _page()


@bp.post("/settings/capacity/rules")
@allow("manager")
def save_rules() -> ResponseReturnValue:
    typed = {name: request.form.get(name, "") for name in RULE_FIELDS}
    try:
        settings.save_rules(db.session(), typed, require_caller().id)
    except settings.SettingsError as refused:
        return _refused("rules", refused, typed)
    return _done("rules", Text("The rules are saved.", "server"))


@bp.post("/settings/capacity/bays")
@allow("manager")
def add_bay() -> ResponseReturnValue:
    typed = {"name": request.form.get("name", "")}
    try:
        settings.add_bay(db.session(), typed["name"])
    except settings.SettingsError as refused:
        return _refused("new-bay", refused, typed)
    return _done("bays")


@bp.post("/settings/capacity/bays/<int:bay_id>")
@allow("manager")
def change_bay(bay_id: int) -> ResponseReturnValue:
    """Rename, retire, bring back or delete (never one with bookings) a bay."""
    action = request.form.get("action", "rename")
    typed = {"name": request.form.get("name", ""), "bay_id": bay_id}
    session = db.session()
    now = datetime.now(UTC)
    try:
        if action == "retire":
            settings.set_bay_active(session, bay_id, False, now)
        elif action == "reinstate":
            settings.set_bay_active(session, bay_id, True, now)
        elif action == "delete":
            settings.delete_bay(session, bay_id)
        else:
            settings.rename_bay(session, bay_id, typed["name"])
    except settings.SettingsError as refused:
        return _refused(f"bay-{bay_id}", refused, typed)
    return _done("bays")


@bp.post("/settings/capacity/technicians/<int:technician_id>")
@allow("manager")
def change_technician(technician_id: int) -> ResponseReturnValue:
    """Save a technician's name, specialities and weekly hours, or retire or bring back."""
    action = request.form.get("action", "save")
    session = db.session()
    typed: dict[str, Any] = {
        "technician_id": technician_id,
        "name": request.form.get("name", ""),
        "specialities": request.form.getlist("speciality"),
        "hours": {weekday: request.form.get(f"hours_{weekday}", "") for weekday in range(7)},
    }
    try:
        if action in ("retire", "reinstate"):
            settings.set_technician_active(
                session, technician_id, action == "reinstate", datetime.now(UTC)
            )
        else:
            settings.save_technician(
                session, technician_id, typed["name"], typed["specialities"], typed["hours"]
            )
    except settings.SettingsError as refused:
        return _refused(f"technician-{technician_id}", refused, typed)
    return _done(f"technician-{technician_id}")


@bp.post("/settings/capacity/absences")
@allow("manager")
def add_absence() -> ResponseReturnValue:
    typed = {
        name: request.form.get(name, "")
        for name in ("technician", "first_day", "last_day", "reason")
    }
    session = db.session()
    zone = calendar_for(session, shop_settings(session)).timezone
    try:
        _absence, clashes = settings.add_absence(session, typed, require_caller().id, zone)
    except settings.SettingsError as refused:
        return _refused("new-absence", refused, typed)
    if clashes:
        codes = ", ".join(appointment.code for appointment, _plan in clashes)
        return _done(
            "absences",
            plural_text(
                "Saved. {count} booking of this technician falls in these days and needs "
                "moving: {codes}.",
                "Saved. {count} bookings of this technician fall in these days and need "
                "moving: {codes}.",
                len(clashes),
                "server",
                count=len(clashes),
                codes=codes,
            ),
        )
    return _done("absences")


@bp.post("/settings/capacity/absences/<int:absence_id>/delete")
@allow("manager")
def delete_absence(absence_id: int) -> ResponseReturnValue:
    settings.delete_absence(db.session(), absence_id)
    return _done("absences")
