"""Screenshots of the reminder pages in English and Simplified Chinese: the managers'
page (today's preview, held back, requests, contact log, opt-outs, settings), a refused
setting, and the customer's phone pages reached from a reminder — the appointment
request with the work filled in, its answer, the opt-out's confirm page and its answer.
Written as ``docs/screenshots/web-reminders*-<lang>.png``.

Seeds the demo shop as ``render_web_screenshots.py`` does, adds customers with service
histories due now (by date, by mileage, declined work, a birthday, one held back by an
appointment), queues one reminder to follow its links, and serves it. Usage::

    .venv/bin/python scripts/render_follow_up_screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_screenshot_shop import (
    LANGUAGES,
    REPO,
    Shooter,
    desk_page,
    headless_chromium,
    in_language,
    phone_page,
    prepare_shop,
    running_server,
)


def seed_reminders(url: str, root: Path) -> str:
    """Customers due a reminder today; returns the token of one queued reminder."""
    from sqlalchemy import select

    from shared import domain
    from shared.visit_status import VisitStatus
    from sync_server import create_app, db
    from sync_server.follow_up.run import run
    from sync_server.follow_up.tables import FollowUpContact
    from sync_server.sync.records import lock_feed, put_server_record
    from sync_server.visit_tables import Customer

    app = create_app({"DATABASE_URL": url})
    now = datetime.now(UTC)
    people = [
        (
            "周明",
            "+8613600001111",
            "",
            "zh_CN",
            None,
            [(-182, 21000), (-20, 25200)],
            ["oil_change"],
        ),
        (
            "Anna Schmidt",
            "+8613600002222",
            "anna@example.com",
            "en",
            None,
            [(-170, 30000), (-60, 30900)],
            ["maintenance"],
        ),
        ("孙丽", "+8613600003333", "", "zh_CN", None, [(-100, 42000), (-2, 49400)], ["oil_change"]),
        ("吴刚", "+8613600004444", "", "zh_CN", now.date().replace(year=1988), [], []),
        ("郑洁", "+8613600005555", "", "zh_CN", None, [(-183, 15000)], ["oil_change"]),
    ]
    with app.app_context():
        session = db.session()
        lock_feed(session)
        ids = []
        for number, (name, phone, email, language, born, visits, codes) in enumerate(people):
            customer = domain.Customer(
                name=name,
                phone=phone,
                email=email,
                preferred_channel=domain.ContactChannel.email
                if email
                else domain.ContactChannel.sms,
                reminders_opt_in=True,
                birthday=born,
            )
            car = domain.Vehicle(
                customer_id=customer.id, plate=f"沪D{number}2345", make="BYD", model="Qin"
            )
            put_server_record(session, "customer", customer)
            put_server_record(session, "vehicle", car)
            for index, (days, km) in enumerate(visits):
                put_server_record(
                    session,
                    "visit",
                    domain.Visit(
                        ticket_number=f"R-{number}{index}",
                        customer_id=customer.id,
                        vehicle_id=car.id,
                        status=VisitStatus.delivered,
                        concern_codes=[
                            domain.ConcernCode(c) for c in (codes if index == 0 else ["noise"])
                        ],
                        mileage_in_km=km,
                        checked_in_at=now + timedelta(days=days),
                        status_token=domain.new_status_token(),
                        reminders_opt_in=True,
                    ),
                )
            ids.append((customer.id, car.id, language))
        # 郑洁 has an appointment already: held back.
        put_server_record(
            session,
            "appointment",
            domain.Appointment(
                code="RM0001",
                customer_id=ids[4][0],
                vehicle_id=ids[4][1],
                expected_arrival=now + timedelta(days=3),
            ),
        )
        session.commit()
        for customer_id, _car, language in ids:
            row = session.get(Customer, customer_id)
            assert row is not None
            row.language = language
        session.commit()
        # One reminder queued (for 周明) to follow its links; the others are left for
        # today's preview (they join once it has run).
        others = [session.get(Customer, customer_id) for customer_id, _car, _lang in ids[1:]]
        for row in others:
            row.reminders_opt_in = False  # type: ignore[union-attr]
        session.commit()
        run(session, now, "http://127.0.0.1")
        for row in others:
            row.reminders_opt_in = True  # type: ignore[union-attr]
        session.commit()
        token = session.scalars(
            select(FollowUpContact.token).where(FollowUpContact.customer_id == ids[0][0])
        ).first()
    app.extensions["db_engine"].dispose()
    assert token, "no reminder was queued (run outside quiet hours)"
    return token


def shoot_pages(browser: Any, base: str, token: str, shoot: Shooter) -> None:
    for lang in LANGUAGES:
        with desk_page(browser, base, lang, "manager") as page:
            page.goto(f"{base}/reminders")
            shoot(page, "reminders", lang)
            page.fill("#settings input[name=quiet_from]", "25:00")
            page.click("#settings button.primary")
            shoot(page, "reminders-settings-error", lang)
        with phone_page(browser) as page:
            in_language(page, base, lang, f"/book/{token}")
            shoot(page, "reminders-book", lang)
            page.fill("input[name=day]", (date.today() + timedelta(days=4)).isoformat())
            page.click("button.primary")
            shoot(page, "reminders-book-done", lang)
            in_language(page, base, lang, f"/unsubscribe/{token}")
            shoot(page, "reminders-unsubscribe", lang)
            page.click("button.primary")
            shoot(page, "reminders-unsubscribed", lang)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="reminder-screenshots-"))
    url = f"sqlite:///{root / 'shop.sqlite3'}"
    prepare_shop(root, url)
    token = seed_reminders(url, root)
    shoot = Shooter(args.out)
    try:
        with running_server(root, url) as base, headless_chromium() as browser:
            shoot_pages(browser, base, token, shoot)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{len(shoot.written)} screenshots in {args.out}")


if __name__ == "__main__":
    main()
