"""Pairing screen: type the code from the service manager on a big keypad, then pair.

Touch first (an on-screen keypad of exactly the code's alphabet), a hardware keyboard
too. The request runs in the background; errors keep what was typed.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.core.window import Window, WindowBase
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.widget import Widget

from kiosk.services.device_store import DeviceSettings
from kiosk.services.pairing import (
    CODE_LENGTH,
    PAIRING_ALPHABET,
    PairingService,
    code_problem,
)
from kiosk.services.pairing_code import invalid_character_message, is_code_character
from kiosk.services.server_client import default_device_name
from kiosk.ui.background import BackgroundWork
from kiosk.ui.fitting import FittedScreen
from shared.i18n import Text

KEYPAD_COLUMNS = 8
KEY_BACKSPACE = 8
KEY_DELETE = 127
KEY_ENTERS = (13, 271)  # Return and keypad Enter
SEPARATORS = " -"

UNEXPECTED_FAILURE = Text(
    "Pairing did not work because of an unexpected error. Try again, or restart the app.",
    "kiosk",
)


class PairingScreen(FittedScreen):
    """Shown while this device has no token."""

    page_min_dp = ((0, 740), (0, 1100))  # dp: (wide, narrow); scrolls on a smaller window

    code = StringProperty("")
    busy = BooleanProperty(False)
    message = ObjectProperty(None, allownone=True)
    device_name = StringProperty("")
    server_url = StringProperty("")
    # Set by the app before the screen is used.
    pairing: PairingService | None = None
    work: BackgroundWork | None = None

    __events__ = ("on_paired",)

    def __init__(self, **kwargs: Any) -> None:
        self.keys: dict[str, Widget] = {}
        super().__init__(**kwargs)
        if not self.device_name:
            self.device_name = default_device_name()

    def on_kv_post(self, base_widget: Widget) -> None:
        keypad = self.ids.keypad
        keypad.cols = KEYPAD_COLUMNS
        for char in PAIRING_ALPHABET:
            key = Factory.KeyButton(text=char)
            key.bind(on_release=lambda _key, char=char: self.type_char(char))
            keypad.add_widget(key)
            self.keys[char] = key

    # -- editing -----------------------------------------------------------------------

    def type_char(self, char: str) -> None:
        if self.busy or len(self.code) >= CODE_LENGTH:
            return
        self.code += char.upper()
        self.message = None

    def delete_char(self) -> None:
        if not self.busy and self.code:
            self.code = self.code[:-1]
            self.message = None

    def clear_code(self) -> None:
        if not self.busy:
            self.code = ""
            self.message = None

    def char_at(self, index: int) -> str:
        return self.code[index : index + 1]

    # -- pairing -----------------------------------------------------------------------

    def submit(self) -> None:
        """Check the code's form here, then redeem it on the server in the background."""
        if self.busy:
            return
        problem = code_problem(self.code)
        if problem is not None:
            self.message = problem
            return
        if self.pairing is None or self.work is None:
            raise RuntimeError("PairingScreen needs .pairing and .work")
        self.busy = True
        self.message = None
        code, name, lang = self.code, self.device_name, self._lang()
        pairing = self.pairing
        self.work.run(
            lambda: pairing.pair(code, name, language=lang),
            self._paired,
            self._failed,
            name="pairing",
        )

    def _paired(self, settings: DeviceSettings) -> None:
        self.busy = False
        self.code = ""
        self.dispatch("on_paired", settings)

    def _failed(self, error: Exception) -> None:
        self.busy = False
        self.message = getattr(error, "message", None) or UNEXPECTED_FAILURE

    def on_paired(self, settings: DeviceSettings) -> None:
        """Event: the device is paired and its settings are saved."""

    def message_text(self, message: Any, lang: str) -> str:
        return message.render(lang) if message is not None else ""

    def _lang(self) -> str:
        return getattr(App.get_running_app(), "lang", "en")

    # -- hardware keyboard -------------------------------------------------------------

    def on_enter(self, *_args: Any) -> None:
        Window.bind(on_textinput=self._on_textinput, on_key_down=self._on_key_down)

    def on_leave(self, *_args: Any) -> None:
        self.release_keyboard()

    def release_keyboard(self) -> None:
        Window.unbind(on_textinput=self._on_textinput, on_key_down=self._on_key_down)

    def _name_field_has_focus(self) -> bool:
        return bool(self.ids.device_name.focus)

    def _on_textinput(self, _window: WindowBase, text: str) -> bool:
        if self._name_field_has_focus():
            return False
        for char in text:
            if is_code_character(char):
                self.type_char(char)
            elif char not in SEPARATORS and not self.busy:
                self.message = invalid_character_message(char)
        return True

    def _on_key_down(
        self, _window: WindowBase, key: int, _scancode: int, _codepoint: str, _mods: list[str]
    ) -> bool:
        if self._name_field_has_focus():
            return False
        if key in (KEY_BACKSPACE, KEY_DELETE):
            self.delete_char()
            return True
        if key in KEY_ENTERS:
            self.submit()
            return True
        return False
