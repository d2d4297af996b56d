"""The web back office and the customer's phone pages: server-rendered Jinja, both languages.

One blueprint per area (``auth``, ``board``, ``visits``, ``quotes``, ``approval``,
``status``, ``admin``); templates live in ``templates/<blueprint>/``. Every string a
reader sees goes through the ``_()`` template global (gettext domain ``server``), which
``tests/test_web_i18n.py`` extracts from the templates and checks for a translation.
Every form carries a CSRF token (Flask-WTF), checked for each POST to a page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from shared.i18n import LANGUAGE_NAMES, LANGUAGES, Text, normalize_language, translate
from shared.masking import mask_name, mask_plate
from shared.shop_time import shop_time_text, shop_zone
from shared.visit_status import VisitStatus, status_label
from sync_server import db
from sync_server.access import current_caller, public
from sync_server.problems import Problem, request_language
from sync_server.public_url import public_base_url
from sync_server.shop import shop_settings

csrf = CSRFProtect()

# Holds the static files (CSS, the board's and the signature pad's JS) and the
# language switch, which every page shares.
bp = Blueprint(
    "web",
    __name__,
    static_folder="static",
    static_url_path="/static/web",
    template_folder="templates",
)

WEB_BLUEPRINTS = frozenset(
    {
        "web",
        "auth_pages",
        "board",
        "visits",
        "quotes",
        "approval",
        "status",
        "admin",
        "desk_steps",
        "messages",
        "customers",
        "work_records",
    }
)


def language() -> str:
    """The reader's language: their own choice, else what the browser asks for."""
    chosen = session.get("lang")
    return normalize_language(chosen) if chosen else request_language()


def gettext(message: str, **params: Any) -> str:
    """Translate a page string (domain ``server``) into the reader's language."""
    return translate(message, language(), "server", **params)


_ = gettext


def render_text(text: Text) -> str:
    return text.render(language())


def shop_time(moment: datetime | None, fmt: str = "%H:%M") -> str:
    """A time as the shop's wall clock shows it (``shared.shop_time``, as on the tablet)."""
    if moment is None:
        return ""
    zone = g.get("shop_zone")
    if zone is None:
        zone = g.shop_zone = shop_zone(shop_settings(db.session()).timezone)
    return shop_time_text(moment, zone, fmt)


def visit_status_text(status: str) -> str:
    try:
        return status_label(VisitStatus(status)).render(language())
    except ValueError:
        return status


def currency_symbol(currency: str) -> str:
    return {"CNY": "¥", "EUR": "€", "USD": "$", "GBP": "£"}.get(currency, currency + " ")


def money(amount: Any, currency: str = "CNY") -> str:
    return f"{currency_symbol(currency)}{amount:,.2f}"


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site; never an open redirect."""
    if not target or not target.isprintable():  # CR, LF and other controls: never a header
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.get("/lang/<code>")
@public
def switch_language(code: str) -> ResponseReturnValue:
    if code in LANGUAGES:
        session["lang"] = code
    if request.args.get("next"):
        return redirect(safe_next(request.args["next"], url_for("board.board")))
    back = request.referrer or ""
    parts = urlsplit(back)
    target = parts.path + (f"?{parts.query}" if parts.query else "") if back else ""
    if parts.netloc and parts.netloc != request.host:
        target = ""
    return redirect(safe_next(target, url_for("board.board")))


def _error_page(problem: Problem) -> Response:
    if problem.status == 401:
        return redirect(url_for("auth_pages.login", next=request.full_path.rstrip("?")))  # type: ignore[return-value]
    detail = problem.detail.render(language()) if problem.detail else ""
    if isinstance(problem.cause, CSRFError):
        detail = _(
            "This form was open too long or came from elsewhere. Go back, reload the page "
            "and send it again."
        )
    body = render_template(
        "errors/error.html",
        status=problem.status,
        title=problem.title.render(language()),
        detail=detail,
        incident=problem.extra.get("incident", ""),
    )
    return Response(body, status=problem.status, mimetype="text/html")


def _check_csrf() -> None:
    if request.method == "POST" and request.blueprint in WEB_BLUEPRINTS:
        csrf.protect()


def language_next() -> str | None:
    """Where the language switch returns to: this page, if it can be shown again."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    try:
        current_app.url_map.bind("").match(request.path, method="GET")
    except HTTPException:
        return None  # a form's answer page: the switch goes back to the page with the form
    return request.path


def _template_context() -> dict[str, Any]:
    return {
        "language_next": language_next,
        "_": gettext,
        "lang": language(),
        "languages": LANGUAGE_NAMES,
        "caller": current_caller(),
        "shop_time": shop_time,
        "status_text": visit_status_text,
        "money": money,
        "mask_name": mask_name,
        "mask_plate": mask_plate,
        "render_text": render_text,
    }


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked for pages only, below
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    csrf.init_app(app)
    app.extensions["html_error_page"] = _error_page
    app.before_request(_check_csrf)
    app.context_processor(_template_context)

    from sync_server.web import admin, approval, auth, board, desk_steps, quotes, status, visits
    from sync_server.web import appointments as appointment_pages
    from sync_server.web import customers as customer_pages
    from sync_server.web import messages as message_pages
    from sync_server.web import work_records as work_record_pages

    app.register_blueprint(bp)
    for module in (auth, board, visits, quotes, approval, status, admin, desk_steps):
        app.register_blueprint(module.bp)
    for module in (message_pages, customer_pages, appointment_pages, work_record_pages):
        app.register_blueprint(module.bp)


def page_url() -> str:
    """The public base address for links sent to customers (QR codes, messages)."""
    return public_base_url()
