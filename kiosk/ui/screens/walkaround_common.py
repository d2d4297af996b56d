"""What every walk-around screen shares: the visit header with its tabs, and the dialog
that asks before a signed sheet is changed.

Each step of the walk-around is a screen of the app's ``ScreenManager``
(``walkaround_<step>``), built when first shown. A screen holds no walk-around logic: it
hands what the advisor did to the controller (``kiosk.ui.walkaround_flow``), which asks
``kiosk.services.walkaround.WalkaroundSheet`` and saves, then calls :meth:`refresh`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.core.text import Label as CoreLabel
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from kiosk.ui.fitting import FittedScreen
from kiosk.ui.text_wrap import TidyLabel
from kiosk.ui.widgets import ToggleTile
from shared.i18n import Text

if TYPE_CHECKING:
    from kiosk.ui.walkaround_flow import WalkaroundController

STATE_TEXT: dict[str, Text] = {
    "unsigned": Text("Not signed yet", "kiosk"),
    "signed_unchanged": Text("Signed by the customer", "kiosk"),
    "changed_after_signing": Text("Changed after signing: sign the new version", "kiosk"),
}


class WalkaroundStepScreen(FittedScreen):
    """One step of the walk-around; ``issues`` are the messages it shows. Its page
    scrolls on a window lower than 760 dp (wide; more with the saved note on a row of
    its own, or a message shown) or 1100 dp (narrow, one column)."""

    page_min_dp = ((0, 760), (0, 1100))

    step = StringProperty("")
    flow = ObjectProperty(None, allownone=True, rebind=True)
    issues = ListProperty()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ids.header.fbind("height", self._fit_page)

    def extra_height(self) -> float:
        header = self.ids.get("header")
        app: Any = App.get_running_app()
        if header is None or app is None or getattr(app, "narrow", False):
            return 0.0
        return max(0.0, header.height - dp(136))  # the saved note on a row of its own

    @property
    def controller(self) -> WalkaroundController:
        return self.flow  # type: ignore[no-any-return]

    def on_pre_enter(self, *_args: Any) -> None:
        self.issues = []
        self.refresh()

    def on_pre_leave(self, *_args: Any) -> None:
        self.commit()

    def refresh(self) -> None:
        """Show the sheet as it is now (called after every change)."""

    def commit(self) -> None:
        """Hand over what is typed but not taken yet (notes, tread), before leaving."""

    def reset(self) -> None:
        """Another visit is opened: forget what this screen showed."""
        self.issues = []


class WalkaroundHeader(BoxLayout):
    """The visit (ticket, plate, customer, concern), the signature state, and the tabs.

    Wide, two rows: the visit, its state and "back"; the tabs, the saved note and the
    language (the saved note on a third row where the window is not ``app.roomy``).
    Narrow (``app.narrow``), four: the visit and "back"; the state and the language;
    the tabs sharing the width; the saved note."""

    flow = ObjectProperty(None, allownone=True, rebind=True)

    def on_kv_post(self, base_widget: Any) -> None:
        self._chip_row = BoxLayout(size_hint_y=None, height=dp(56), spacing=dp(12))
        self._saved_row = BoxLayout(size_hint_y=None, height=dp(26))
        app = App.get_running_app()
        if app is not None and hasattr(app, "narrow"):
            app.fbind("narrow", self._arrange)
            app.fbind("roomy", self._arrange)
            self._arrange()

    def _arrange(self, *_args: Any) -> None:
        app: Any = App.get_running_app()
        narrow, roomy = app.narrow, app.roomy
        ids = self.ids
        for widget in (ids.state_chip, ids.saved, ids.language):
            if widget.parent is not None:
                widget.parent.remove_widget(widget)
        for row in (self._chip_row, self._saved_row):
            if row.parent is not None:
                self.remove_widget(row)
        if narrow:
            self._chip_row.add_widget(ids.state_chip)
            self._chip_row.add_widget(ids.language)
            self._saved_row.add_widget(ids.saved)
            self.add_widget(self._chip_row, index=1)  # under the visit, above the tabs
            self.add_widget(self._saved_row)
        else:
            ids.top_row.add_widget(ids.state_chip, index=1)  # before "back to the queue"
            if roomy:
                ids.tab_row.add_widget(ids.saved)
            else:
                self._saved_row.add_widget(ids.saved)
                self.add_widget(self._saved_row)
            ids.tab_row.add_widget(ids.language)
        rows = self.children
        self.height = sum(row.height for row in rows) + self.spacing * (len(rows) - 1)


class OneLineWidth:
    """For a label sized to its text: ``one_line_width`` is the width of its text on one
    line, measured apart (its own texture wraps at its width, so it cannot tell)."""

    one_line_width = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(text=self._measure, font_size=self._measure, font_name=self._measure)  # type: ignore[attr-defined]
        self._measure()

    def _measure(self, *_args: Any) -> None:
        label: Any = self
        measure = CoreLabel(font_size=label.font_size, font_name=label.font_name)
        width, _height = measure.get_extents(label.text)
        # Emphasised text is drawn with an outline on each side.
        self.one_line_width = width + 2 * max(label.outline_width or 0, dp(1))


class StepTab(OneLineWidth, ToggleTile):
    """A tab of the walk-around; selected while its step is shown. It is as wide as its
    label on one line, so no language makes it wrap."""

    step = StringProperty("")
    flow = ObjectProperty(None, allownone=True, rebind=True)


class StateChip(OneLineWidth, TidyLabel):
    """Whether the customer's signature covers the sheet as it is now, in colour."""

    state_name = StringProperty("unsigned")


class SignedSheetDialog(ModalView):
    """Asks before the first change to a signed sheet: it becomes a new version."""

    version = ObjectProperty(1)
    shown = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        self._change: Callable[[], None] | None = None
        self._cancel: Callable[[], None] | None = None
        super().__init__(**kwargs)

    def ask(self, version: int, change: Callable[[], None], cancel: Callable[[], None]) -> None:
        self.version = version
        self._change, self._cancel = change, cancel
        self.shown = True
        self.open(animation=False)

    def choose(self, change: bool) -> None:
        action = self._change if change else self._cancel
        self._change = self._cancel = None
        self.shown = False
        self.dismiss(animation=False)
        if action is not None:
            action()


def state_colour(state: str) -> tuple[float, float, float, float]:
    from kiosk.ui import palette

    return {
        "signed_unchanged": palette.ONLINE,
        "changed_after_signing": palette.ERROR,
    }.get(state, palette.OFFLINE)
