"""Sign with a finger; too little ink asks again; Clear starts over."""

from __future__ import annotations

from kivy.properties import BooleanProperty

from kiosk.ui.screens.step import StepScreen


class SignatureScreen(StepScreen):
    """The signature pad and the button that saves the check-in."""

    saving = BooleanProperty(False)  # the check-in is being saved: the buttons wait

    def reset(self) -> None:
        super().reset()
        self.ids.pad.clear()

    def clear(self) -> None:
        self.ids.pad.clear()
        self.issues = []

    def finish(self) -> None:
        self.issues = self.checkin.finish(self.ids.pad.strokes)
