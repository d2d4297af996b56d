"""The advisor's queue: cars in the shop, VIPs first, waiting time, search by plate.

Rows come from ``kiosk.services.tablet_queue`` (read in the background by the app);
tapping a row opens that visit's walk-around.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.services.sync_progress import ProgressReading
from kiosk.services.tablet_queue import PROGRESS_LABELS, QueueEntry, waiting_text
from kiosk.ui.fitting import FittedScreen
from shared.i18n import Text
from shared.visit_status import status_label

SEARCH_DELAY_S = 0.3
NOT_GREETED = Text("Not greeted for {minutes} min", "kiosk")


class QueueRow(ButtonBehavior, BoxLayout):
    """One car: VIP badge, ticket, plate, car, customer, concern, wait, walk-around state."""

    visit_id = StringProperty("")
    ticket = StringProperty("")
    plate = StringProperty("")
    car = StringProperty("")
    customer = StringProperty("")
    concern = StringProperty("")
    vip = BooleanProperty(False)
    waiting = StringProperty("")
    since = StringProperty("")  # the check-in time on the shop's clock, as the web shows it
    progress = StringProperty("")
    progress_code = StringProperty("")
    status = StringProperty("")
    not_greeted = StringProperty("")  # "Not greeted for 12 min" past the greeting target

    def on_release(self) -> None:
        app = App.get_running_app()
        if app is not None and self.visit_id:
            app.open_visit(self.visit_id)


class SyncBar(BoxLayout):
    """Sync progress: a bar with photos, changes and megabytes left, and a line below."""

    reading = ObjectProperty(None, allownone=True)


class QueueScreen(FittedScreen):
    """The signed-in advisor's home on the tablet."""

    page_min_dp = ((0, 560), (0, 700))  # dp: (wide, narrow); scrolls on a smaller window

    entries = ListProperty([])  # QueueEntry, in queue order
    rows = ListProperty([])  # the RecycleView's data, in the current language
    search = StringProperty("")
    loaded = BooleanProperty(False)
    sync_reading = ObjectProperty(None, allownone=True)
    count = NumericProperty(0)
    greeting_target_minutes = NumericProperty(10)

    __events__ = ("on_search_request",)

    _search_event: ClockEvent | None = None

    def on_search_request(self, text: str) -> None:
        pass

    def search_changed(self, text: str) -> None:
        """Typed in the search box: ask again once the advisor pauses."""
        self.search = text
        if self._search_event is not None:
            self._search_event.cancel()
        self._search_event = Clock.schedule_once(
            lambda _dt: self.dispatch("on_search_request", self.search), SEARCH_DELAY_S
        )

    def clear_search(self) -> None:
        self.ids.search.text = ""
        self.search_changed("")

    def show(self, entries: list[QueueEntry], lang: str, now: datetime | None = None) -> None:
        self.entries = entries
        self.loaded = True
        self.count = len(entries)
        self.render(lang, now)

    def render(self, lang: str, now: datetime | None = None) -> None:
        """The rows in ``lang``; waiting times as of ``now``."""
        now = now or datetime.now(UTC)
        target = int(self.greeting_target_minutes)
        self.rows = [_row(entry, lang, now, target) for entry in self.entries]

    def show_sync(self, reading: ProgressReading) -> None:
        self.sync_reading = reading


def _shop_clock(moment: datetime) -> str:
    app: Any = App.get_running_app()
    return app.shop_clock(moment) if app is not None and hasattr(app, "shop_clock") else ""


def _row(entry: QueueEntry, lang: str, now: datetime, target: int) -> dict[str, Any]:
    late = entry.not_greeted_in_time(target, now)
    return {
        "not_greeted": (
            replace(NOT_GREETED, params={"minutes": entry.waiting_minutes(now)}).render(lang)
            if late
            else ""
        ),
        "visit_id": entry.visit_id,
        "ticket": entry.ticket_number,
        "plate": entry.plate or "—",
        "car": entry.make_model,
        "customer": entry.customer_name,
        "concern": entry.concern,
        "vip": entry.vip,
        "waiting": waiting_text(entry.waiting_minutes(now)).render(lang),
        "since": _shop_clock(entry.checked_in_at),
        "progress": PROGRESS_LABELS[entry.progress].render(lang),
        "progress_code": entry.progress.value,
        "status": status_label(entry.status).render(lang),
    }
