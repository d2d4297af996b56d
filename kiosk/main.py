"""``checkin-kiosk``: start the check-in app on a lobby kiosk or an advisor tablet.

Arguments are parsed before Kivy is imported, so ``--help`` is instant and Kivy never
sees (or misreads) our options.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from kiosk.services.device_store import DEFAULT_SERVER_URL, MODES, DeviceStore, default_data_dir
from kiosk.services.launch import LaunchOptions, resolve_settings
from kiosk.services.staff_pin import is_valid_pin
from shared.i18n import LANGUAGES

log = logging.getLogger("kiosk")

WINDOW_SIZE = (1280, 800)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="checkin-kiosk",
        description="Service-lane check-in: lobby kiosk or advisor tablet.",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="kiosk (lobby self check-in) or tablet (advisor); default: as paired, else kiosk",
    )
    parser.add_argument(
        "--server",
        metavar="URL",
        type=_server_url,
        help=f"the shop's sync server; default: as stored, else {DEFAULT_SERVER_URL}",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        default=None,
        help=f"where settings and the device token are kept (default: {default_data_dir()})",
    )
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="the language the app starts in (kept as this device's default)",
    )
    parser.add_argument(
        "--windowed",
        action="store_true",
        help="run kiosk mode in a window instead of full screen",
    )
    parser.add_argument(
        "--staff-pin",
        metavar="DIGITS",
        type=_staff_pin,
        help="set the staff PIN (4-8 digits) that leaves kiosk mode; only its hash is kept",
    )
    parser.add_argument(
        "--idle-timeout",
        metavar="SECONDS",
        type=float,
        help="seconds without a touch before a check-in is wiped (default 60; kept)",
    )
    parser.add_argument(
        "--pair-code",
        metavar="CODE",
        help="pair with this code at start, without typing it",
    )
    return parser


def _server_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError("the server URL must start with http:// or https://")
    return value.rstrip("/")


def _staff_pin(value: str) -> str:
    if not is_valid_pin(value):
        raise argparse.ArgumentTypeError("a staff PIN has 4 to 8 digits")
    return value


def parse_options(argv: Sequence[str] | None = None) -> LaunchOptions:
    args = build_parser().parse_args(argv)
    return LaunchOptions(
        data_dir=args.data_dir or default_data_dir(),
        mode=args.mode,
        server_url=args.server,
        language=args.lang,
        windowed=args.windowed,
        pair_code=args.pair_code,
        staff_pin=args.staff_pin,
        idle_timeout_s=args.idle_timeout,
    )


def configure_kivy(data_dir: Path, fullscreen: bool) -> None:
    """Environment and Config that must be set before Kivy's window exists."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # Kivy keeps its handlers on its own "kivy" logger; ours go through the root logger.
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
    # Kivy's own config and logs next to ours, not in ~/.kivy.
    os.environ.setdefault("KIVY_HOME", str(data_dir / "kivy"))
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")  # Esc must not close a lobby kiosk
    Config.set("input", "mouse", "mouse,multitouch_on_demand")  # no red multitouch dots
    Config.set("graphics", "width", str(WINDOW_SIZE[0]))
    Config.set("graphics", "height", str(WINDOW_SIZE[1]))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    store = DeviceStore(options.data_dir)
    settings = resolve_settings(options, store)
    log.info("Data in %s; server %s; mode %s", options.data_dir, settings.server_url, settings.mode)
    if settings.mode == "kiosk" and not settings.staff_pin_hash:
        log.warning(
            "No staff PIN is set: staff cannot leave kiosk mode. "
            "Start once with --staff-pin DIGITS to set one."
        )
    configure_kivy(options.data_dir, options.fullscreen(settings.mode))

    from kiosk.ui.app import CheckinApp  # Kivy starts here

    CheckinApp(store=store, settings=settings, pair_code=options.pair_code).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
