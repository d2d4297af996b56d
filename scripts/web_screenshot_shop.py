"""The stage the web screenshots are taken on: the demo shop seeded in a temporary folder
(with one advisor's tablet PIN locked and a car with a service history), ``checkin-server
serve`` running on it, Debian's Chromium with the desk's and the phone's viewports, and a
``Shooter`` that writes ``web-<page>-<lang>.png``. Used by ``render_web_screenshots.py``
and ``render_follow_up_screenshots.py``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the customer-file tests' history maker

# From tests/ (after the path above), as the browser tests have them: the browser and
# the quote editor's steps, for the scripts that import this module.
from headless_chromium import headless_chromium as headless_chromium  # noqa: E402
from quote_editor_steps import fill_quote_line as fill_quote_line  # noqa: E402

SERVER_COMMAND = Path(sys.executable).with_name("checkin-server")
LANGUAGES = ("en", "zh_CN")
DESK: dict[str, Any] = {"viewport": {"width": 1440, "height": 900}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
PASSWORD = "demo-pass-2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare_shop(root: Path, url: str) -> dict[str, str]:
    """The demo shop on a fresh SQLite database, and one advisor's PIN locked."""
    os.environ["CHECKIN_INSTANCE_PATH"] = str(root / "instance")
    from sqlalchemy import select

    from sync_server import create_app, db
    from sync_server.demo import demo_id, seed_demo
    from sync_server.migrate import upgrade
    from sync_server.people import PIN_MAX_FAILURES, PinRefused, check_pin
    from sync_server.shop_tables import User
    from sync_server.visit_tables import Visit

    app = create_app({"DATABASE_URL": url})
    upgrade(app)
    with app.app_context():
        session = db.session()
        print(seed_demo(session))
        for _ in range(PIN_MAX_FAILURES):  # tom forgot his PIN: the manager sees it locked
            with suppress(PinRefused):
                check_pin(session, "tom", "0000")
        assert session.scalar(select(User.pin_locked_until).where(User.username == "tom"))
        ids = {key: demo_id("visit", key) for key in ("david-mueller", "liu-yang", "zhao-min")}
        ids["liu-customer"] = demo_id("customer", "liu-yang")
        ids["liu-car"] = demo_id("vehicle", "liu-yang")
        seed_car_history(app, ids["liu-customer"], ids["liu-car"])
        visit = session.get(Visit, ids["david-mueller"])
        assert visit is not None
        ids["status-token"] = visit.status_token
    app.extensions["db_engine"].dispose()
    return ids


def seed_car_history(app: Any, customer_id: str, vehicle_id: str) -> None:
    """Two earlier visits of Liu Yang's car, so its health file has a history: tread
    readings, a scratch seen again, a diagnosis, parts replaced and tyres declined
    (written as the customer-file tests write theirs)."""
    from datetime import UTC, datetime, timedelta

    from customer_file_fixtures import Line, VisitPlan, make_history

    now = datetime.now(UTC)
    service = {
        "fuel": 3,
        "concern": "定期保养 Scheduled service",
        "marks": [("left", 0.45, 0.6, "scratch")],
        "mark_note": "驾驶员侧车门 Driver's door",
    }
    oil = Line("Oil and filter 机油及滤清器", price="380", part_number="OIL-5W30")
    make_history(
        app,
        customer_id,
        vehicle_id,
        [
            VisitPlan(
                now - timedelta(days=365),
                40_120,
                {"fl": 5.5, "fr": 5.6, "rl": 6.2, "rr": 6.1},
                lines=[oil],
                **service,
            ),
            VisitPlan(
                now - timedelta(days=182),
                49_030,
                {"fl": 3.6, "fr": 4.4, "rl": 5.2, "rr": 5.1},
                lines=[
                    oil,
                    Line("Front tyres (pair)", "declined", price="300", part_number="TY-205-55R16"),
                    Line("Brake fluid change", price="300", part_number="BF-DOT4", urgency="red"),
                ],
                finding="前轮胎花纹 3.6 毫米，偏磨 Front tread 3.6 mm, worn on the inside",
                cause="四轮定位偏差 Wheel alignment out",
                **service,
            ),
        ],
    )


@contextmanager
def running_server(root: Path, url: str) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CHECKIN_INSTANCE_PATH": str(root / "instance"),
        "DATABASE_URL": url,
        "PUBLIC_URL": base,
        "MESSAGE_SEND_SECONDS": "3600",
    }
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [str(SERVER_COMMAND), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((root / "server.log").read_text(errors="replace")[-3000:])
            try:
                if requests.get(f"{base}/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class Shooter:
    """Writes ``web-<name>-<lang>.png`` and remembers what it wrote."""

    def __init__(self, out: Path, only: frozenset[str] = frozenset()) -> None:
        self.out = out
        self.only = only  # page names to write; empty: every page
        self.written: list[str] = []

    def __call__(self, page: Any, name: str, lang: str, *, full_page: bool = True) -> None:
        if self.only and name not in self.only:
            return
        page.wait_for_load_state("networkidle")
        page.evaluate("document.fonts.ready")
        filename = f"web-{name}-{lang}.png"
        page.screenshot(path=str(self.out / filename), full_page=full_page)
        self.written.append(filename)
        print(f"  {filename}")

    def element(self, page: Any, selector: str, name: str, lang: str) -> None:
        if self.only and name not in self.only:
            return
        page.wait_for_load_state("networkidle")
        filename = f"web-{name}-{lang}.png"
        page.locator(selector).screenshot(path=str(self.out / filename))
        self.written.append(filename)
        print(f"  {filename}")


def in_language(page: Any, base: str, lang: str, path: str) -> None:
    """Open ``path`` with the page's language set to ``lang`` (the header's switch)."""
    page.goto(f"{base}/lang/{lang}?next={path}")
    page.wait_for_load_state("networkidle")


def sign_in(page: Any, base: str, lang: str, username: str) -> None:
    in_language(page, base, lang, "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/board")


@contextmanager
def desk_page(browser: Any, base: str, lang: str, username: str) -> Iterator[Any]:
    """A page at the desk's size, signed in as ``username`` in ``lang``; its browser
    context closed on leaving."""
    context = browser.new_context(**DESK)
    try:
        page = context.new_page()
        sign_in(page, base, lang, username)
        yield page
    finally:
        context.close()


@contextmanager
def phone_page(browser: Any, **options: Any) -> Iterator[Any]:
    """A page at a phone's size (``options`` for its browser context, e.g. a locale),
    its context closed on leaving."""
    context = browser.new_context(**PHONE, **options)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_with_finger(page: Any) -> None:
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 30, box["y"] + 110)
    page.mouse.down()
    for step in range(1, 16):
        page.mouse.move(box["x"] + 30 + step * 20, box["y"] + 110 - (step % 5) * 16)
    page.mouse.up()
