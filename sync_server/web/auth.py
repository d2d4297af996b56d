"""Signing in and out on the web pages (the same session as the JSON API)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from sync_server import db
from sync_server.access import STAFF, allow, public
from sync_server.people import authenticate
from sync_server.web import gettext as _
from sync_server.web import safe_next

bp = Blueprint("auth_pages", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    target = safe_next(request.values.get("next"), url_for("board.board"))
    error = ""
    username = ""
    if request.method == "POST":
        username = request.form.get("username", "").strip()[:64]
        password = request.form.get("password", "")[:256]
        if not username or not password:
            error = _("Please enter your username and password.")
        else:
            user = authenticate(db.session(), username, password)
            if user is None:
                error = _("The username or password is not right.")
            else:
                lang = session.get("lang")
                session.clear()  # no session fixation: a fresh session for every sign-in
                if lang:
                    session["lang"] = lang
                session["user_id"] = user.id
                session["role"] = user.role.value
                session.permanent = True
                return redirect(target)
    status = 400 if error else 200
    return render_template("auth/login.html", error=error, username=username, next=target), status


@bp.post("/logout")
@allow(*STAFF)
def logout() -> ResponseReturnValue:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth_pages.login"))


@bp.get("/")
@allow(*STAFF)
def home() -> ResponseReturnValue:
    return redirect(url_for("board.board"))
