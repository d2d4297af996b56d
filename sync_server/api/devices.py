"""Pairing codes, device pairing, and the managers' list of devices."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from shared.i18n import Text
from sync_server import db
from sync_server.access import allow, public, require_caller
from sync_server.api.body import json_object, text_field
from sync_server.greeting import DEFAULT_TARGET_MINUTES
from sync_server.pairing import (
    PairingRefused,
    issue_code,
    pairing_qr_payload,
    redeem_code,
    revoke_device,
    status_link_key,
)
from sync_server.problems import Problem, field_error
from sync_server.shop import shop_settings
from sync_server.shop_tables import Device, DeviceRole

bp = Blueprint("devices", __name__)


def device_json(device: Device) -> dict[str, Any]:
    return {
        "device_id": device.uid,
        "name": device.name,
        "role": device.role.value,
        # Devices number tickets offline; the prefix keeps two devices' numbers apart.
        "ticket_prefix": f"{'K' if device.role is DeviceRole.KIOSK else 'T'}{device.id}",
        "paired_at": device.paired_at.isoformat(),
        "last_seen_at": device.last_seen_at.isoformat() if device.last_seen_at else None,
        "revoked_at": device.revoked_at.isoformat() if device.revoked_at else None,
    }


def shop_json() -> dict[str, Any]:
    shop = shop_settings(db.session())
    return {
        "name": shop.name,
        "plate_region": shop.plate_region,
        "phone_region": shop.phone_region,
        "timezone": shop.timezone,
        "default_language": shop.default_language,
        # Minutes a checked-in customer may wait to be greeted before the board and the
        # tablets highlight them (``sync_server.greeting``).
        "greeting_target_minutes": int(
            current_app.config.get("GREETING_TARGET_MINUTES", DEFAULT_TARGET_MINUTES)
        ),
    }


def device_secrets(device: Device) -> dict[str, Any]:
    """What only the device itself is told: its status-link key, from which it makes
    its visits' status links offline (``sync_server.pairing.status_link_key``). A
    kiosk's offline look-ups need no key (``shared.lookup``)."""
    return {"status_link_key": status_link_key(current_app.config["SECRET_KEY"], device.uid)}


@bp.post("/pairing-codes")
@allow("manager")
def create_pairing_code() -> ResponseReturnValue:
    data = json_object()
    role_name = text_field(data, "role", required=True, max_length=10)
    try:
        role = DeviceRole(role_name)
    except ValueError:
        raise Problem(
            422,
            "validation",
            errors=[field_error("role", "role_unknown", Text("Choose kiosk or tablet.", "server"))],
        ) from None
    issued = issue_code(
        db.session(),
        role,
        device_name=text_field(data, "device_name", max_length=120),
        minutes=current_app.config["PAIRING_CODE_MINUTES"],
        created_by_user_id=require_caller().id,
    )
    return (
        jsonify(
            {
                "code": issued.display,
                "role": role.value,
                "device_name": issued.record.device_name,
                "expires_at": issued.record.expires_at.isoformat(),
                "qr_payload": pairing_qr_payload(issued.display),
            }
        ),
        201,
    )


@bp.post("/devices/pair")
@public
def pair_device() -> ResponseReturnValue:
    data = json_object()
    code = text_field(data, "code", required=True, max_length=20)
    try:
        paired = redeem_code(
            db.session(),
            code,
            device_name=text_field(data, "device_name", max_length=120),
            ip_address=request.remote_addr,
        )
    except PairingRefused as refused:
        raise Problem(
            400,
            "pairing-refused",
            refused.message,
            errors=[field_error("code", refused.reason, refused.message)],
        ) from None
    body = device_json(paired.device) | device_secrets(paired.device)
    body |= {"token": paired.token, "shop": shop_json()}
    return jsonify(body), 201


@bp.get("/devices/me")
@allow("kiosk", "tablet")
def this_device() -> ResponseReturnValue:
    device = db.session().get(Device, require_caller().id)
    assert device is not None
    return jsonify(device_json(device) | device_secrets(device) | {"shop": shop_json()})


@bp.get("/devices")
@allow("manager")
def list_devices() -> ResponseReturnValue:
    devices = db.session().scalars(select(Device).order_by(Device.paired_at.desc()))
    return jsonify({"devices": [device_json(device) for device in devices]})


@bp.post("/devices/<device_id>/revoke")
@allow("manager")
def revoke(device_id: str) -> ResponseReturnValue:
    device = db.session().scalar(select(Device).where(Device.uid == device_id))
    if device is None:
        raise Problem(404, "not-found", Text("No device with this id.", "server"))
    revoke_device(db.session(), device, by_user_id=require_caller().id)
    return jsonify(device_json(device))
