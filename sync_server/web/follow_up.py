"""Reminders and greetings: the managers' page (today's preview — who would get what and
why, who is held back and by what —, the contact log, opt-outs, requests to book, the
settings), and the customer's pages reached from a reminder: the opt-out (a confirm
page, and the RFC 8058 one-click POST that needs no sign-in, cookie or CSRF token) and
the appointment request with the work filled in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from shared.i18n import Text, normalize_language
from sync_server import db
from sync_server.access import STAFF, allow, public
from sync_server.follow_up import opt_out as opt_outs
from sync_server.follow_up import settings_form
from sync_server.follow_up.rules import follow_up_settings, shop_day
from sync_server.follow_up.run import plan_run
from sync_server.follow_up.tables import (
    BookingRequest,
    FollowUpContact,
    FollowUpOptOut,
    ServiceInterval,
)
from sync_server.follow_up.texts import CHANNEL_NAMES, HELD_NAMES, KIND_NAMES, SOURCE_NAMES
from sync_server.problems import Problem
from sync_server.shop import shop_settings
from sync_server.visit_tables import Customer, Vehicle
from sync_server.web import gettext as _
from sync_server.web import language, ngettext, render_text

bp = Blueprint("follow_up", __name__)

LOG_SHOWN = 100
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _now() -> datetime:
    return datetime.now(UTC)


def _page(
    errors: dict[str, str] | None = None, typed: dict[str, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    session_ = db.session()
    plan = plan_run(session_, _now())
    contacts = list(
        session_.scalars(
            select(FollowUpContact).order_by(FollowUpContact.id.desc()).limit(LOG_SHOWN)
        )
    )
    outs = list(
        session_.scalars(select(FollowUpOptOut).order_by(FollowUpOptOut.id.desc()).limit(50))
    )
    requests = settings_form.open_requests(session_)
    customer_ids = {c.customer_id for c in contacts} | {o.customer_id for o in outs}
    customer_ids |= {r.customer_id for r in requests}
    customers = {
        c.id: c for c in session_.scalars(select(Customer).where(Customer.id.in_(customer_ids)))
    }
    vehicle_ids = {r.vehicle_id for r in requests if r.vehicle_id}
    vehicle_ids |= {item.candidate.vehicle_id for item in plan.to_send if item.candidate.vehicle_id}
    vehicle_ids |= {item.candidate.vehicle_id for item in plan.held if item.candidate.vehicle_id}
    vehicles = {
        v.id: v for v in session_.scalars(select(Vehicle).where(Vehicle.id.in_(vehicle_ids)))
    }
    lang = language()
    body = render_template(
        "follow_up/index.html",
        plan=plan,
        contacts=contacts,
        outs=outs,
        requests=requests,
        customers=customers,
        vehicles=vehicles,
        settings=follow_up_settings(session_),
        intervals=settings_form.intervals(session_),
        kind_name=lambda kind: render_text(KIND_NAMES[kind]),
        reason_of=lambda row: render_text(Text.stored(row.reason, "server", row.reason_params)),
        held_name=lambda why: render_text(HELD_NAMES[why]),
        channel_name=lambda channel: render_text(CHANNEL_NAMES[channel]),
        source_name=lambda source: render_text(SOURCE_NAMES[source]),
        part_name=lambda part: render_text(settings_form.PARTS_OF_DAY[part]),
        work_of=lambda candidate: (
            candidate.work_zh if lang == "zh_CN" and candidate.work_zh else candidate.work
        ),
        errors=errors or {},
        typed=typed or {},
    )
    session_.rollback()  # the preview wrote nothing worth keeping (the settings' defaults at most)
    return body, status


@bp.get("/reminders")
@allow("manager")
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/reminders/settings")
@allow("manager")
def save_settings() -> ResponseReturnValue:
    session_ = db.session()
    typed = {key: request.form.get(key, "") for key in request.form}
    errors = settings_form.save_settings(session_, typed)
    if errors:
        session_.rollback()
        return _page({k: render_text(v) for k, v in errors.items()}, typed, 400)
    session_.commit()
    flash(_("Reminder settings saved."), "ok")
    return redirect(url_for("follow_up.index") + "#settings")


@bp.post("/reminders/intervals/<int:interval_id>")
@allow("manager")
def save_interval(interval_id: int) -> ResponseReturnValue:
    session_ = db.session()
    typed = {key: request.form.get(key, "") for key in request.form}
    errors = settings_form.save_interval(session_, interval_id, typed)
    if errors:
        session_.rollback()
        shown = {f"{interval_id}.{k}": render_text(v) for k, v in errors.items()}
        return _page(shown, {f"{interval_id}.{k}": v for k, v in typed.items()}, 400)
    session_.commit()
    row = session_.get(ServiceInterval, interval_id)
    flash(_("Saved: {name}.", name=row.name_zh if language() == "zh_CN" else row.name_en), "ok")  # type: ignore[union-attr]
    return redirect(url_for("follow_up.index") + "#intervals")


@bp.post("/reminders/opt-out")
@allow("manager")
def desk_opt_out() -> ResponseReturnValue:
    """A customer asked the shop to stop (a call, the counter): by phone or e-mail."""
    session_ = db.session()
    given = request.form.get("phone_or_email", "")
    count = opt_outs.opt_out_at_desk(session_, given, _now())
    if not count:
        session_.rollback()
        return _page(
            {"phone_or_email": _("No customer has this phone number or e-mail address.")},
            {"phone_or_email": given},
            400,
        )
    session_.commit()
    flash(
        ngettext(
            "Opted out: no more reminders to {count} customer.",
            "Opted out: no more reminders to {count} customers.",
            count,
            count=count,
        ),
        "ok",
    )
    return redirect(url_for("follow_up.index") + "#opt-outs")


@bp.post("/reminders/requests/<int:request_id>/handled")
@allow(*STAFF)
def request_handled(request_id: int) -> ResponseReturnValue:
    session_ = db.session()
    row = session_.get(BookingRequest, request_id)
    if row is None:
        raise Problem(404, "not-found")
    if row.handled_at is None:
        row.handled_at = _now()
        session_.commit()
    flash(_("The request is marked as booked."), "ok")
    return redirect(url_for("follow_up.index") + "#requests")


# --- the customer's pages ---------------------------------------------------------------


def _contact(token: str) -> FollowUpContact:
    contact = opt_outs.contact_for_token(db.session(), token)
    if contact is None:
        raise Problem(404, "not-found")
    if not session.get("lang"):
        # In the customer's language, unless they chose another with the switch.
        g._reader_language = (None, normalize_language(contact.language))
    return contact


@bp.get("/unsubscribe/<token>")
@public
def unsubscribe_page(token: str) -> ResponseReturnValue:
    contact = _contact(token)
    shop = shop_settings(db.session())
    return (
        render_template(
            "follow_up/unsubscribe.html",
            token=token,
            done=False,
            shop=shop,
            contact=contact,
            public_page=True,
        ),
        200,
        NO_STORE,
    )


@bp.post("/unsubscribe/<token>")
@public
def unsubscribe(token: str) -> ResponseReturnValue:
    """RFC 8058: the mail client POSTs ``List-Unsubscribe=One-Click`` with no cookie and
    no CSRF token (this one view is exempt, see ``sync_server.web``); the confirm page's
    button posts here too. Either way the opt-out is recorded at once."""
    contact = _contact(token)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    source = (
        "email_one_click"
        if one_click
        else "email_link"
        if contact.channel == "email"
        else "sms_link"
    )
    session_ = db.session()
    opt_outs.opt_out(session_, contact.customer_id, source, _now(), contact_id=contact.id)
    session_.commit()
    shop = shop_settings(session_)
    return (
        render_template(
            "follow_up/unsubscribe.html",
            token=token,
            done=True,
            shop=shop,
            contact=contact,
            public_page=True,
        ),
        200,
        NO_STORE,
    )


def _booking_page(
    contact: FollowUpContact,
    form: dict[str, str],
    errors: dict[str, str],
    done: bool = False,
    status: int = 200,
) -> ResponseReturnValue:
    session_ = db.session()
    vehicle = session_.get(Vehicle, contact.vehicle_id) if contact.vehicle_id else None
    return (
        render_template(
            "follow_up/book.html",
            contact=contact,
            plate=vehicle.plate if vehicle else "",
            form=form,
            errors=errors,
            done=done,
            parts=[(key, render_text(name)) for key, name in settings_form.PARTS_OF_DAY.items()],
            public_page=True,
        ),
        status,
        NO_STORE,
    )


def _work_words(contact: FollowUpContact) -> str:
    """The work in the reader's language (the customer's, unless they switched)."""
    return contact.work_zh if language() == "zh_CN" and contact.work_zh else contact.work


@bp.get("/book/<token>")
@public
def book_page(token: str) -> ResponseReturnValue:
    contact = _contact(token)
    form = {"work": _work_words(contact), "day": "", "part_of_day": "any", "note": ""}
    return _booking_page(contact, form, {})


@bp.post("/book/<token>")
@public
def book(token: str) -> ResponseReturnValue:
    contact = _contact(token)
    session_ = db.session()
    typed = {key: request.form.get(key, "") for key in ("work", "day", "part_of_day", "note")}
    today = shop_day(_now(), shop_settings(session_).timezone)
    values, errors = settings_form.check_request(typed, today)
    if errors:
        return _booking_page(
            contact, typed, {k: render_text(v) for k, v in errors.items()}, status=400
        )
    if not settings_form.request_allowed(session_, contact.id, _now()):
        message = _(
            "We already have your requests from this link; the service desk will call you. "
            "For anything urgent, please call the service desk."
        )
        return _booking_page(contact, typed, {"form": message}, status=429)
    session_.add(
        BookingRequest(
            contact_id=contact.id,
            customer_id=contact.customer_id,
            vehicle_id=contact.vehicle_id,
            work=str(values["work"]),
            preferred_day=values["day"],
            part_of_day=str(values["part_of_day"]),
            note=str(values["note"]),
        )
    )
    session_.commit()
    return _booking_page(contact, typed, {}, done=True)
