"""Shared test setup.

Kivy reads its environment when first imported, so this runs before anything imports
it: headless SDL window (no X server needed), no command-line parsing, no console or
file log, and a throw-away KIVY_HOME so tests never write ~/.kivy. Fixtures live in
plugin modules listed in ``pytest_plugins``; how the UI tests build one app after
another in a single process (Kivy has one window and one event loop) is explained in
``kiosk_fixtures.py``.
"""

import atexit
import os
import shutil
import tempfile

_kivy_home = tempfile.mkdtemp(prefix="kivy-home-")
atexit.register(shutil.rmtree, _kivy_home, True)
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_WINDOW", "sdl2")
os.environ.setdefault("KIVY_HOME", _kivy_home)
os.environ["KIVY_NO_ARGS"] = "1"
os.environ["KIVY_NO_CONSOLELOG"] = "1"
os.environ["KIVY_NO_FILELOG"] = "1"
# Cheap password hashes for the whole run, live server processes included (see
# sync_server/people.py): scrypt would otherwise be most of the suite's CPU time.
os.environ["CHECKIN_TEST_FAST_HASHES"] = "1"

pytest_plugins = ["kiosk_fixtures", "server_fixtures"]


def pytest_collection_modifyitems(items: list) -> None:
    """Mark every test that runs a real server process as ``live`` (``--fast`` skips them)."""
    import pytest

    for item in items:
        if "live_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live)
