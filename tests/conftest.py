"""Shared test setup.

Kivy reads its environment when first imported, so this runs before anything imports
it: headless SDL window (no X server needed), no command-line parsing, no console or
file log, and a throw-away KIVY_HOME so tests never write ~/.kivy. Fixtures live in
plugin modules listed in ``pytest_plugins``; how the UI tests build one app after
another in a single process (Kivy has one window and one event loop) is explained in
``kiosk_fixtures.py``.
"""

import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

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

try:
    from playwright.sync_api import expect
except ImportError:  # no browser tests without Playwright
    pass
else:
    # The browser tests' retrying assertions wait as long as Playwright's own actions do
    # (30 s), not its 5 s: under load a page may take longer than that to arrive.
    expect.set_options(timeout=30_000)


# Each test file's seconds in the last measured run (scripts/file_durations.py).
FILE_DURATIONS = Path(__file__).with_name("file_durations.json")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list) -> None:
    """Mark every test that runs a real server process as ``live`` (``--fast`` skips them),
    and put the longest files first.

    ``scripts/test.sh`` hands whole files to the workers in this order
    (``--dist loadfile --no-loadscope-reorder``): the long ones start early and the short
    ones fill in at the end, so the workers finish together. A file not measured yet
    goes first, as it may be a long one.
    """
    for item in items:
        if "live_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.live)
    try:
        seconds = json.loads(FILE_DURATIONS.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    unmeasured = max(seconds.values(), default=0.0) + 1.0
    # A stable sort: the tests of a file stay together and in their order.
    items.sort(key=lambda item: -seconds.get(item.path.name, unmeasured))
