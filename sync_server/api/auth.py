"""Signing people in and out: a signed session cookie, shared with the web pages."""

from __future__ import annotations

from flask import Blueprint, jsonify, session
from flask.typing import ResponseReturnValue

from shared.i18n import Text
from sync_server import db
from sync_server.access import STAFF, allow, public, require_caller
from sync_server.api.body import json_object, text_field
from sync_server.people import authenticate
from sync_server.problems import Problem

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
    user = authenticate(db.session(), username, password)
    if user is None:
        raise Problem(401, "login-failed", Text("The username or password is not right.", "server"))
    session.clear()  # no session fixation: a fresh session for every sign-in
    session["user_id"] = user.id
    session["role"] = user.role.value
    session.permanent = True
    return jsonify({"username": user.username, "name": user.display_name, "role": user.role.value})


@bp.post("/auth/logout")
@public
def logout() -> ResponseReturnValue:
    session.clear()
    return "", 204


@bp.get("/auth/me")
@allow(*STAFF)
def me() -> ResponseReturnValue:
    caller = require_caller()
    return jsonify({"id": caller.id, "name": caller.name, "role": caller.role})
