"""The customer's phone page: see the quote line by line, approve or decline, and sign.

Reached by a link carrying a signed, expiring token (no sign-in). The link is the
customer's own, so the page greets them by name and shows their own plate; it shows this
quote only. A quote with options shows them side by side, each with its pros and cons
and its total; the customer chooses one (or none of them), then answers the lines every
option shares and the chosen option's lines. Declining a safety (red) line asks the
customer to confirm they understand; that is kept with the approval. A link the advisor
is revising says so at once (``quotes.link``), and the customer never sees a status name.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from shared import domain
from shared.i18n import Text
from sync_server import db
from sync_server.access import public
from sync_server.diagnoses import diagnoses_of
from sync_server.messaging import notify_customer
from sync_server.problems import Problem
from sync_server.quotes import (
    CHOOSABLE_KINDS,
    QuoteRefused,
    TokenRefused,
    option_letter,
    quote_for_token,
    quote_versions,
    read_approval_token,
    record_approval,
)
from sync_server.quotes.changes import changes_since, seen_before
from sync_server.quotes.link import MESSAGES, LinkState, link_state
from sync_server.sync.blobs import BlobRefused
from sync_server.sync.photo_files import send_photo
from sync_server.sync.records import ChangeRefused
from sync_server.sync.tables import Blob
from sync_server.visit_tables import Customer, Vehicle, Visit
from sync_server.web import currency_symbol, page_url, render_text
from sync_server.web import gettext as _

# How often an open page asks whether its link is still open (the advisor may revise).
STATE_POLL_SECONDS = 8

bp = Blueprint("approval", __name__)

MAX_SIGNATURE_PNG = 400_000
MAX_STROKES = 200
MAX_POINTS = 5000


def _quote_or_problem(token: str) -> domain.Quote:
    try:
        quote_id, version = read_approval_token(current_app.config["SECRET_KEY"], token)
    except TokenRefused as refused:
        if refused.reason == "expired":
            raise Problem(
                410,
                "approval-link-expired",
                Text("This link has expired. Please ask the service desk for a new one.", "server"),
                title=Text("This link has expired", "server"),
            ) from None
        raise Problem(
            404,
            "approval-link-invalid",
            Text(
                "This link is not complete or not valid. Please open it again from the message.",
                "server",
            ),
        ) from None
    quote = quote_for_token(db.session(), quote_id, version)
    if quote is None:
        raise Problem(404, "not-found")
    return quote


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _line_amounts(quote: domain.Quote) -> dict[str, Any]:
    """What the page's script needs for the running total: whole cents, no floats."""
    return {
        "lines": {
            line.id: {
                "cents": _cents(abs(line.amount)),
                "discount": line.kind == domain.QuoteLineKind.discount,
                "choosable": line.kind in CHOOSABLE_KINDS,
                "option": line.option_id,
            }
            for line in quote.lines
        },
        "tax_rate_e4": int((quote.tax_rate * 10000).to_integral_value()),
        "symbol": currency_symbol(quote.currency),
    }


def _page(
    token: str, quote: domain.Quote, *, status: int = 200, **context: Any
) -> ResponseReturnValue:
    session = db.session()
    visit = session.get(Visit, quote.visit_id)
    assert visit is not None
    customer = session.get(Customer, visit.customer_id)
    vehicle = session.get(Vehicle, visit.vehicle_id)
    state = link_state(session, quote)
    versions = quote_versions(session, quote.visit_id)
    mine = next((v for v in versions if v.quote.id == quote.id), None)
    approval = mine.approval if mine and state == LinkState.answered else None
    seen = seen_before(versions, quote.version)
    photo_hashes = {sha for line in quote.lines for sha in line.photo_sha256s}
    stored = set()
    if photo_hashes:
        stored = set(
            session.scalars(select(Blob.sha256).where(Blob.sha256.in_(sorted(photo_hashes))))
        )
    name = customer.name.strip() if customer else ""
    context.setdefault("decisions", {})
    context.setdefault("acknowledged", set())
    context.setdefault("errors", {})
    context.setdefault("signer_name", name)
    context.setdefault("chosen_option", "")
    body = render_template(
        "approval/approve.html",
        token=token,
        quote=quote,
        totals=quote.totals(),
        option_totals=quote.option_totals(),
        option_letter=option_letter,
        greeting=_("Hello {name}.", name=name) if name else _("Hello."),
        plate=vehicle.plate if vehicle else "",
        state=state.value,
        state_message=render_text(MESSAGES[state]) if state in MESSAGES else "",
        poll_seconds=current_app.config.get("APPROVAL_POLL_SECONDS", STATE_POLL_SECONDS),
        approval=approval,
        approved_lines=approval.approved_lines(quote) if approval else [],
        choosable=CHOOSABLE_KINDS,
        changes=changes_since(seen.quote, quote) if seen else None,
        stored_photos=stored,
        urgency_label=lambda value: render_text(domain.urgency_label(value)),
        line_amounts=_line_amounts(quote),
        public_page=True,
        findings=diagnoses_of(session, quote.visit_id),
        **context,
    )
    return body, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.get("/approve/<token>")
@public
def approve(token: str) -> ResponseReturnValue:
    return _page(token, _quote_or_problem(token))


