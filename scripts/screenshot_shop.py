"""The stage the kiosk and tablet screenshots are taken on: a headless Kivy at 1280×800
on a UTC device clock, and stand-ins for the shop server as a lobby kiosk and an advisor
tablet see it, so that no network is used. Used by ``render_screenshots.py`` and the
``render_*_screenshots.py`` it calls."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SIZE = (1280, 800)
SHOP = "Bright Auto Service"
# The shop's clock; the renderer's own clock is UTC, so a time shown in the shop's zone
# (the queue's check-in times, the walk-around's "saved" time) is visibly the shop's.
SHOP_TIMEZONE = "Asia/Shanghai"


def prepare_kivy(kivy_home: str) -> None:
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
    os.environ["TZ"] = "UTC"  # the device's clock: not the shop's (SHOP_TIMEZONE)
    time.tzset()
    os.environ.update(KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1", KIVY_HOME=kivy_home)
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(SIZE[0]))
    Config.set("graphics", "height", str(SIZE[1]))
    Config.set("graphics", "maxfps", "0")


def lobby_kiosk(data_dir: str | Path, lang: str) -> Any:
    """The settings store of a paired lobby kiosk showing ``lang``, its local store
    holding the two demo appointments (as the kiosk-flow tests' kiosk)."""
    sys.path.insert(0, str(REPO / "tests"))
    from kiosk_flow_fixtures import DEVICE_ID, store_with_appointments

    from kiosk.services.device_store import DeviceSettings, DeviceStore

    store_with_appointments(Path(data_dir)).close()
    store = DeviceStore(data_dir)
    store.save(
        DeviceSettings(
            mode="kiosk",
            role="kiosk",
            token="demo",
            device_id=DEVICE_ID,
            shop_name=SHOP,
            plate_region="CN",
            ticket_prefix="K3",
            language=lang,
        )
    )
    return store


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


class DemoTabletServer(DemoShopServer):
    """The shop server as an advisor tablet sees it: three advisors, PIN 2026."""

    def whoami(self) -> Any:
        from kiosk.services.server_client import DeviceInfo

        return DeviceInfo("demo-tablet", "Advisor tablet 1", "tablet", SHOP, "京")

    def advisors(self) -> list[dict[str, Any]]:
        return [
            {"user_id": 2, "username": "li.na", "display_name": "Li Na 李娜"},
            {"user_id": 3, "username": "tom", "display_name": "Tom Becker"},
            {"user_id": 4, "username": "wang.lei", "display_name": "王磊"},
        ]

    def sign_in_advisor(self, username: str, pin: str) -> dict[str, Any]:
        from kiosk.services.server_client import ServerProblem

        if pin != "2026":
            wrong = {"type": "demo/pin-wrong", "tries_left": 4, "lock_minutes": 15}
            raise ServerProblem("request_refused", None, 403, wrong)  # type: ignore[arg-type]
        return next(a for a in self.advisors() if a["username"] == username)


class DemoNobodyServer(DemoTabletServer):
    def advisors(self) -> list[dict[str, Any]]:
        return []
