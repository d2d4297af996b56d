"""Screenshots of typing by touch on the kiosk: the on-screen keyboard with pinyin and
its candidate bar, and the walk-in car screen's make and model tiles.

Part of ``scripts/render_screenshots.py`` (``--only typing``): docs/screenshots/
``kiosk-keyboard-*-<lang>.png`` and ``kiosk-walkin-car-*-<lang>.png``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from screenshot_shop import REPO, SIZE, DemoShopServer, lobby_kiosk


def render_typing(lang: str, out_dir: Path) -> list[Path]:
    sys.path.insert(0, str(REPO / "tests"))

    from kiosk.services.pinyin_input import pinyin_dictionary
    from kiosk.services.scanner import DummyScanner
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    pinyin_dictionary().load()
    written: list[Path] = []
    zh = lang == "zh_CN"
    with tempfile.TemporaryDirectory() as data_dir:
        store = lobby_kiosk(data_dir, lang)
        app = CheckinApp(
            store=store,
            client_factory=DemoShopServer,
            qr_scanner=DummyScanner(),
            start_sync=False,
        )
        with HeadlessApp(app, size=SIZE) as harness:
            harness.wait_until(lambda: app.connection == "online")
            keyboard = app.keyboard

            def screen(name: str) -> Any:
                return app.checkin.screen(name)

            def shot(name: str) -> None:
                written.append(harness.screenshot(out_dir / f"kiosk-{name}-{lang}.png"))

            def keys(text: str) -> None:
                for char in text:
                    harness.tap(keyboard.key_buttons[char])

            def pick(word: str) -> None:
                for _ in range(4):
                    if word in keyboard.candidates_shown:
                        index = keyboard.candidates_shown.index(word)
                        harness.tap(keyboard.candidate_buttons[index])
                        return
                    harness.tap(keyboard.ids.next_page)
                raise RuntimeError(f"{word} is not offered")

            # The name on the walk-in's car screen: pinyin with its candidates, or letters.
            app.checkin.begin("new_visit")
            app.checkin.go("walkin_car")
            harness.tap(screen("walkin_car").ids.name)
            if zh:
                keys("zhangwei")
            else:
                harness.tap(keyboard.shift_key)
                keys("tom")
                harness.tap(keyboard.ids.space)
                harness.tap(keyboard.shift_key)
                keys("baker")
            shot("keyboard-name")
            if zh:
                pick("张伟")
            harness.tap(keyboard.ids.done)
            shot("walkin-car-name")
            app.checkin.start_over()

            # The concern in the customer's own words: a phrase chosen word by word.
            app.checkin.begin("phone_or_plate")
            app.checkin.go("concern")
            harness.tap(screen("concern").ids.words)
            if not zh:
                harness.tap(keyboard.ids.language)
            keys("shache")
            pick("刹车")
            keys("yixiang")
            harness.tap(keyboard.ids.next_page)
            shot("keyboard-pinyin")
            pick("异响")
            harness.tap(keyboard.ids.done)
            shot("concern-typed")
            app.checkin.start_over()

            # Make and model tiles; a make that is not listed is typed.
            app.checkin.begin("new_visit")
            app.checkin.go("walkin_car")
            car = screen("walkin_car")
            harness.tap(car.make_tiles["Nissan"])
            harness.tap(car.model_tiles["Sylphy"])
            for digit in "2019":
                harness.tap(car.ids.year_pad.key_buttons[digit])
            shot("walkin-car-models")
            harness.tap(car.make_tiles["other"])
            harness.tap(car.ids.other_make)
            if zh:
                keys("changcheng")
                pick("长城")
            else:
                harness.tap(keyboard.shift_key)
                keys("great")
                harness.tap(keyboard.ids.space)
                harness.tap(keyboard.shift_key)
                keys("wall")
            harness.tap(keyboard.ids.done)
            shot("walkin-car-other")
            app.checkin.start_over()
    return written
