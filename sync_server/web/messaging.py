"""The manager's messages page (what never reached a customer, and what to set up), and
the advisor's "I called the customer" for a call task."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from sync_server import db
from sync_server.access import STAFF, allow, require_caller
from sync_server.messaging import masked_recipient
from sync_server.messaging.outbox import (
    gateways,
    mark_called,
    not_sent_counts,
    not_sent_messages,
    send_again,
)
from sync_server.web import gettext as _

bp = Blueprint("messages", __name__)


@bp.get("/messages")
@allow("manager")
def outbox() -> ResponseReturnValue:
    session = db.session()
    return render_template(
        "messages/outbox.html",
        ready=gateways(current_app.config),
        counts=not_sent_counts(session),
        messages=not_sent_messages(session),
        masked_recipient=masked_recipient,
    )


@bp.post("/messages/send-again")
@allow("manager")
def retry() -> ResponseReturnValue:
    session = db.session()
    count = send_again(session, gateways(current_app.config))
    session.commit()
    if count:
        flash(_("Messages queued to be sent again: {count}", count=count), "ok")
    else:
        flash(_("Nothing to send again: set up the e-mail server or SMS gateway first."), "error")
    return redirect(url_for("messages.outbox"))


@bp.post("/messages/<int:message_id>/called")
@allow(*STAFF)
def called(message_id: int) -> ResponseReturnValue:
    session = db.session()
    message = mark_called(session, message_id, require_caller().id)
    if message is None:
        flash(_("This call is already marked as done."), "error")
        return redirect(url_for("board.board"))
    session.commit()
    flash(_("Marked as called."), "ok")
    return redirect(url_for("visits.visit", visit_id=message.visit_id) + "#job")
