"""Scan the appointment QR code (or choose to type its short code)."""

from __future__ import annotations

from typing import Any

from kiosk.ui.screens.step import StepScreen


class ScanScreen(StepScreen):
    """Looks for a QR code while shown; the code found is looked up at once."""

    def on_enter(self, *_args: Any) -> None:
        self.checkin.start_scanning()

    def on_leave(self, *_args: Any) -> None:
        self.checkin.stop_scanning()
