"""The ticket: number, QR code of the status page, expected wait; back to welcome soon."""

from __future__ import annotations

import io
from typing import Any

import qrcode
from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.core.image import Image as CoreImage
from kivy.properties import NumericProperty, ObjectProperty, StringProperty

from kiosk.services.checkin_flow import CheckinReceipt
from kiosk.ui.screens.step import StepScreen


def qr_texture(payload: str) -> Any:
    """A Kivy texture of a QR code for ``payload`` (black on white, crisp when scaled)."""
    image = qrcode.make(payload, border=2, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    texture = CoreImage(buffer, ext="png").texture
    texture.mag_filter = "nearest"
    return texture


class DoneScreen(StepScreen):
    """Shown only after the check-in's records are committed in the local store."""

    ticket = StringProperty("")
    status_url = StringProperty("")
    wait_minutes = NumericProperty(0)
    seconds_left = NumericProperty(0)
    qr = ObjectProperty(None, allownone=True)
    _tick: ClockEvent | None = None

    def show(self, receipt: CheckinReceipt, seconds: float) -> None:
        self.ticket = receipt.ticket_number
        self.status_url = receipt.status_url
        self.wait_minutes = receipt.expected_wait_minutes
        self.qr = qr_texture(receipt.status_url)
        self.seconds_left = int(seconds)

    def on_enter(self, *_args: Any) -> None:
        self._tick = Clock.schedule_interval(self._count_down, 1)

    def on_leave(self, *_args: Any) -> None:
        self.stop_countdown()

    def stop_countdown(self) -> None:
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def _count_down(self, _dt: float) -> None:
        if App.get_running_app() is None:  # the app stopped while the ticket showed
            self.stop_countdown()
            return
        self.seconds_left -= 1
        if self.seconds_left <= 0:
            self.checkin.start_over()

    def reset(self) -> None:
        super().reset()
        self.stop_countdown()
        self.ticket = self.status_url = ""
        self.qr = None
