"""Type the short code of the appointment on a keypad of the code's alphabet."""

from __future__ import annotations

from kiosk.services.checkin_flow import LookupKind
from kiosk.ui.screens.step import StepScreen

CODE_LENGTH = 6


class CodeScreen(StepScreen):
    """The appointment code, typed."""

    def reset(self) -> None:
        super().reset()
        self.ids.pad.text = ""

    def find(self) -> None:
        self.issues = self.checkin.look_up(LookupKind.code, self.ids.pad.text)
