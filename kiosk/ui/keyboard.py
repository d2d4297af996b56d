"""The on-screen keyboard: every text field of the kiosk and tablet can be filled by touch.

A lobby kiosk has no keyboard. Touching a :class:`KioskTextInput` opens
:class:`OnScreenKeyboard` at the bottom of the window: large keys, digits, Latin letters,
and a Chinese mode in which letters are pinyin and a candidate bar offers words
(:class:`kiosk.services.pinyin_input.PinyinComposer`, Kivy-free). The field's text is
shown again at the top of the keyboard, so the customer sees what they type even when
the keyboard covers the field. Touches on the keyboard never take the focus away from
the field. "Done" (or touching anything else) closes it.

A hardware keyboard, where there is one, keeps working as before.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import FocusBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from kiosk.services.pinyin_input import Candidate, PinyinComposer, pinyin_dictionary

LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
DIGIT_ROW = "1234567890"
# Punctuation beside the last letter row, per mode (Chinese text takes full-width marks).
PUNCTUATION = {"latin": ",.-", "pinyin": "，。、"}
# Words shown at once on the candidate bar; "›" shows the next ones.
CANDIDATES_PER_PAGE = 8
LOADING_POLL_S = 0.2
PAN_MARGIN = 16  # px between the field and the top of the keys


def warm_up_chinese_input() -> None:
    """Start loading the pinyin dictionary in the background (it takes seconds)."""
    pinyin_dictionary().start_loading()


class KioskTextInput(TextInput):
    """A one-line text field that opens the on-screen keyboard when touched."""

    def on_focus(self, _field: Widget, focused: bool) -> None:
        keyboard = _keyboard()
        if keyboard is None:
            return
        if focused:
            keyboard.attach(self)
        else:
            keyboard.detach_soon(self)


class OnScreenKeyboard(BoxLayout):
    """Keys for the focused :class:`KioskTextInput`, shown at the bottom of the window."""

    target = ObjectProperty(None, allownone=True)
    shown = BooleanProperty(False)
    chinese = BooleanProperty(False)
    shifted = BooleanProperty(False)
    preview = StringProperty("")
    letters = StringProperty("")  # the pinyin being composed, split into syllables
    page = NumericProperty(0)
    pages = NumericProperty(0)
    loading = BooleanProperty(False)
    # Someone typed on a real keyboard on this screen: its fields no longer open the keys.
    hardware_keys = BooleanProperty(False)
    # The screens' container, moved up while the keys would cover the field (as a
    # phone "pans" the page), so the customer sees the field and what is around it.
    pan = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        self.key_buttons: dict[str, Widget] = {}
        self.candidate_buttons: list[Widget] = []
        self.composer = PinyinComposer(pinyin_dictionary())
        self._candidates: list[Candidate] = []
        self._detach_event: ClockEvent | None = None
        self._loading_event: ClockEvent | None = None
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget: Widget) -> None:
        rows = (self.ids.digits, self.ids.row1, self.ids.row2, self.ids.row3)
        self.shift_key = Factory.EditKey(on_release=lambda _key: self.shift())
        self.ids.row3.add_widget(self.shift_key)
        for row, chars in zip(rows, (DIGIT_ROW, *LETTER_ROWS), strict=True):
            for char in chars:
                key = Factory.KeyButton(text=char)
                key.bind(on_release=lambda _key, char=char: self.press(char))
                row.add_widget(key)
                self.key_buttons[char] = key
        self.delete_key = Factory.EditKey(on_release=lambda _key: self.backspace())
        self.ids.row2.add_widget(self.delete_key)
        for index in range(3):
            key = Factory.KeyButton()
            key.bind(on_release=lambda _key, index=index: self.punctuate(index))
            self.ids.row3.add_widget(key)
            self.key_buttons[f"punctuation{index}"] = key
        app: Any = App.get_running_app()
        if app is not None:
            app.bind(lang=lambda *_: self._label_keys())
        self._label_keys()

    # -- showing -----------------------------------------------------------------------

    def attach(self, field: TextInput) -> None:
        """``field`` got the focus: type into it."""
        if self.hardware_keys:
            return  # a real keyboard is in use on this screen
        if self._detach_event is not None:
            self._detach_event.cancel()
            self._detach_event = None
        if field is not self.target:
            self._commit_letters()
            if self.target is not None:
                self.target.unbind(text=self._show_preview)
            self.target = field
            field.bind(text=self._show_preview)
            app: Any = App.get_running_app()
            self.chinese = getattr(app, "lang", "en") == "zh_CN"
        self._show_preview()
        if not self.shown:
            Window.bind(on_touch_down=self._touch_elsewhere, on_textinput=self._typed_on_keys)
        self.shown = True
        if self.chinese:
            warm_up_chinese_input()
        self._refresh_candidates()
        self._pan_to_target()

    def on_height(self, *_args: Any) -> None:
        if self.shown:
            self._pan_to_target()

    def _pan_to_target(self, *_args: Any) -> None:
        """Move the screens up just enough for the field to sit above the keys."""
        pan, field = self.pan, self.target
        if pan is None or field is None:
            return
        bottom = field.to_window(field.x, field.y)[1] - pan.y
        pan.y = max(0.0, self.height + PAN_MARGIN - bottom)

    def _unpan(self) -> None:
        if self.pan is not None:
            self.pan.y = 0

    def detach_soon(self, field: TextInput) -> None:
        """``field`` lost the focus: close, unless another field takes it this frame."""
        if field is self.target:
            if self._detach_event is not None:
                self._detach_event.cancel()
            self._detach_event = Clock.schedule_once(lambda _dt: self.close(), 0)

    def close(self, keep_letters: bool = True) -> None:
        """Hide the keyboard; letters not yet turned into a word are typed as they are
        (``keep_letters``), or dropped when the screen changes under them."""
        self._detach_event = None
        if keep_letters:
            self._commit_letters()
        else:
            self.composer.clear()
            self.hardware_keys = False  # a new screen: show the keys again
        target = self.target
        self.target = None
        if target is not None:
            target.unbind(text=self._show_preview)
            target.focus = False
        self._hide()

    def _hide(self) -> None:
        if self.shown:
            Window.unbind(on_touch_down=self._touch_elsewhere, on_textinput=self._typed_on_keys)
        self._unpan()
        self.shown = False
        self.shifted = False
        self._refresh_candidates()

    def _typed_on_keys(self, *_args: Any) -> None:
        """Someone typed on a real keyboard: the on-screen one steps aside (the field
        keeps the focus and the typing), as a phone's does for a Bluetooth keyboard."""
        self.hardware_keys = True
        if self.shown:
            self._commit_letters()
            if self.target is not None:
                self.target.unbind(text=self._show_preview)
            self.target = None
            self._hide()

    def _touch_elsewhere(self, _window: Any, touch: Any) -> bool:
        # Runs before the widgets get the touch: "Continue" must see the pinyin typed
        # but not yet turned into a word, so it goes into the field as letters first.
        if self.shown and not self.collide_point(*touch.pos):
            self._commit_letters()
        return False

    def on_touch_down(self, touch: Any) -> bool:
        if not self.shown:
            return False
        if self.collide_point(*touch.pos):
            # Keys must not take the focus from the field being typed in.
            FocusBehavior.ignored_touch.append(touch)
            super().on_touch_down(touch)
            return True
        return False

    def on_touch_move(self, touch: Any) -> bool:
        return self.shown and super().on_touch_move(touch)

    def on_touch_up(self, touch: Any) -> bool:
        return self.shown and super().on_touch_up(touch)

    # -- keys --------------------------------------------------------------------------

    def press(self, char: str) -> None:
        if self.target is None:
            return
        if self.chinese and char.isalpha() and not self.shifted:
            self.composer.type(char)
            self._refresh_candidates()
            return
        self._commit_letters()
        self._insert(char.upper() if self.shifted else char)
        self.shifted = False

    def punctuate(self, index: int) -> None:
        marks = PUNCTUATION["pinyin" if self.chinese else "latin"]
        if self.target is not None:
            self._commit_first_candidate()
            self._commit_letters()
            self._insert(marks[index])

    def space(self) -> None:
        """Space: in Chinese while composing, the first word; else a space."""
        if self.target is None:
            return
        if self.chinese and self.composer.composing:
            self._commit_first_candidate()
            return
        self._insert(" ")

    def backspace(self) -> None:
        if self.target is None:
            return
        if self.composer.backspace():
            self._refresh_candidates()
        else:
            self.target.do_backspace()

    def shift(self) -> None:
        self.shifted = not self.shifted
        self._label_keys()

    def switch_language(self) -> None:
        """中文 ⇄ ABC: letters become pinyin, or plain letters again."""
        self._commit_letters()
        self.chinese = not self.chinese
        if self.chinese:
            warm_up_chinese_input()
        self._refresh_candidates()

    def on_chinese(self, *_args: Any) -> None:
        self._label_keys()

    def on_shifted(self, *_args: Any) -> None:
        self._label_keys()

    # -- candidates --------------------------------------------------------------------

    def choose(self, index: int) -> None:
        """The customer touched the ``index``-th word shown on the candidate bar."""
        position = self.page * CANDIDATES_PER_PAGE + index
        if self.target is None or position >= len(self._candidates):
            return
        self._insert(self.composer.choose(self._candidates[position]))
        self._refresh_candidates()

    def next_page(self) -> None:
        if self.page + 1 < self.pages:
            self.page += 1
            self._show_candidates()

    def previous_page(self) -> None:
        if self.page > 0:
            self.page -= 1
            self._show_candidates()

    @property
    def candidates_shown(self) -> list[str]:
        return [button.text for button in self.candidate_buttons if button.text]

    def _refresh_candidates(self) -> None:
        composer = self.composer
        self.letters = composer.spelled() if composer.composing else ""
        self._candidates = composer.candidates() if self.chinese else []
        self.loading = self.chinese and composer.composing and not composer.ready
        if self.loading and self._loading_event is None:
            self._loading_event = Clock.schedule_interval(self._wait_for_dictionary, LOADING_POLL_S)
        self.page = 0
        self.pages = -(-len(self._candidates) // CANDIDATES_PER_PAGE)
        self._show_candidates()

    def _wait_for_dictionary(self, _dt: float) -> bool:
        if self.composer.ready or not self.shown:
            self._loading_event = None
            self._refresh_candidates()
            return False
        return True

    def _show_candidates(self) -> None:
        start = self.page * CANDIDATES_PER_PAGE
        shown = self._candidates[start : start + CANDIDATES_PER_PAGE]
        for index, button in enumerate(self._candidate_slots()):
            button.text = shown[index].word if index < len(shown) else ""
            button.disabled = index >= len(shown)
            button.opacity = 1 if index < len(shown) else 0

    def _candidate_slots(self) -> list[Widget]:
        if not self.candidate_buttons:
            bar = self.ids.candidates
            for index in range(CANDIDATES_PER_PAGE):
                button = Factory.CandidateButton()
                button.bind(on_release=lambda _b, index=index: self.choose(index))
                bar.add_widget(button)
                self.candidate_buttons.append(button)
        return self.candidate_buttons

    # -- typing into the field ---------------------------------------------------------

    def _insert(self, text: str) -> None:
        field = self.target
        if field is None or not text:
            return
        field.insert_text(text)

    def _commit_first_candidate(self) -> None:
        if self.chinese and self._candidates:
            self._insert(self.composer.choose(self._candidates[0]))
            self._refresh_candidates()

    def _commit_letters(self) -> None:
        letters = self.composer.clear()
        if letters:
            self._insert(letters)
            self._refresh_candidates()

    def _show_preview(self, *_args: Any) -> None:
        field = self.target
        self.preview = field.text if field is not None else ""

    def _label_keys(self) -> None:
        for char, key in self.key_buttons.items():
            if len(char) == 1:
                key.text = char.upper() if self.shifted and char.isalpha() else char
        app: Any = App.get_running_app()
        if app is not None and hasattr(self, "delete_key"):
            self.delete_key.text = app.tr("Delete", app.lang)
            self.shift_key.text = app.tr("Capital", app.lang)
        marks = PUNCTUATION["pinyin" if self.chinese else "latin"]
        for index in range(3):
            key = self.key_buttons.get(f"punctuation{index}")
            if key is not None:
                key.text = marks[index]


def _keyboard() -> OnScreenKeyboard | None:
    app: Any = App.get_running_app()
    return getattr(app, "keyboard", None)
