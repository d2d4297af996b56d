"""Belongings: what is left in the car (ticked), how many keys were handed over, other
items with a note, and the advisor's notes on the outside and the inside of the car."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import DictProperty, NumericProperty
from kivy.uix.widget import Widget

from kiosk.services.walkaround import BELONGINGS
from kiosk.ui.screens.walkaround_common import WalkaroundStepScreen


class WalkaroundBelongingsScreen(WalkaroundStepScreen):
    """The checklist and keys on the left, the notes on the right."""

    page_min_dp = ((0, 760), (0, 1300))  # one column when narrow: taller

    keys_count = NumericProperty(1)
    item_tiles = DictProperty()

    def on_kv_post(self, base_widget: Widget) -> None:
        for name in BELONGINGS:
            tile = Factory.WalkaroundTile(value=name, size_hint_y=None, height=_tile_height())
            tile.bind(on_release=lambda _t, n=name: self.toggle(n))
            self.ids.item_grid.add_widget(tile)
            self.item_tiles[name] = tile
        app: Any = App.get_running_app()
        if app is not None:
            app.bind(lang=lambda *_: self.refresh())

    # -- what the advisor does ---------------------------------------------------------

    def toggle(self, name: str) -> None:
        flow = self.controller
        ticked = not getattr(flow.sheet.walkaround.belongings, name)
        flow.edit(lambda: flow.sheet.set_belongings(**{name: ticked}), screen=self)

    def change_keys(self, step: int) -> None:
        flow = self.controller
        count = flow.sheet.walkaround.belongings.keys_count + step
        flow.edit(lambda: flow.sheet.set_belongings(keys_count=count), screen=self)

    def commit_other(self) -> None:
        flow = self.controller
        if flow is None or flow.sheet is None:
            return
        field, saved = self.ids.other_note, flow.sheet.walkaround.belongings.other_note
        if field.text.strip() == saved:
            return
        typed = field.text.strip()
        flow.edit(
            lambda: flow.sheet.set_belongings(other_note=typed),
            screen=self,
            cancelled=lambda: setattr(field, "text", saved),
        )

    def commit_notes(self, which: str) -> None:
        flow = self.controller
        if flow is None or flow.sheet is None:
            return
        field = self.ids[f"{which}_notes"]
        saved = getattr(flow.sheet.walkaround, f"{which}_notes")
        typed = field.text.strip()
        if typed == saved:
            return
        flow.edit(
            lambda: flow.sheet.set_notes(**{which: typed}),
            screen=self,
            cancelled=lambda: setattr(field, "text", saved),
        )

    def commit(self) -> None:
        self.commit_other()
        self.commit_notes("exterior")
        self.commit_notes("interior")

    def reset(self) -> None:
        super().reset()
        for name in ("other_note", "exterior_notes", "interior_notes"):
            self.ids[name].text = ""

    # -- showing -----------------------------------------------------------------------

    def on_pre_enter(self, *args: Any) -> None:
        sheet = self.controller.sheet
        if sheet is not None:
            walkaround = sheet.walkaround
            self.ids.other_note.text = walkaround.belongings.other_note
            self.ids.exterior_notes.text = walkaround.exterior_notes
            self.ids.interior_notes.text = walkaround.interior_notes
        super().on_pre_enter(*args)

    def refresh(self) -> None:
        flow = self.controller
        if flow is None or flow.sheet is None:
            return
        belongings, lang = flow.sheet.walkaround.belongings, _lang()
        for name, tile in self.item_tiles.items():
            tile.text = BELONGINGS[name].render(lang)
            tile.selected = bool(getattr(belongings, name))
        self.keys_count = belongings.keys_count


def _tile_height() -> float:
    from kivy.metrics import dp

    return dp(60)


def _lang() -> str:
    app: Any = App.get_running_app()
    return str(app.lang) if app is not None else "en"
