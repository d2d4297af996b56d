"""Widgets shared by the screens: flat buttons, language toggle, status line, toast.

Their looks are in ``widgets.kv``; this module holds only their state.
"""

from __future__ import annotations

from kivy.animation import Animation
from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.services.connection import ConnectionState
from kiosk.ui import palette
from kiosk.ui.text_wrap import TidyLabel
from shared.i18n import N_, translate

TOAST_SECONDS = 5.0

STATUS_TEXT: dict[str, str] = {
    ConnectionState.CHECKING: N_("Connecting to the shop server…"),
    ConnectionState.ONLINE: N_("Online: connected to the service desk"),
    ConnectionState.OFFLINE: N_("Offline: trying again every 30 seconds"),
    ConnectionState.NOT_PAIRED: N_("Not paired"),
}
STATUS_COLOUR: dict[str, palette.RGBA] = {
    ConnectionState.CHECKING: palette.CHECKING,
    ConnectionState.ONLINE: palette.ONLINE,
    ConnectionState.OFFLINE: palette.OFFLINE,
    ConnectionState.NOT_PAIRED: palette.OFFLINE,
}


class FlatButton(ButtonBehavior, TidyLabel):
    """A rounded, flat, high-contrast button; the ``.kv`` file draws it."""

    fill = ColorProperty(palette.SURFACE)
    pressed_fill = ColorProperty(palette.KEY_PRESSED)
    text_color = ColorProperty(palette.TEXT)
    border_color = ColorProperty(palette.BORDER)
    border_width = NumericProperty(1.5)


class ToggleTile(FlatButton):
    """A tile that stays selected until touched again (or another of its group is)."""

    selected = BooleanProperty(False)
    value = StringProperty("")


class ChoiceButton(ButtonBehavior, BoxLayout):
    """One of the large choices on the welcome screen: a title and a line of detail."""

    title = StringProperty("")
    detail = StringProperty("")
    choice = StringProperty("")
    title_size = NumericProperty(palette.FONT_CHOICE)  # sp


class LanguageToggle(BoxLayout):
    """English / 简体中文, each name in its own language; the current one is filled."""


class StatusLine(BoxLayout):
    """A coloured dot and a line saying whether the shop server answers."""

    @staticmethod
    def describe(state: str, lang: str) -> str:
        return translate(STATUS_TEXT.get(state, STATUS_TEXT["checking"]), lang, "kiosk")

    @staticmethod
    def colour(state: str) -> palette.RGBA:
        return STATUS_COLOUR.get(state, palette.CHECKING)


class BusySpinner(Widget):
    """A turning arc shown while a request runs."""

    active = BooleanProperty(False)
    angle = NumericProperty(0)
    _event: ClockEvent | None = None

    def on_active(self, _widget: Widget, active: bool) -> None:
        if active and self._event is None:
            self._event = Clock.schedule_interval(self._turn, 1 / 30)
        elif not active and self._event is not None:
            self._event.cancel()
            self._event = None

    def _turn(self, dt: float) -> None:
        self.angle = (self.angle + 360 * dt) % 360


class Toast(TidyLabel):
    """A short message at the bottom of the screen that fades away by itself."""

    message = ObjectProperty(None, allownone=True)
    max_width = NumericProperty(900)
    _hide_event: ClockEvent | None = None

    def fit(self, *_args: object) -> None:
        """As wide as the text needs, wrapped at ``max_width``."""
        self.text_size = (None, None)
        self.texture_update()
        if self.texture_size[0] > self.max_width:
            self.text_size = (self.max_width - self.padding[0] * 2, None)
            self.texture_update()

    def show(self, message: object, seconds: float = TOAST_SECONDS) -> None:
        """Show ``message`` (anything with ``render(lang)``) for ``seconds``."""
        self.message = message
        Animation.cancel_all(self, "opacity")
        Animation(opacity=1, duration=0.15).start(self)
        if self._hide_event is not None:
            self._hide_event.cancel()
        self._hide_event = Clock.schedule_once(self.hide, seconds)

    def hide(self, *_args: object) -> None:
        if self._hide_event is not None:
            self._hide_event.cancel()
            self._hide_event = None
        animation = Animation(opacity=0, duration=0.3)
        animation.bind(on_complete=lambda *_: setattr(self, "message", None))
        animation.start(self)

    def cancel(self) -> None:
        """Stop the timer and any fade (the app is closing): nothing fires later."""
        if self._hide_event is not None:
            self._hide_event.cancel()
            self._hide_event = None
        Animation.cancel_all(self)

    @staticmethod
    def render(message: object, lang: str) -> str:
        return message.render(lang) if message is not None else ""  # type: ignore[attr-defined]


def running_app() -> App:
    """The app, for widgets that need it outside kv expressions."""
    app = App.get_running_app()
    if app is None:
        raise RuntimeError("no running app")
    return app
