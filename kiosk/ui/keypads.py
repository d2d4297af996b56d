"""Reusable touch inputs: a keypad that edits a text, and a number-plate picker.

Both keep what is typed in a ``text`` property that screens bind to; nothing here knows
about check-ins, so the advisor tablet uses them too. Keys are at least
``palette.KEY_HEIGHT`` high; their looks are in ``keypads.kv``.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import (
    AliasProperty,
    BooleanProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from shared.validation import PROVINCE_ABBREVIATIONS

DIGITS = "1234567890"
# Letters on Chinese plates: A to Z without I and O (they would be read as 1 and 0).
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
ALL_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# A VIN never has I, O or Q.
VIN_CHARACTERS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"


class Keypad(BoxLayout):
    """Keys for ``keys`` (one character each) plus Delete and Clear, editing ``text``.

    A number pad (``keys`` = the ten digits) is laid out like a phone's, with Delete and
    Clear either side of the 0; letter pads have them in a row below.

    ``prefix`` is a start every answer has (the "1" of a Chinese mobile number): it is
    shown already typed, Delete and Clear keep it, and a customer who types it anyway
    loses nothing (the key is taken as the prefix itself).
    """

    text = StringProperty("")
    prefix = StringProperty("")
    keys = StringProperty(DIGITS)
    columns = NumericProperty(3)
    max_length = NumericProperty(20)
    enabled = BooleanProperty(True)

    def _is_numeric(self) -> bool:
        return self.keys == DIGITS

    numeric = AliasProperty(_is_numeric, bind=["keys"])

    def __init__(self, **kwargs: Any) -> None:
        self.key_buttons: dict[str, Widget] = {}
        self.delete_key: Widget | None = None
        self.clear_key: Widget | None = None
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget: Widget) -> None:
        self._built = True
        self._build_keys()

    def on_keys(self, *_args: Any) -> None:
        if getattr(self, "_built", False):
            self._build_keys()

    def _build_keys(self) -> None:
        grid = self.ids.grid
        grid.clear_widgets()
        grid.cols = 3 if self.numeric else int(self.columns)
        self.key_buttons = {}
        for char in self.keys:
            key = Factory.KeyButton(text=char)
            key.bind(on_release=lambda _key, char=char: self.press(char))
            self.key_buttons[char] = key
        if not self.numeric:
            for char in self.keys:
                grid.add_widget(self.key_buttons[char])
            self.delete_key, self.clear_key = self.ids.delete_key, self.ids.clear_key
            return
        self.delete_key = Factory.InlineEditKey(on_release=lambda _key: self.delete())
        self.clear_key = Factory.InlineEditKey(on_release=lambda _key: self.clear())
        for char in "123456789":
            grid.add_widget(self.key_buttons[char])
        for key in (self.clear_key, self.key_buttons["0"], self.delete_key):
            grid.add_widget(key)
        app: Any = App.get_running_app()
        if app is not None:
            app.bind(lang=self._label_edit_keys)
            self._label_edit_keys(app, app.lang)

    def _label_edit_keys(self, app: Any, lang: str) -> None:
        if self.numeric and self.delete_key is not None and self.clear_key is not None:
            self.delete_key.text = app.tr("Delete", lang)
            self.clear_key.text = app.tr("Clear", lang)

    def on_prefix(self, *_args: Any) -> None:
        self.on_text()

    def on_text(self, *_args: Any) -> None:
        if not self.text.startswith(self.prefix):
            self.text = self.prefix + self.text

    @property
    def typed(self) -> bool:
        """Whether anything beyond the prefix was typed."""
        return len(self.text) > len(self.prefix)

    def press(self, char: str) -> None:
        if not self.enabled or len(self.text) >= self.max_length:
            return
        if self.prefix and self.text == self.prefix and char == self.prefix:
            return  # the whole number typed, prefix included: the prefix is there
        self.text += char

    def delete(self) -> None:
        if self.enabled and self.typed:
            self.text = self.text[:-1]

    def clear(self) -> None:
        if self.enabled:
            self.text = self.prefix


class PlatePicker(BoxLayout):
    """A number plate by touch: for Chinese plates, a province tile then letters and
    digits; for other plate formats (``region`` "generic"), letters and digits only."""

    text = StringProperty("")
    region = OptionProperty("CN", options=("CN", "generic"))
    choosing_province = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        self.province_tiles: dict[str, Widget] = {}
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget: Widget) -> None:
        grid = self.ids.provinces
        for province in PROVINCE_ABBREVIATIONS:
            tile = Factory.KeyButton(text=province)
            tile.bind(on_release=lambda _tile, p=province: self.choose_province(p))
            grid.add_widget(tile)
            self.province_tiles[province] = tile
        self.ids.pad.bind(text=self._pad_changed)
        self.on_region()

    @property
    def pad(self) -> Keypad:
        return self.ids.pad

    @property
    def province(self) -> str:
        return self.text[:1] if self.region == "CN" and self.text else ""

    def on_region(self, *_args: Any) -> None:
        if "pad" not in self.ids:
            return
        pad = self.ids.pad
        pad.keys = DIGITS + (PLATE_LETTERS if self.region == "CN" else ALL_LETTERS)
        pad.max_length = 7 if self.region == "CN" else 10
        self.set_text(self.text)

    def choose_province(self, province: str) -> None:
        self.text = province + self.ids.pad.text
        self.choosing_province = False

    def set_text(self, plate: str) -> None:
        """Show ``plate`` (e.g. kept after a wrong entry, or cleared with "")."""
        pad = self.ids.pad
        if self.region == "CN" and plate[:1] in PROVINCE_ABBREVIATIONS:
            pad.text, self.text = plate[1:], plate
            self.choosing_province = False
        else:
            pad.text, self.text = plate, plate
            self.choosing_province = self.region == "CN"

    def change_province(self) -> None:
        self.choosing_province = True

    def _pad_changed(self, _pad: Keypad, typed: str) -> None:
        self.text = (self.province + typed) if self.region == "CN" else typed
