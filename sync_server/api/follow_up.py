"""Where inbound text messages arrive: the SMS gateway posts each reply here. "TD" or
"STOP" opts the sender out of reminders at once (recorded with time and source).

The gateway proves itself with the shared secret ``SMS_INBOUND_SECRET`` in the
``X-Inbound-Secret`` header; without the setting the endpoint does not exist (404).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from sync_server import db
from sync_server.access import public
from sync_server.api.body import json_object, text_field
from sync_server.follow_up.opt_out import handle_inbound_sms
from sync_server.problems import Problem

bp = Blueprint("follow_up_api", __name__)


@bp.post("/sms/inbound")
@public
def inbound_sms() -> ResponseReturnValue:
    secret = str(current_app.config.get("SMS_INBOUND_SECRET") or "")
    if not secret:
        raise Problem(404, "not-found")
    given = request.headers.get("X-Inbound-Secret", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise Problem(403, "forbidden")
    data = json_object()
    phone = text_field(data, "from", required=True, max_length=32)
    text = text_field(data, "text", max_length=1000)
    session = db.session()
    opted_out = handle_inbound_sms(session, phone, text, datetime.now(UTC))
    session.commit()
    return jsonify({"opted_out": opted_out})
