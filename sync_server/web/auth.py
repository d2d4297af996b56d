"""Signing in and out on the web pages (the same session as the JSON API)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from sync_server import db
from sync_server.access import STAFF, allow, public
from sync_server.people import authenticate
from sync_server.sign_in import (
    SignInLocked,
    check_not_locked,
    end_session,
    record_failure,
    start_session,
)
from sync_server.web import gettext as _
from sync_server.web import render_text, safe_next

bp = Blueprint("auth_pages", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    target = safe_next(request.values.get("next"), url_for("board.board"))
    error = ""
    username = ""
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()[:64]
        password = request.form.get("password", "")[:256]
        if not username or not password:
            error = _("Please enter your username and password.")
        else:
            try:
                check_not_locked(db.session(), username)
            except SignInLocked as locked:
                error, status = render_text(locked.message), 429
            else:
                user = authenticate(db.session(), username, password)
                if user is None:
                    record_failure(db.session(), username)
                    error = _("The username or password is not right.")
                else:
                    start_session(db.session(), user)  # a fresh session: no fixation
                    return redirect(target)
    if error and status == 200:
        status = 400
    return render_template("auth/login.html", error=error, username=username, next=target), status


@bp.post("/logout")
@allow(*STAFF)
def logout() -> ResponseReturnValue:
    end_session(db.session())
    return redirect(url_for("auth_pages.login"))


@bp.get("/")
@allow(*STAFF)
def home() -> ResponseReturnValue:
    return redirect(url_for("board.board"))
