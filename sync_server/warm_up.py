"""What a shop's first pages would otherwise pay for, done once when ``serve`` starts.

A fresh server process compiles each page's template on its first use, reads the
message catalogs, loads Babel's names of countries and weekdays and imports the holiday
calendar of the shop's country (the lunar tables of China's), and the first full
garbage collection walks everything the start-up loaded: a few hundred milliseconds that
the first advisor to open the day plan would wait for. ``serve`` runs
:func:`warm_up` in a background thread as it starts listening, so nobody waits for it
and a request that comes sooner does the same work itself (each step is cached and safe
to do twice). ``create_app`` does not call it: tests and commands that never serve a
page do not pay for it.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from flask import Flask

log = logging.getLogger(__name__)


def warm_up(app: Flask) -> float:
    """Load what the first request of each page would; return the seconds it took."""
    started = time.perf_counter()
    from shared.i18n import DOMAINS, LANGUAGES, translations
    from shared.shop_calendar import ShopCalendar
    from sync_server import db
    from sync_server.appointments import settings as appointment_settings
    from sync_server.appointments.capacity import calendar_for
    from sync_server.models import Shop

    for language in LANGUAGES:
        for domain in DOMAINS:
            translations(language, domain)
        appointment_settings.country_names(language)
        appointment_settings.weekday_names(language)
    environment = app.jinja_env
    for name in environment.list_templates(filter_func=_is_page):
        environment.get_template(name)
    with app.app_context():  # read only; its session is closed when it ends
        session = db.session()
        shop = session.get(Shop, 1)  # none yet: the default calendar (never made here)
        calendar = calendar_for(session, shop) if shop is not None else ShopCalendar()
        today = datetime.now(UTC).astimezone(calendar.timezone).date()
        for day in (today, today + timedelta(days=366)):  # this year's and next year's
            calendar.holiday_name(day)
            calendar.is_makeup_working_day(day)
    # What was loaded stays for the life of the process: collect once, then leave it out
    # of later collections (a full collection over it took ~130 ms of a first request).
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started


def _is_page(name: str) -> bool:
    return name.endswith((".html", ".txt"))


def start_warm_up(app: Flask) -> threading.Thread:
    """Run :func:`warm_up` in a daemon thread; a failure is logged, never raised (the
    pages then load what they need on first use, as without it)."""

    def run() -> None:
        try:
            seconds = warm_up(app)
        except Exception:
            log.warning("warming up the pages failed; first pages load on first use", exc_info=True)
        else:
            log.info("pages warmed up in %.2f s", seconds)

    thread = threading.Thread(target=run, name="warm-up", daemon=True)
    thread.start()
    return thread
