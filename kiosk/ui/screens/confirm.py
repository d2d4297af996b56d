"""The last step, on one screen: what the check-in says, the privacy promise, the
signature and "I agree — check in".

The customer reads what the kiosk has (masked: the kiosk knows no name or plate of an
appointment), may change what needs doing, the odometer reading and how to be contacted
(each a detour that comes back here), reads the promise of the current version in the
language on screen, and signs. The touch on "I agree — check in" records the consent
for the text shown (version and hash, as before) and saves the check-in.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.ui.screens.step import StepScreen
from shared.consent import CONSENT_VERSION, consent_text
from shared.domain import ConcernCode, ContactChannel, concern_label, label
from shared.i18n import Text


class ConfirmScreen(StepScreen):
    """Summary with "Change" buttons, the promise, the signature pad, the last touch."""

    version = CONSENT_VERSION
    owner = StringProperty("")
    plate = StringProperty("")
    car = StringProperty("")
    work = StringProperty("")  # the concern words (for a booking: the work booked)
    codes = StringProperty("")  # chosen concern codes, comma-separated
    mileage = StringProperty("")  # "48,500", or "" (the advisor reads it)
    channel = StringProperty("sms")
    reminders = NumericProperty(0)
    saving = BooleanProperty(False)  # the check-in is being saved: the buttons wait

    @staticmethod
    def text_for(lang: str) -> str:
        return consent_text(lang)

    def prepare(self) -> None:
        flow = self.checkin.flow
        self.owner, self.plate, self.car, _booked = self.checkin.vehicle_summary()
        self.work = flow.concern_text
        self.codes = ",".join(flow.concern_codes)
        self.mileage = f"{flow.mileage_km:,}" if flow.mileage_km is not None else ""
        self.channel = flow.contact_channel.value
        self.reminders = int(flow.reminders_opt_in)

    def concerns_text(self, lang: str, codes: str | None = None, work: str | None = None) -> str:
        """The concern tiles chosen and the customer's words, or that nothing is said
        (``codes`` and ``work`` default to the screen's; the .kv passes them to follow
        changes)."""
        codes = self.codes if codes is None else codes
        work = self.work if work is None else work
        tiles = [concern_label(code).render(lang) for code in codes.split(",") if code]
        words = [*tiles, work] if work else tiles
        if not words:
            return Text("Nothing chosen: your advisor will ask you", "kiosk").render(lang)
        separator = "；" if lang == "zh_CN" else "; "
        return separator.join(words)

    def contact_text(
        self, lang: str, channel_value: str | None = None, reminders_on: int | None = None
    ) -> str:
        """The channel and whether reminders were asked for, in ``lang``."""
        channel_value = self.channel if channel_value is None else channel_value
        reminders_on = self.reminders if reminders_on is None else reminders_on
        channel = label(ContactChannel(channel_value)).render(lang)
        reminders = (
            Text("maintenance reminders", "kiosk")
            if reminders_on
            else Text("no reminders", "kiosk")
        ).render(lang)
        return f"{channel}{'，' if lang == 'zh_CN' else ', '}{reminders}"

    def reset(self) -> None:
        super().reset()
        self.ids.pad.clear()
        self.owner = self.plate = self.car = self.work = self.codes = self.mileage = ""

    def clear(self) -> None:
        self.ids.pad.clear()
        self.issues = []

    def finish(self) -> None:
        """Agree to the promise shown and check in, if there is a signature."""
        self.checkin.accept_consent()
        self.issues = self.checkin.finish(self.ids.pad.strokes)


__all__ = ["ConcernCode", "ConfirmScreen"]
