"""Deferred work: what the customer declined at this car's earlier visits and has not had
done since, soonest due first, for the advisor to offer again at the car. Read from the
car's history the tablet keeps (``kiosk/services/deferred_work.py``), offline too."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.services.deferred_work import URGENCY_WORDS, DeferredItem
from kiosk.ui import palette
from kiosk.ui.screens.walkaround_common import WalkaroundStepScreen
from shared.i18n import Text
from shared.shop_time import zone_or_local

NOT_FETCHED = Text(
    "This car's earlier visits have not reached this tablet yet: they come with the next sync.",
    "kiosk",
)
NOTHING_DEFERRED = Text("Nothing declined at earlier visits is waiting to be done.", "kiosk")
SOME_DEFERRED = Text(
    "Declined at earlier visits and not done since: offer it again, and put what the "
    "customer wants on the quote.",
    "kiosk",
)
DECLINED_ON = Text("Declined {declined}", "kiosk")
DUE_ON = Text("Due {due}", "kiosk")
OVERDUE = Text("Overdue since {due}", "kiosk")
PART_NUMBER = Text("Part {number}", "kiosk")


class DeferredCard(BoxLayout):
    """One line of deferred work: a bar in its urgency's colour, the work, its dates."""

    title = StringProperty("")
    details = StringProperty("")
    urgency_colour = ListProperty([0, 0, 0, 1])
    overdue = BooleanProperty(False)


class WalkaroundDeferredScreen(WalkaroundStepScreen):
    """The list of deferred work, one card per line."""

    summary = StringProperty("")

    def on_kv_post(self, base_widget: Widget) -> None:
        app: Any = App.get_running_app()
        if app is not None:
            app.bind(lang=lambda *_: self.refresh())

    def refresh(self) -> None:
        flow = self.controller
        if flow is None or flow.sheet is None:
            return
        lang = _lang()
        items: list[DeferredItem] | None = flow.deferred_items
        if items is None:
            self.summary = NOT_FETCHED.render(lang)
        else:
            self.summary = (SOME_DEFERRED if items else NOTHING_DEFERRED).render(lang)
        box = self.ids.deferred_list
        box.clear_widgets()
        today = datetime.now(UTC).astimezone(zone_or_local(_zone())).date()
        for item in items or []:
            box.add_widget(_card(item, today, lang))

    def reset(self) -> None:
        super().reset()
        self.summary = ""
        self.ids.deferred_list.clear_widgets()


def _card(item: DeferredItem, today: date, lang: str) -> Any:
    due = replace(OVERDUE if item.overdue(today) else DUE_ON, params={"due": item.due_on})
    parts = [
        URGENCY_WORDS[item.urgency].render(lang),
        due.render(lang),
        replace(DECLINED_ON, params={"declined": item.declined_on}).render(lang),
    ]
    if item.part_number:
        parts.append(replace(PART_NUMBER, params={"number": item.part_number}).render(lang))
    return DeferredCard(
        title=item.description,
        details=" · ".join(parts),
        urgency_colour=URGENCY_COLOURS[item.urgency],
        overdue=item.overdue(today),
    )


URGENCY_COLOURS = {"red": palette.ERROR, "yellow": palette.OFFLINE, "green": palette.ONLINE}


def _zone() -> str:
    app: Any = App.get_running_app()
    return str(getattr(app, "shop_timezone", "") or "")


def _lang() -> str:
    app: Any = App.get_running_app()
    return str(app.lang) if app is not None else "en"
