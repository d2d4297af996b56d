"""The manager's page: people (advisors, managers) with their tablet PINs, technicians,
and paired devices."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from sync_server import db
from sync_server.access import allow, require_caller
from sync_server.back_office_tables import Technician
from sync_server.pairing import issue_code, pairing_qr_payload, revoke_device
from sync_server.people import SPECIALITIES, PeopleError, create_user, set_pin
from sync_server.problems import Problem
from sync_server.shop_tables import Device, DeviceRole, User, UserRole
from sync_server.table_base import utcnow
from sync_server.web import gettext as _
from sync_server.web import qr_data_uri, render_text, speciality_names

bp = Blueprint("admin", __name__)


def _page(status: int = 200, **context: Any) -> ResponseReturnValue:
    session = db.session()
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("issued", None)
    body = render_template(
        "admin/people.html",
        users=session.scalars(select(User).order_by(User.username)).all(),
        devices=session.scalars(select(Device).order_by(Device.paired_at.desc())).all(),
        technicians=session.scalars(select(Technician).order_by(Technician.name)).all(),
        specialities=SPECIALITIES,
        speciality_names=speciality_names(),
        now=utcnow(),
        **context,
    )
    return body, status


@bp.get("/admin")
@allow("manager")
def people() -> ResponseReturnValue:
    return _page()


@bp.post("/admin/users")
@allow("manager")
def add_user() -> ResponseReturnValue:
    form = {key: request.form.get(key, "").strip() for key in ("username", "display_name", "role")}
    password = request.form.get("password", "")
    errors = {}
    if form["role"] not in {role.value for role in UserRole}:
        errors["role"] = _("Choose advisor or manager.")
    else:
        try:
            create_user(
                db.session(),
                form["username"],
                password,
                UserRole(form["role"]),
                form["display_name"],
            )
        except PeopleError as error:
            db.session().rollback()
            errors[error.field] = render_text(error.message)
    if errors:
        return _page(400, errors=errors, form=form)
    flash(_("{name} can now sign in.", name=form["username"]), "ok")
    return redirect(url_for("admin.people"))


@bp.post("/admin/users/<int:user_id>/active")
@allow("manager")
def toggle_user(user_id: int) -> ResponseReturnValue:
    session = db.session()
    user = session.get(User, user_id)
    if user is None or user.id == require_caller().id:
        flash(_("You cannot switch off your own sign-in."), "error")
    else:
        user.active = not user.active
        session.commit()
    return redirect(url_for("admin.people"))


@bp.post("/admin/users/<int:user_id>/pin")
@allow("manager")
def set_user_pin(user_id: int) -> ResponseReturnValue:
    """Set or reset a person's tablet PIN (4–8 digits); a new PIN also unlocks it."""
    session = db.session()
    user = session.get(User, user_id)
    if user is None:
        raise Problem(404, "not-found")
    # Digits typed on a Chinese keyboard may come full-width (１２３４).
    pin = unicodedata.normalize("NFKC", request.form.get("pin", "")).strip()
    try:
        set_pin(session, user, pin)
    except PeopleError as error:
        session.rollback()
        return _page(400, errors={f"pin-{user.id}": render_text(error.message)})
    flash(_("{name} has a new tablet PIN.", name=user.display_name), "ok")
    return redirect(url_for("admin.people") + "#users")


@bp.post("/admin/technicians")
@allow("manager")
def add_technician() -> ResponseReturnValue:
    name = request.form.get("name", "").strip()[:120]
    chosen = [s for s in request.form.getlist("speciality") if s in SPECIALITIES]
    if not name or not chosen:
        errors = {"technician": _("Give the technician's name and at least one speciality.")}
        return _page(400, errors=errors, form={"technician_name": name, "specialities": chosen})
    session = db.session()
    session.add(Technician(name=name, specialities=chosen))
    session.commit()
    flash(_("{name} was added.", name=name), "ok")
    return redirect(url_for("admin.people") + "#technicians")


@bp.post("/admin/pairing-codes")
@allow("manager")
def pair() -> ResponseReturnValue:
    role = request.form.get("role", "")
    name = request.form.get("device_name", "").strip()[:120]
    if role not in {r.value for r in DeviceRole}:
        return _page(400, errors={"pair": _("Choose kiosk or tablet.")}, form={"device_name": name})
    issued = issue_code(
        db.session(),
        DeviceRole(role),
        device_name=name,
        minutes=current_app.config["PAIRING_CODE_MINUTES"],
        created_by_user_id=require_caller().id,
    )
    payload = pairing_qr_payload(issued.display)
    return _page(
        issued={
            "code": issued.display,
            "role": role,
            "name": name,
            "expires_at": issued.record.expires_at,
            "qr": qr_data_uri(payload),
        }
    )


@bp.post("/admin/devices/<int:device_id>/revoke")
@allow("manager")
def revoke(device_id: int) -> ResponseReturnValue:
    session = db.session()
    device = session.get(Device, device_id)
    if device is not None and not device.is_revoked:
        revoke_device(session, device, by_user_id=require_caller().id)
        flash(_("{name} was removed; it stops working at once.", name=device.name), "ok")
    return redirect(url_for("admin.people") + "#devices")
