"""Signing people in and out: a signed session cookie, shared with the web pages."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from shared.i18n import Text
from sync_server import db
from sync_server.access import STAFF, allow, public, require_caller
from sync_server.api.body import json_object, text_field
from sync_server.people import authenticate
from sync_server.problems import Problem
from sync_server.sign_in import (
    SignInLocked,
    check_not_locked,
    end_session,
    record_failure,
    start_session,
)

bp = Blueprint("auth", __name__)


@bp.get("/health")
@public
def health() -> ResponseReturnValue:
    """For devices and scripts: is the server up? (No data, no auth.)"""
    return jsonify({"status": "ok"})


@bp.post("/auth/login")
@public
def login() -> ResponseReturnValue:
    data = json_object()
    username = text_field(data, "username", required=True, max_length=64)
    password = text_field(data, "password", required=True, max_length=256)
    try:
        check_not_locked(db.session(), username)
    except SignInLocked as locked:
        raise Problem(
            429,
            "sign-in-locked",
            locked.message,
            extra={"retry_after_minutes": locked.minutes},
            headers={"Retry-After": str(locked.retry_after_seconds)},
        ) from None
    user = authenticate(db.session(), username, password)
    if user is None:
        record_failure(db.session(), username)
        raise Problem(401, "login-failed", Text("The username or password is not right.", "server"))
    start_session(db.session(), user)
    return jsonify({"username": user.username, "name": user.display_name, "role": user.role.value})


@bp.post("/auth/logout")
@public
def logout() -> ResponseReturnValue:
    end_session(db.session())
    return "", 204


@bp.get("/auth/me")
@allow(*STAFF)
def me() -> ResponseReturnValue:
    caller = require_caller()
    return jsonify({"id": caller.id, "name": caller.name, "role": caller.role})
