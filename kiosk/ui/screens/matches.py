"""More than one appointment matched: the customer picks theirs (shown masked)."""

from __future__ import annotations

from kivy.properties import ObjectProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.services.checkin_flow import AppointmentMatch
from kiosk.ui.screens.step import StepScreen


class MatchTile(ButtonBehavior, BoxLayout):
    """One appointment found, as the kiosk may show it (masked)."""

    match = ObjectProperty(None, allownone=True)


class MatchesScreen(StepScreen):
    """One tile per match: masked name and plate, car, requested work."""

    def show(self, matches: tuple[AppointmentMatch, ...]) -> None:
        box = self.ids.matches
        box.clear_widgets()
        for match in matches:
            tile = MatchTile(match=match)
            tile.bind(on_release=lambda _tile, chosen=match: self.checkin.choose(chosen))
            box.add_widget(tile)