@bp.get("/approve/<token>/state")
@public
def state(token: str) -> ResponseReturnValue:
    """Whether the link is still open, for the page to say so at once when it is not."""
    quote = _quote_or_problem(token)
    current = link_state(db.session(), quote)
    message = render_text(MESSAGES[current]) if current in MESSAGES else ""
    return (
        jsonify({"state": current.value, "message": message}),
        200,
        {"Cache-Control": "no-store"},
    )


@bp.get("/approve/<token>/photos/<sha256>")
@public
def photo(token: str, sha256: str) -> ResponseReturnValue:
    """A photo of this quote's lines only: the token opens nothing else."""
    quote = _quote_or_problem(token)
    if sha256 not in {sha for line in quote.lines for sha in line.photo_sha256s}:
        raise Problem(404, "not-found")
    return send_photo(sha256, thumbnail=request.args.get("size") != "full")


def read_strokes(raw: str) -> list[list[domain.StrokePoint]] | None:
    """The pad's strokes: a JSON list of strokes, each a list of [x, y, t_ms] in 0..1."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, list) or len(data) > MAX_STROKES:
        return None
    strokes, total = [], 0
    for stroke in data:
        if not isinstance(stroke, list):
            return None
        points = []
        for point in stroke:
            if not (isinstance(point, list) and len(point) == 3):
                return None
            x, y, t = point
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (x, y, t)):
                return None
            points.append(
                domain.StrokePoint(
                    min(1.0, max(0.0, float(x))), min(1.0, max(0.0, float(y))), max(0, int(t))
                )
            )
        total += len(points)
        if points:
            strokes.append(points)
    return strokes if total <= MAX_POINTS else None


def read_png(data_uri: str) -> bytes | None:
    prefix = "data:image/png;base64,"
    if not data_uri.startswith(prefix):
        return None
    try:
        png = base64.b64decode(data_uri[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return png if 0 < len(png) <= MAX_SIGNATURE_PNG else None


@bp.post("/approve/<token>")
@public
def submit(token: str) -> ResponseReturnValue:
    quote = _quote_or_problem(token)
    session = db.session()
    form = request.form
    if link_state(session, quote) != LinkState.open:
        return _page(token, quote, status=409)
    errors: dict[str, str] = {}
    option_id, chosen_option = None, form.get("option", "").strip()[:36]
    if quote.options:
        if quote.option(chosen_option) is not None:
            option_id = chosen_option
        elif chosen_option != "none":
            chosen_option = ""
            errors["option"] = _("Please choose one of the options, or “None of these options”.")
    # Every answer given is kept for the page shown again; only the answers to the lines
    # offered with the chosen option count.
    given = {
        line.id: form.get(f"decision-{line.id}", "")
        for line in quote.lines
        if form.get(f"decision-{line.id}", "") in ("approved", "declined")
    }
    decisions: dict[str, domain.LineDecision] = {}
    for line in quote.lines_for(option_id):
        if line.kind not in CHOOSABLE_KINDS:
            continue
        if line.id in given:
            decisions[line.id] = domain.LineDecision(given[line.id])
        else:
            errors[f"decision-{line.id}"] = _("Please choose yes or no for this item.")
    # A safety line declined needs the customer's word that they understand the risk.
    acknowledged = {line.id for line in quote.lines if form.get(f"safety-{line.id}", "") == "yes"}
    for line in quote.lines_for(option_id):
        if (
            line.urgency == domain.Urgency.red
            and decisions.get(line.id) == domain.LineDecision.declined
            and line.id not in acknowledged
        ):
            errors[f"safety-{line.id}"] = _(
                "This is a safety item. Please tick the box to confirm you do not want it "
                "done now, or choose “Yes, do it”."
            )
    signer_name = form.get("signer_name", "").strip()[:80]
    strokes = read_strokes(form.get("strokes", "[]"))
    png = read_png(form.get("signature_png", ""))
    signature = domain.Signature(
        visit_id=quote.visit_id,
        purpose=domain.SignaturePurpose.approval,
        strokes=strokes or [],
        signed_sha256="0" * 64,
    )
    if strokes is None or png is None or not signature.has_enough_ink():
        errors["signature"] = _("Please sign in the box with your finger.")
    kept = {
        "decisions": given,
        "acknowledged": acknowledged,
        "signer_name": signer_name,
        "chosen_option": chosen_option,
    }
    if errors:
        return _page(token, quote, status=400, errors=errors, **kept)
    assert strokes is not None and png is not None
    try:
        record_approval(
            session,
            current_app.extensions["blob_store"],
            quote,
            decisions=decisions,
            strokes=strokes,
            signature_png=png,
            signer_name=signer_name,
            ip_address=request.remote_addr or "",
            user_agent=request.user_agent.string,
            option_id=option_id,
            safety_acknowledged=sorted(acknowledged),
        )
        notify_customer(session, quote.visit_id, "approved", base_url=page_url())
        session.commit()
    except BlobRefused:
        session.rollback()
        errors["signature"] = _("Please sign in the box with your finger.")
        return _page(token, quote, status=400, errors=errors, **kept)
    except (ChangeRefused, QuoteRefused):
        # The quote changed under the customer (revised a moment ago, or answered from
        # another tab): the page says so in their words, never the desk's refusal.
        session.rollback()
        if link_state(session, quote) == LinkState.open:
            errors["form"] = _(
                "We could not take your answer just now. Please try again in a moment, or "
                "call the service desk."
            )
        return _page(token, quote, status=409, errors=errors, **kept)
    return _page(token, quote, thanks=True)
