"""The privacy promise, versioned, in the language on screen; "I agree" records it."""

from __future__ import annotations

from kiosk.ui.screens.step import StepScreen
from shared.consent import CONSENT_VERSION, consent_text


class ConsentScreen(StepScreen):
    """Shows ``shared.consent`` text of the current version."""

    version = CONSENT_VERSION

    @staticmethod
    def text_for(lang: str) -> str:
        return consent_text(lang)

    def agree(self) -> None:
        self.checkin.accept_consent()
