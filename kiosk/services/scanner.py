"""The QR code scanner behind a plyer-style facade, with a dummy backend.

``scanner()`` returns the best backend for this machine. The public methods
(:meth:`QrScanner.start`, :meth:`QrScanner.stop`) call private ``_start``/``_stop`` that
each backend implements. No camera backend ships yet (kiosk cameras differ); the
:class:`DummyScanner` is used everywhere, and tests and the screenshot script hand it a
code with :meth:`DummyScanner.deliver`, as a camera would. Typing the appointment code
always works instead.

Callbacks are called on whatever thread the backend uses; the UI hands them over to its
own thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

CodeCallback = Callable[[str], None]


class QrScanner:
    """Facade: ``start(on_code)`` begins looking for QR codes, ``stop()`` ends it."""

    #: Whether this backend has a real camera (the UI then shows a live preview).
    has_camera = False

    def __init__(self) -> None:
        self._on_code: CodeCallback | None = None

    @property
    def scanning(self) -> bool:
        return self._on_code is not None

    def start(self, on_code: CodeCallback) -> None:
        self._on_code = on_code
        self._start()

    def stop(self) -> None:
        self._on_code = None
        self._stop()

    def _found(self, payload: str) -> None:
        """A backend read a QR code: hand its text to whoever is scanning (once)."""
        callback = self._on_code
        if callback is None:
            return
        callback(appointment_code_from_payload(payload))

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError


class DummyScanner(QrScanner):
    """No camera: nothing is scanned unless :meth:`deliver` is called (tests, demos)."""

    def _start(self) -> None:
        log.debug("QR scanning requested; no camera on this machine")

    def _stop(self) -> None:
        pass

    def deliver(self, payload: str) -> bool:
        """Pretend the camera saw a QR code with ``payload``; False when nobody scans."""
        if not self.scanning:
            return False
        self._found(payload)
        return True


def appointment_code_from_payload(payload: str) -> str:
    """The short code in an appointment QR: the text itself, or what follows ``#`` or
    the last ``/`` of a link (``https://shop.example/a/Q7M4KX``)."""
    text = payload.strip()
    for separator in ("#", "/", ":"):
        if separator in text:
            text = text.rsplit(separator, 1)[1]
    return text.replace("-", "").replace(" ", "").upper()


def scanner() -> QrScanner:
    """The scanner backend for this machine (the dummy one until cameras are supported)."""
    return DummyScanner()
