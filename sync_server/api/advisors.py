"""Advisors signing in on a paired tablet with their personal PIN.

The tablet is already trusted as a device (its bearer token); the PIN says which
advisor is holding it. The server checks the PIN and locks it after five wrong tries
in a row, so a lost tablet cannot be used to guess a PIN. The tablet keeps its own
salted hash of a PIN that the server accepted, so the same advisor can sign in while
the shop's network is down.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from shared.i18n import Text
from shared.shop_time import shop_time_text
from sync_server import db
from sync_server.access import allow
from sync_server.api.body import json_object, text_field
from sync_server.people import PIN_LOCK_MINUTES, PinRefused, check_pin, tablet_people
from sync_server.problems import Problem
from sync_server.shop import shop_settings
from sync_server.shop_tables import User

bp = Blueprint("advisors", __name__)

# 403, not 401: the tablet itself is signed in (its token); only the advisor's PIN failed.
PIN_REFUSED_STATUS = 403
PIN_LOCKED_TITLE = Text("This PIN is locked for a while", "server")


def advisor_json(user: User) -> dict[str, Any]:
    return {
        "user_id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
    }


@bp.get("/advisors")
@allow("tablet")
def list_advisors() -> ResponseReturnValue:
    """Who may sign in on a tablet: active people with a PIN (no PIN hashes, ever)."""
    return jsonify({"advisors": [advisor_json(user) for user in tablet_people(db.session())]})


@bp.post("/advisor-sign-ins")
@allow("tablet")
def advisor_sign_in() -> ResponseReturnValue:
    """Check an advisor's PIN: 200 with the advisor, 403 wrong or no PIN, 423 locked."""
    data = json_object()
    username = text_field(data, "username", required=True, max_length=64)
    pin = data.get("pin")
    if not isinstance(pin, str) or not pin:
        raise Problem(PIN_REFUSED_STATUS, "pin-wrong", Text("That PIN is not right.", "server"))
    session = db.session()
    try:
        user = check_pin(session, username, pin[:16])
    except PinRefused as refused:
        if refused.code == "pin_locked" and refused.locked_until is not None:
            at = shop_time_text(refused.locked_until, shop_settings(session).timezone)
            raise Problem(
                423,
                "pin-locked",
                Text("Too many wrong PINs. Try again after {time}.", "server", {"time": at}),
                title=PIN_LOCKED_TITLE,
                extra={"locked_until": refused.locked_until.isoformat()},
            ) from None
        kind = "pin-wrong" if refused.code == "pin_wrong" else "pin-not-set"
        extra = {}
        if refused.tries_left is not None:
            extra = {"tries_left": refused.tries_left, "lock_minutes": PIN_LOCK_MINUTES}
        raise Problem(PIN_REFUSED_STATUS, kind, refused.message, extra=extra) from None
    return jsonify({"advisor": advisor_json(user)})
