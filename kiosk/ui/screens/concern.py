"""What the customer came for: tiles for common requests and, optionally, own words."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.uix.widget import Widget

from kiosk.ui.screens.step import StepScreen
from shared.domain import ConcernCode, concern_label


class ConcernScreen(StepScreen):
    """Ten concern tiles (several may be chosen) and a free-text line."""

    def __init__(self, **kwargs: Any) -> None:
        self.tiles: dict[str, Widget] = {}
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget: Widget) -> None:
        grid = self.ids.tiles
        for code in ConcernCode:
            tile = Factory.ToggleTile(value=code.value)
            tile.bind(on_release=self._toggle)
            grid.add_widget(tile)
            self.tiles[code.value] = tile
        app: Any = App.get_running_app()
        app.bind(lang=self._label_tiles)
        self._label_tiles(app, app.lang)

    def _label_tiles(self, _app: Any, lang: str) -> None:
        for code, tile in self.tiles.items():
            tile.text = concern_label(code).render(lang)

    def _toggle(self, tile: Widget) -> None:
        tile.selected = not tile.selected
        self.issues = []

    def chosen(self) -> list[str]:
        return [code for code, tile in self.tiles.items() if tile.selected]

    def reset(self) -> None:
        super().reset()
        for tile in self.tiles.values():
            tile.selected = False
        self.ids.words.text = ""

    def prepare(self) -> None:
        flow = self.checkin.flow
        wanted = set(flow.concern_codes)
        for code, tile in self.tiles.items():
            tile.selected = code in wanted
        if not self.ids.words.text:
            # The work booked with the appointment, for the customer to add to.
            self.ids.words.text = flow.concern_text

    def submit(self) -> None:
        self.issues = self.checkin.set_concerns(self.chosen(), self.ids.words.text)
