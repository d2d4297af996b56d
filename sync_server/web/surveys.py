"""The survey pages: the customer's survey by its link (phone-sized, public, one answer
per visit), the call-backs (staff): those hot alerts open, and the surveys asked on the
phone, whose answers staff enter on the customer's behalf; the service star of a month and the
survey settings (managers). Every form carries its CSRF token."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from shared.i18n import Text
from shared.shop_time import shop_zone
from sync_server import db
from sync_server.access import STAFF, allow, public, require_caller
from sync_server.problems import Problem
from sync_server.shop import shop_settings
from sync_server.shop_tables import User
from sync_server.surveys import answers, callbacks, figures, settings
from sync_server.surveys.tables import SurveyCallback
from sync_server.visit_tables import Customer, Vehicle, Visit
from sync_server.web import gettext as _
from sync_server.web import page_url, render_text

bp = Blueprint("surveys", __name__)

MAX_FORM_BYTES = 16_384
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _now() -> datetime:
    return datetime.now(UTC)


def _survey_or_404(token: str) -> answers.Survey:
    survey = answers.survey_for_token(db.session(), token)
    if survey is None:
        raise Problem(404, "not-found")
    return survey


def _survey_page(
    survey: answers.Survey, typed: dict[str, str], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    database = db.session()
    visit = database.get(Visit, survey.visit_id)
    vehicle = database.get(Vehicle, visit.vehicle_id) if visit else None
    customer = database.get(Customer, survey.customer_id)
    body = render_template(
        "surveys/answer.html" if survey.answered_at is None else "surveys/thanks.html",
        survey=survey,
        plate=vehicle.plate if vehicle else "",
        name=customer.name if customer else "",
        shop=shop_settings(database),
        typed=typed,
        errors=errors,
        public_page=True,
    )
    return body, status, NO_STORE


@bp.get("/survey/<token>")
@public
def answer_form(token: str) -> ResponseReturnValue:
    survey = _survey_or_404(token)
    if "lang" not in session:  # the link opens in the customer's language
        session["lang"] = survey.language
    return _survey_page(survey, {}, {})


@bp.post("/survey/<token>")
@public
def answer(token: str) -> ResponseReturnValue:
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise Problem(413, "too-large")
    survey = _survey_or_404(token)
    typed = {name: request.form.get(name, "") for name in answers.FIELDS}
    database = db.session()
    try:
        answered = answers.record_answer(database, survey, typed, now=_now(), base_url=page_url())
    except answers.AnswerRefused as refused:
        database.rollback()
        errors = {key: render_text(text) for key, text in refused.errors.items()}
        return _survey_page(_survey_or_404(token), typed, errors, 400)
    database.commit()
    if not answered.saved:
        return _survey_page(answered.survey, {}, {})
    return redirect(url_for("surveys.answer_form", token=token), 303)


# -- call-backs ----------------------------------------------------------------------


def _callbacks_page(errors: dict[int, str], typed: dict[int, str], status: int = 200):
    caller = require_caller()
    mine = None if caller.role == "manager" else caller.id
    show = request.args.get("show", "open")
    lines = callbacks.callback_list(db.session(), advisor_user_id=mine, open_only=show != "all")
    people = {
        user.id: user.display_name
        for user in db.session()
        .query(User)
        .filter(User.id.in_({line.callback.advisor_user_id for line in lines} - {None}))
    }
    body = render_template(
        "surveys/callbacks.html",
        lines=lines,
        now=_now(),
        people=people,
        show=show,
        errors=errors,
        typed=typed,
    )
    return body, status


@bp.get("/surveys/callbacks")
@allow(*STAFF)
def callback_list() -> ResponseReturnValue:
    return _callbacks_page({}, {})


def _callback_or_404(callback_id: int) -> SurveyCallback:
    """The call-back, if the caller may work it (the manager: all; an advisor: their own
    and those without an advisor)."""
    callback = db.session().get(SurveyCallback, callback_id)
    caller = require_caller()
    if callback is None or (
        caller.role != "manager" and callback.advisor_user_id not in (None, caller.id)
    ):
        abort(404)
    return callback


def _phone_answer_page(
    callback: SurveyCallback, typed: dict[str, str], errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    database = db.session()
    visit = database.get(Visit, callback.visit_id)
    survey = database.get(answers.Survey, callback.survey_id)
    if visit is None or survey is None:
        abort(404)
    body = render_template(
        "surveys/phone_answer.html",
        callback=callback,
        visit=visit,
        customer=database.get(Customer, survey.customer_id),
        vehicle=database.get(Vehicle, visit.vehicle_id),
        typed=typed,
        errors=errors,
    )
    return body, status


@bp.get("/surveys/callbacks/<int:callback_id>/answers")
@allow(*STAFF)
def phone_answer_form(callback_id: int) -> ResponseReturnValue:
    callback = _callback_or_404(callback_id)
    if callback.reason != callbacks.SURVEY_BY_PHONE or callback.done_at is not None:
        flash(_("This survey is answered already."), "ok")
        return redirect(url_for("surveys.callback_list"))
    return _phone_answer_page(callback, {}, {})


@bp.post("/surveys/callbacks/<int:callback_id>/answers")
@allow(*STAFF)
def phone_answer(callback_id: int) -> ResponseReturnValue:
    """The answers the customer gave on the call, entered on their behalf."""
    database = db.session()
    callback = _callback_or_404(callback_id)
    survey = database.get(answers.Survey, callback.survey_id)
    if survey is None or callback.reason != callbacks.SURVEY_BY_PHONE:
        abort(404)
    typed = {name: request.form.get(name, "") for name in answers.FIELDS}
    try:
        answered = answers.record_answer(
            database,
            survey,
            typed,
            now=_now(),
            base_url=page_url(),
            via="phone",
            user_id=require_caller().id,
        )
    except answers.AnswerRefused as refused:
        database.rollback()
        errors = {key: render_text(text) for key, text in refused.errors.items()}
        return _phone_answer_page(_callback_or_404(callback_id), typed, errors, 400)
    database.commit()
    if not answered.saved:
        flash(_("This survey is answered already."), "ok")
    elif answered.survey.hot:
        flash(_("Saved. The answer is low: a call-back and a complaint case are open."), "error")
    else:
        flash(_("Saved: the customer's answers, taken on the phone."), "ok")
    return redirect(url_for("surveys.callback_list"))


@bp.post("/surveys/callbacks/<int:callback_id>/done")
@allow(*STAFF)
def callback_done(callback_id: int) -> ResponseReturnValue:
    database = db.session()
    callback = _callback_or_404(callback_id)
    caller = require_caller()
    notes = request.form.get("notes", "")
    try:
        callbacks.mark_done(database, callback, user_id=caller.id, notes=notes, now=_now())
    except callbacks.CallbackRefused as refused:
        database.rollback()
        message = render_text(next(iter(refused.errors.values())))
        return _callbacks_page({callback_id: message}, {callback_id: notes}, 400)
    database.commit()
    flash(_("Saved."), "ok")
    return redirect(url_for("surveys.callback_list"))


# -- the service star ----------------------------------------------------------------

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@bp.get("/surveys/star")
@allow("manager")
def star() -> ResponseReturnValue:
    database = db.session()
    zone = shop_zone(shop_settings(database).timezone)
    today = _now().astimezone(zone)
    chosen = request.args.get("month", "")
    match = MONTH.match(chosen)
    error = ""
    if match and 2000 <= int(match[1]) <= 2100 and 1 <= int(match[2]) <= 12:
        year, month = int(match[1]), int(match[2])
    else:
        if chosen:
            error = render_text(Text("Choose a month as year and month, e.g. 2026-11.", "server"))
        year, month = today.year, today.month
    rows = figures.service_star(database, year, month)
    rules = settings.survey_settings(database)
    database.commit()
    previous = (year - 1, 12) if month == 1 else (year, month - 1)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    body = render_template(
        "surveys/star.html",
        rows=rows,
        year=year,
        month=month,
        previous=f"{previous[0]:04d}-{previous[1]:02d}",
        following=f"{following[0]:04d}-{following[1]:02d}",
        rules=rules,
        weights={name: round(weight * 100) for name, weight in figures.WEIGHTS.items()},
        error=error,
    )
    return body, 400 if error else 200


# -- settings ------------------------------------------------------------------------


def _settings_page(typed: dict[str, str], errors: dict[str, str], status: int = 200):
    database = db.session()
    row = settings.survey_settings(database)
    database.commit()
    body = render_template(
        "surveys/settings.html",
        typed=typed or settings.form_values(row),
        errors=errors,
    )
    return body, status


@bp.get("/surveys/settings")
@allow("manager")
def settings_form() -> ResponseReturnValue:
    return _settings_page({}, {})


@bp.post("/surveys/settings")
@allow("manager")
def save_settings() -> ResponseReturnValue:
    database = db.session()
    typed = {name: request.form.get(name, "") for name in settings.FIELDS}
    try:
        settings.save_settings(database, typed)
    except settings.SurveySettingsRefused as refused:
        database.rollback()
        errors = {key: render_text(text) for key, text in refused.errors.items()}
        return _settings_page(typed, errors, 400)
    database.commit()
    flash(_("Saved."), "ok")
    return redirect(url_for("surveys.settings_form"))
