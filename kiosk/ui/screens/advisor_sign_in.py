"""Advisor sign-in on the tablet: pick your name, type your PIN.

The screen only shows and collects; ``CheckinApp`` checks the PIN in the background
(``kiosk.services.advisors``) and answers with :meth:`show_refusal` or moves on.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.services.server_client import UserMessage
from kiosk.ui.fitting import FittedScreen


class AdvisorSignInScreen(FittedScreen):
    """Names of the advisors who may use this tablet, and a PIN pad."""

    page_min_dp = ((0, 780), (0, 1100))  # dp: (wide, narrow); scrolls on a smaller window

    # [{"username": ..., "display_name": ...}], by name
    advisors = ListProperty([])
    selected = StringProperty("")
    message = ObjectProperty(None, allownone=True)
    busy = BooleanProperty(False)
    # True once the list was asked for at least once (so "nobody" is not shown too early).
    loaded = BooleanProperty(False)

    __events__ = ("on_sign_in", "on_refresh")

    def on_advisors(self, _screen: Screen, advisors: list[dict[str, Any]]) -> None:
        names = {a["username"] for a in advisors}
        if self.selected not in names:
            self.selected = advisors[0]["username"] if len(advisors) == 1 else ""
        self._build_tiles()

    def on_selected(self, _screen: Screen, _selected: str) -> None:
        self.message = None
        self.ids.pin_pad.text = ""
        for tile in self.ids.people.children:
            tile.selected = tile.value == self.selected

    def choose(self, username: str) -> None:
        self.selected = username

    def selected_name(self) -> str:
        for advisor in self.advisors:
            if advisor["username"] == self.selected:
                return str(advisor["display_name"])
        return ""

    def submit(self) -> None:
        if self.busy:
            return
        self.dispatch("on_sign_in", self.selected, self.ids.pin_pad.text)

    def show_refusal(self, message: UserMessage) -> None:
        self.busy = False
        self.message = message
        self.ids.pin_pad.text = ""

    def reset(self) -> None:
        """Ready for the next advisor: no PIN, no message (the name list stays)."""
        self.busy = False
        self.message = None
        self.ids.pin_pad.text = ""
        if len(self.advisors) != 1:
            self.selected = ""

    def on_sign_in(self, username: str, pin: str) -> None:
        pass

    def on_refresh(self) -> None:
        pass

    def _build_tiles(self) -> None:
        from kiosk.ui.widgets import ToggleTile

        grid = self.ids.people
        grid.clear_widgets()
        for advisor in self.advisors:
            tile = ToggleTile(
                text=str(advisor["display_name"]),
                value=str(advisor["username"]),
                selected=advisor["username"] == self.selected,
                size_hint_y=None,
            )
            tile.height = self.ids.people.row_default_height
            tile.bind(on_release=lambda t: self.choose(t.value))
            grid.add_widget(tile)
