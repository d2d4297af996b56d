"""Two daily runs at once (two processes started by cron and the server's own schedule)
send nothing twice: on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from follow_up_fixtures import Service, at, make_customer_with_car, shop_app
from sqlalchemy import func, select

from sync_server.back_office_tables import OutboundMessage
from sync_server.follow_up.run import run
from sync_server.follow_up.tables import FollowUpContact

CUSTOMERS = 12


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_runs_at_once_queue_each_reminder_once(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    app = shop_app(request.getfixturevalue(f"migrated_{kind}_url"), tmp_path)
    try:
        for number in range(CUSTOMERS):
            make_customer_with_car(
                app,
                f"Customer {number}",
                [Service("2026-02-01", 10000 + number)],
                phone=f"+86139000{number:05d}",
                plate=f"沪C{number:05d}",
            )
        now = at("2026-08-03T10:00")
        start = threading.Barrier(2)
        queued: list[int] = []
        errors: list[BaseException] = []

        def one_run() -> None:
            try:
                with app.app_context():
                    session = app.extensions["db_sessionmaker"]()
                    try:
                        start.wait(timeout=30)
                        queued.append(run(session, now, "https://shop.example").queued)
                    finally:
                        session.close()
            except BaseException as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=one_run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        assert sorted(queued) == [0, CUSTOMERS] or sum(queued) == CUSTOMERS
        with app.app_context():
            session = app.extensions["db_sessionmaker"]()
            contacts = session.scalar(select(func.count()).select_from(FollowUpContact))
            messages = session.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.event.startswith("follow_up:"))
            )
            session.close()
        assert contacts == messages == CUSTOMERS
    finally:
        app.extensions["db_engine"].dispose()
