"""Render the kiosk's screens to PNG for review: docs/screenshots/<mode>-<screen>-<lang>.png.

Runs headless (no display needed), at 1280×800, against a stand-in for the shop server
so that no network is used. Usage::

    .venv/bin/python scripts/render_screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SIZE = (1280, 800)
SHOP = "Bright Auto Service"


def _prepare_kivy(kivy_home: str) -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ.update(
        KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1", KIVY_HOME=kivy_home
    )
    from kivy.config import Config

    Config.set("graphics", "width", str(SIZE[0]))
    Config.set("graphics", "height", str(SIZE[1]))
    Config.set("graphics", "maxfps", "0")


class DemoShopServer:
    """Answers like the shop server would, without a network (a ``ServerClient`` stand-in)."""

    def __init__(self, base_url: str, token: str | None = None, **_kwargs: Any) -> None:
        self.base_url = base_url
        self.token = token

    def __enter__(self) -> DemoShopServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass

    def whoami(self) -> Any:
        from kiosk.services.server_client import DeviceInfo

        return DeviceInfo("demo-device", "Lobby kiosk", "kiosk", SHOP, "京")

    def pair(self, code: str, device_name: str) -> Any:
        from kiosk.services.server_client import PAIRING_REFUSALS, ServerProblem

        reason = "pairing_code_unknown"
        raise ServerProblem(reason, PAIRING_REFUSALS[reason], 400)


def render_pairing(mode: str, lang: str, out_dir: Path) -> list[Path]:
    """The pairing screen with a code half typed (and, for the kiosk, a refused code)."""
    from kiosk.services.device_store import DeviceSettings, DeviceStore
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    written = []
    with tempfile.TemporaryDirectory() as data_dir:
        store = DeviceStore(data_dir)
        store.save(DeviceSettings(mode=mode, language=lang))
        app = CheckinApp(store=store, client_factory=DemoShopServer)
        with HeadlessApp(app, size=SIZE) as harness:
            screen = app.pairing_screen
            screen.device_name = "Lobby kiosk" if mode == "kiosk" else "Advisor tablet 1"
            for char in "K7QM4X":
                harness.tap(screen.keys[char])
            written.append(harness.screenshot(out_dir / f"{mode}-pairing-{lang}.png"))
            if mode == "kiosk":
                for char in "PD":
                    harness.tap(screen.keys[char])
                harness.tap(screen.ids.pair_button)
                harness.wait_until(lambda: screen.message is not None)
                written.append(harness.screenshot(out_dir / f"{mode}-pairing-error-{lang}.png"))
    return written


def render_welcome(mode: str, lang: str, out_dir: Path) -> list[Path]:
    """The paired welcome screen (and, for the kiosk, the message after a choice)."""
    from kiosk.services.device_store import DeviceSettings, DeviceStore
    from kiosk.ui.app import CheckinApp
    from kiosk.ui.headless import HeadlessApp

    written = []
    with tempfile.TemporaryDirectory() as data_dir:
        store = DeviceStore(data_dir)
        settings = DeviceSettings(mode=mode, role=mode, token="demo", shop_name=SHOP)
        store.save(replace(settings, language=lang))
        app = CheckinApp(store=store, client_factory=DemoShopServer)
        with HeadlessApp(app, size=SIZE) as harness:
            harness.wait_until(lambda: app.connection == "online")
            written.append(harness.screenshot(out_dir / f"{mode}-welcome-{lang}.png"))
            if mode == "kiosk":
                harness.tap(app.welcome_screen.ids.new_visit)
                harness.idle_for(0.5)  # let the message fade in
                written.append(harness.screenshot(out_dir / f"{mode}-welcome-toast-{lang}.png"))
    return written


def render(out_dir: Path) -> list[Path]:
    written: list[Path] = []
    for mode in ("kiosk", "tablet"):
        for lang in ("en", "zh_CN"):
            written += render_pairing(mode, lang, out_dir)
            written += render_welcome(mode, lang, out_dir)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="kivy-home-") as kivy_home:
        _prepare_kivy(kivy_home)
        for path in render(args.out):
            print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
