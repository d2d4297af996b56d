"""The on-screen keyboard: a customer fills every text field by touch, in Latin letters
and in Chinese (pinyin with a candidate bar), with no hardware keyboard.

The pinyin engine is the real one (loaded once per test process, a few seconds).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from kiosk_flow_steps import kiosk_data_fixture  # noqa: F401

from kiosk.services.device_store import DeviceStore
from kiosk.services.pinyin_input import PinyinComposer, pinyin_dictionary
from kiosk.services.scanner import DummyScanner
from kiosk.ui.headless import HeadlessApp

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def chinese_input() -> None:
    assert pinyin_dictionary().load(timeout=120), "the pinyin engine did not load"


@pytest.fixture
def kiosk(
    kiosk_app: Callable[..., HeadlessApp], kiosk_data: DeviceStore, chinese_input: None
) -> HeadlessApp:
    return kiosk_app(kiosk_data, qr_scanner=DummyScanner(), start_sync=False)


def type_pinyin(harness: HeadlessApp, letters: str) -> None:
    keyboard = harness.app.keyboard
    for letter in letters:
        harness.tap(keyboard.key_buttons[letter])


def pick(harness: HeadlessApp, word: str, max_pages: int = 4) -> None:
    """Touch ``word`` on the candidate bar, paging on with "›" until it shows."""
    keyboard = harness.app.keyboard
    for _ in range(max_pages):
        shown = keyboard.candidates_shown
        if word in shown:
            harness.tap(keyboard.candidate_buttons[shown.index(word)])
            return
        harness.tap(keyboard.ids.next_page)
    raise AssertionError(f"{word} not offered: {keyboard.candidates_shown}")


def test_composer_offers_whole_words_first() -> None:
    composer = PinyinComposer(pinyin_dictionary())
    pinyin_dictionary().load(timeout=120)
    for letter in "zhangwei":
        composer.type(letter)
    assert composer.spelled() == "zhang wei"
    assert composer.candidates()[0].word == "张伟"
    composer.clear()
    for letter in "shacheyixiang":
        composer.type(letter)
    first = composer.candidates()[0]
    assert first.word == "刹车"
    assert composer.choose(first) == "刹车" and composer.letters == "yixiang"
    assert "异响" in [c.word for c in composer.candidates()]
    assert all(c.word.isascii() is False for c in composer.candidates())  # no emoji, no letters


def test_walk_in_name_typed_in_chinese_by_touch(kiosk: HeadlessApp) -> None:
    harness = kiosk
    welcome = harness.app.welcome_screen
    harness.tap(welcome.ids.language.ids.zh_CN)
    harness.tap(welcome.ids.new_visit)
    contact = harness.app.checkin.screen("walkin_contact")
    for digit in "3800001111":
        harness.tap(contact.ids.phone_pad.key_buttons[digit])
    harness.pump(2)
    plate = harness.app.checkin.screen("walkin_plate")
    harness.tap(plate.ids.plate.province_tiles["京"])
    for char in "A12345":
        harness.tap(plate.ids.plate.pad.key_buttons[char])
    harness.tap(plate.ids.next)
    car = harness.app.checkin.screen("walkin_car")  # the name is asked with the car
    keyboard = harness.app.keyboard
    assert not keyboard.shown
    harness.tap(car.ids.name)
    assert keyboard.shown and keyboard.chinese  # Chinese screen: pinyin first
    type_pinyin(harness, "zhangwei")
    assert keyboard.letters == "zhang wei"
    assert keyboard.candidates_shown[0] == "张伟"
    pick(harness, "张伟")
    assert car.ids.name.text == "张伟"
    assert car.ids.name.focus  # keys never take the focus from the field
    assert keyboard.preview == "张伟"
    harness.tap(keyboard.ids.done)
    assert not keyboard.shown
    harness.tap(car.ids.next)
    assert harness.screen == "concern"
    assert harness.app.flow.name == "张伟"


def test_concern_words_in_chinese_and_latin_letters(kiosk: HeadlessApp) -> None:
    harness = kiosk
    harness.tap(harness.app.welcome_screen.ids.language.ids.zh_CN)
    harness.app.checkin.begin("phone_or_plate")
    harness.app.checkin.go("concern")
    concern = harness.app.checkin.screen("concern")
    keyboard = harness.app.keyboard
    harness.tap(concern.ids.words)
    assert keyboard.shown
    field = concern.ids.words  # the screen moved up: the field shows above the keys
    assert field.to_window(field.x, field.y)[1] >= keyboard.top
    type_pinyin(harness, "shacheyixiang")  # a whole phrase, chosen word by word
    pick(harness, "刹车")
    assert keyboard.letters == "yi xiang"
    pick(harness, "异响")
    assert concern.ids.words.text == "刹车异响" and keyboard.letters == ""
    harness.tap(keyboard.key_buttons["punctuation1"])  # 。
    harness.tap(keyboard.ids.language)  # ABC: plain letters and digits
    assert not keyboard.chinese
    harness.tap(keyboard.shift_key)
    for char in "Abs":
        harness.tap(keyboard.key_buttons[char.lower()])
    harness.tap(keyboard.ids.space)
    harness.tap(keyboard.key_buttons["2"])
    harness.tap(keyboard.delete_key)
    harness.tap(keyboard.key_buttons["3"])
    assert concern.ids.words.text == "刹车异响。Abs 3"
    harness.tap(keyboard.ids.done)  # the keys cover "Continue": Done first
    assert not keyboard.shown
    harness.tap(concern.ids.next)
    assert harness.app.flow.concern_text == "刹车异响。Abs 3"


def test_english_keyboard_types_letters_and_done_keeps_unchosen_pinyin(
    kiosk: HeadlessApp,
) -> None:
    harness = kiosk
    harness.app.checkin.begin("new_visit")
    harness.app.checkin.go("walkin_car")
    car = harness.app.checkin.screen("walkin_car")
    keyboard = harness.app.keyboard
    harness.tap(car.ids.name)
    assert keyboard.shown and not keyboard.chinese  # English screen: letters first
    harness.tap(keyboard.shift_key)
    for char in "tom":
        harness.tap(keyboard.key_buttons[char])
    assert car.ids.name.text == "Tom"
    harness.tap(keyboard.ids.language)
    type_pinyin(harness, "li")
    harness.tap(keyboard.ids.done)  # letters nobody turned into a word are kept
    assert car.ids.name.text == "Tomli" and not keyboard.shown


def test_keyboard_closes_and_forgets_when_the_check_in_is_wiped(kiosk: HeadlessApp) -> None:
    harness = kiosk
    harness.app.checkin.begin("new_visit")
    harness.app.checkin.go("walkin_car")
    car = harness.app.checkin.screen("walkin_car")
    keyboard = harness.app.keyboard
    harness.tap(car.ids.name)
    harness.tap(keyboard.ids.language)
    type_pinyin(harness, "wang")
    harness.app.checkin.start_over()
    harness.pump(2)
    assert not keyboard.shown and keyboard.letters == "" and keyboard.target is None
    assert car.ids.name.text == ""


def test_a_make_not_on_the_tiles_is_typed_in_chinese(kiosk: HeadlessApp) -> None:
    harness = kiosk
    harness.tap(harness.app.welcome_screen.ids.language.ids.zh_CN)
    harness.app.checkin.begin("new_visit")
    harness.app.checkin.go("walkin_car")
    car = harness.app.checkin.screen("walkin_car")
    keyboard = harness.app.keyboard
    assert [car.make_tiles[m].text for m in ("Toyota", "Buick", "Volkswagen")] == [
        "丰田",
        "别克",
        "大众",
    ]
    assert car.make_tiles["other"].text == "其他"
    assert car.ids.model.opacity == 0  # no make yet: no model to type
    harness.tap(car.make_tiles["other"])
    assert car.ids.model.hint_text == "请输入车型，例如：凯美瑞"
    harness.tap(car.ids.other_make)
    type_pinyin(harness, "changcheng")
    pick(harness, "长城")
    harness.tap(keyboard.ids.done)
    harness.tap(car.ids.model)
    harness.tap(keyboard.ids.language)  # ABC for a Latin model name
    harness.tap(keyboard.shift_key)
    for char in "haval":
        harness.tap(keyboard.key_buttons[char])
    harness.tap(keyboard.ids.done)
    harness.tap(car.ids.next)
    assert harness.screen == "concern"
    assert (harness.app.flow.make, harness.app.flow.model) == ("长城", "Haval")
