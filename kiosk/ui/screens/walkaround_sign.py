"""Summary and signature: the condition report in the customer's language, the customer
signs under it (the signature binds the report's SHA-256), then print and finish.

After the customer signed, a change to the sheet makes a new version: the screen then
says so in red and the pad is empty again, for the new version's signature.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.ui import palette
from kiosk.ui.screens.walkaround_common import WalkaroundStepScreen
from shared.i18n import Text

STATE_DETAIL: dict[str, Text] = {
    "unsigned": Text(
        "Go through the report with the customer, then ask them to sign below.", "kiosk"
    ),
    "signed_unchanged": Text(
        "Signed by the customer. The sheet is unchanged since it was signed.", "kiosk"
    ),
    "changed_after_signing": Text(
        "Changed after signing: this is version {version}. The customer must sign the new version.",
        "kiosk",
    ),
}
REPORT_TITLE = Text("Condition report, version {version}", "kiosk")
# The report's lines get smaller, down to this, until all of them show at once: the
# customer signs what they can read, without scrolling (the SHA-256 that the signature
# binds is on the printed sheet and in the back office, not in front of the customer).
SUMMARY_FONT = palette.FONT_SMALL
SUMMARY_FONT_MIN = 13


class SummaryRow(BoxLayout):
    """One line of the condition report: what, and how it was found."""

    label = StringProperty("")
    value = StringProperty("")
    font = NumericProperty(SUMMARY_FONT)


class WalkaroundSignScreen(WalkaroundStepScreen):
    """The summary on the left; the signature, print and finish on the right."""

    page_min_dp = ((0, 760), (0, 1350))  # one column when narrow: taller

    report_title = StringProperty("")
    summary_font = NumericProperty(SUMMARY_FONT)
    state_detail = StringProperty("")
    # The pad shows the signature that covers the sheet as it is now.
    pad_signed = BooleanProperty(False)

    def on_kv_post(self, base_widget: Widget) -> None:
        app: Any = App.get_running_app()
        if app is not None:
            app.bind(lang=lambda *_: self.refresh())
        fit = Clock.create_trigger(lambda _dt: self._fit_summary(), 0)
        self.ids.summary.bind(minimum_height=fit)
        self.ids.summary_view.bind(height=fit)

    def _fit_summary(self) -> None:
        """One size smaller while the report is taller than its card (a frame each)."""
        too_tall = self.ids.summary.minimum_height > self.ids.summary_view.height
        if too_tall and self.summary_font > SUMMARY_FONT_MIN:
            self.summary_font -= 1
            for row in self.ids.summary.children:
                row.font = self.summary_font

    @property
    def summary_fits(self) -> bool:
        return self.ids.summary.minimum_height <= self.ids.summary_view.height

    # -- what the customer and the advisor do ------------------------------------------

    def sign(self) -> None:
        pad = self.ids.pad
        self.controller.sign(pad.strokes, self.ids.signer_name.text, self._signed)

    def _signed(self, issues: list[Any]) -> None:
        self.issues = issues
        if not issues:
            self.pad_signed = True
            self.refresh()

    def clear(self) -> None:
        self.ids.pad.clear()
        self.pad_signed = False
        self.issues = []

    def print_sheet(self) -> None:
        app: Any = App.get_running_app()
        self.controller.print_sheet(app.lang if app is not None else "en")

    def finish(self) -> None:
        self.controller.finish(self)

    def reset(self) -> None:
        super().reset()
        self.ids.pad.clear()
        self.ids.signer_name.text = ""
        self.pad_signed = False

    # -- showing -----------------------------------------------------------------------

    def on_pre_enter(self, *args: Any) -> None:
        header = self.controller.header
        if header is not None and not self.ids.signer_name.text:
            self.ids.signer_name.text = header.customer_name
        super().on_pre_enter(*args)

    def refresh(self) -> None:
        flow = self.controller
        if flow is None or flow.sheet is None:
            return
        sheet, lang = flow.sheet, _lang()
        version = sheet.walkaround.version
        self.report_title = replace(REPORT_TITLE, params={"version": version}).render(lang)
        state = sheet.signature_state.value
        self.state_detail = replace(STATE_DETAIL[state], params={"version": version}).render(lang)
        if state != "signed_unchanged" and self.pad_signed:
            self.ids.pad.clear()  # that signature was for an earlier version
            self.pad_signed = False
        rows = self.ids.summary
        rows.clear_widgets()
        self.summary_font = SUMMARY_FONT
        for line in sheet.summary():
            name, value = line.render(lang)
            rows.add_widget(SummaryRow(label=name, value=value, font=self.summary_font))


def _lang() -> str:
    app: Any = App.get_running_app()
    return str(app.lang) if app is not None else "en"
