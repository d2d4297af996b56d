"""The web back office and the customer's phone pages: server-rendered Jinja, both languages.

One blueprint module per area (``board``, ``visits``, ``quotes``, ``approval``, ...), each
beside its service module in ``sync_server/`` (docs/architecture.md, "Server layout");
``site`` holds the static files, the templates and the language switch. Templates live in
``templates/<blueprint>/``. Blueprint modules never import each other: what several pages
share is here (this package's face) or in a service module. Every string a
reader sees goes through the ``_()`` template global (gettext domain ``server``; one
with a count through ``ngettext()``, which picks the plural form), which
``tests/test_web_i18n.py`` extracts from the templates and checks for a translation.
Every form carries a CSRF token (Flask-WTF), checked for each POST to a page.
"""

from __future__ import annotations

import base64
import io
import os
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import qrcode
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import FileSystemBytecodeCache
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from shared.figures import figure_spans
from shared.i18n import LANGUAGE_NAMES, Text, normalize_language, translate, translate_plural
from shared.masking import mask_name, mask_plate
from shared.shop_time import shop_time_text, shop_zone
from shared.visit_status import VisitStatus, status_label
from sync_server import db
from sync_server.access import current_caller
from sync_server.people import SPECIALITIES
from sync_server.problems import Problem, request_language
from sync_server.public_url import public_base_url
from sync_server.shop import shop_settings
from sync_server.visit_tables import Visit

csrf = CSRFProtect()


def language() -> str:
    """The reader's language: their own choice, else what the browser asks for (worked
    out once per request and choice: a long page asks for it thousands of times)."""
    chosen = session.get("lang")
    known = g.get("_reader_language")
    if known is not None and known[0] == chosen:
        return known[1]
    found = normalize_language(chosen) if chosen else request_language()
    g._reader_language = (chosen, found)
    return found


def gettext(message: str, **params: Any) -> str:
    """Translate a page string (domain ``server``) into the reader's language."""
    return translate(message, language(), "server", **params)


_ = gettext


def ngettext(singular: str, plural: str, count: int, /, **params: Any) -> str:
    """A page string with a count, in the form the reader's language gives ``count``
    ("1 booking", "2 bookings"); ``params`` name the count too."""
    return translate_plural(singular, plural, count, language(), "server", **params)


def figures(text: object) -> Markup:
    """``text`` for a page, each figure in it ("4,440 km", "48,210 公里") in a span the
    browser never breaks inside (``.figure`` in ``app.css``): a number stays with its
    unit on one line, in either language."""
    words = str(text)
    parts: list[str] = []
    last = 0
    for start, end in figure_spans(words):
        parts.append(escape(words[last:start]))
        parts.append(Markup('<span class="figure">%s</span>') % words[start:end])
        last = end
    parts.append(escape(words[last:]))
    return Markup("").join(parts)


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


# The one page POST that takes no CSRF token: RFC 8058's one-click unsubscribe, which a
# mail client sends with no cookie and no form of ours. It only ever records an opt-out
# for the secret token in its own URL, so a forged request can do no harm.
CSRF_EXEMPT_ENDPOINTS = frozenset({"follow_up.unsubscribe"})


def _check_csrf() -> None:
    if (
        request.method == "POST"
        and request.blueprint in current_app.extensions["page_blueprints"]
        and request.endpoint not in CSRF_EXEMPT_ENDPOINTS
    ):
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
        "ngettext": ngettext,
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


def _template_bytecode_cache(app: Flask) -> None:
    """Compiled templates kept in the instance folder (Jinja's own cache, checked against
    each template's source): a server starting again loads them instead of compiling
    every one again (~0.5 s in all). ``CHECKIN_TEMPLATE_CACHE`` names another folder,
    which several instance folders may share (Jinja writes each file whole, then renames
    it): the test suite's hundreds of servers and apps compile each template once."""
    shared = os.environ.get("CHECKIN_TEMPLATE_CACHE")
    folder = Path(shared) if shared else Path(app.instance_path) / "template-cache"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as refused:  # a read-only instance folder: compile, as without a cache
        app.logger.warning("compiled templates not kept: %s", refused)
        return
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(folder))


def init_app(app: Flask) -> None:
    _template_bytecode_cache(app)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked for pages only, below
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)
    csrf.init_app(app)
    app.extensions["html_error_page"] = _error_page
    app.before_request(_check_csrf)
    app.context_processor(_template_context)
    app.add_template_filter(figures, "figures")

    from sync_server.web import (
        admin,
        approval,
        auth,
        board,
        customer_merge,
        desk_steps,
        quotes,
        site,
        status,
        vehicles,
        visits,
    )
    from sync_server.web import appointments as appointment_pages
    from sync_server.web import capacity_settings as capacity_pages
    from sync_server.web import checklist_settings as checklist_pages
    from sync_server.web import complaints as complaint_pages
    from sync_server.web import customers as customer_pages
    from sync_server.web import follow_up as follow_up_pages
    from sync_server.web import messaging as message_pages
    from sync_server.web import reports as report_pages
    from sync_server.web import surveys as survey_pages
    from sync_server.web import work_records as work_record_pages

    pages = (site, auth, board, visits, quotes, approval, status, admin, desk_steps)
    pages += (message_pages, customer_pages, appointment_pages, capacity_pages)
    pages += (complaint_pages, survey_pages)
    pages += (customer_merge, vehicles)
    pages += (work_record_pages, checklist_pages, follow_up_pages, report_pages)
    for module in pages:
        app.register_blueprint(module.bp)
    # Every page's form is checked for its CSRF token, whichever blueprint it is in.
    app.extensions["page_blueprints"] = frozenset(module.bp.name for module in pages)


def page_url() -> str:
    """The public base address for links sent to customers (QR codes, messages)."""
    return public_base_url()


def qr_data_uri(text: str) -> str:
    """A QR code of ``text`` as an ``<img src>`` (a quote link, a pairing code)."""
    image = qrcode.make(text, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def load_visit(session: Session, visit_id: str) -> Visit:
    """The visit a page is about, or the 404 page."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    return visit


def speciality_names() -> dict[str, str]:
    """The technicians' specialities (``people.SPECIALITIES``) in the reader's words."""
    return {code: render_text(name) for code, name in SPECIALITIES.items()}
