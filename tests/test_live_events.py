"""What a transaction tells the live streams: committed changes to what the board and
the tablets' queue show, by visit id; nothing for a rollback or an unrelated change.
On SQLite the process's broadcaster is told after the commit; on PostgreSQL the
transaction sends NOTIFY and the process hears it through its LISTEN connection.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from sync_server import db
from sync_server.demo import seed_demo
from sync_server.live import live
from sync_server.live.broadcaster import QUEUE_SIZE, RESYNC, Broadcaster, Subscription
from sync_server.shop import shop_settings
from sync_server.visit_tables import Visit

QUIET_S = 0.5


def drain(subscription: Subscription, wait: float = QUIET_S) -> list[Any]:
    events = []
    while (event := subscription.next(wait)) is not None:
        events.append(event)
        wait = QUIET_S
    return events


def test_only_committed_changes_to_the_board_are_told(app: Flask) -> None:
    state = live(app)
    subscription = state.broadcaster.subscribe()
    assert subscription is not None
    if state.relay is not None:
        state.relay.start()
        assert state.relay.wait_listening(10)
    try:
        with app.app_context():
            session = db.session()
            seed_demo(session)
            seeded = drain(subscription, wait=5)
            visit_ids = set(session.scalars(select(Visit.id)))
            assert seeded and all(event.name == "visit" for event in seeded)
            assert visit_ids <= {i for event in seeded for i in event.data["visits"]}

            visit = session.get(Visit, sorted(visit_ids)[0])
            assert visit is not None
            visit.concern_text = "Rattle from the back — rolled back"
            session.flush()
            session.rollback()
            assert drain(subscription) == []

            shop_settings(session).name = "Not on the board"
            session.commit()
            assert drain(subscription) == []

            visit = session.get(Visit, sorted(visit_ids)[0])
            assert visit is not None
            visit.concern_text = "Rattle from the back"
            session.commit()
            told = drain(subscription, wait=5)
            assert [(event.name, event.data) for event in told] == [
                ("visit", {"visits": [visit.id]})
            ]
    finally:
        subscription.close()
        state.shutdown()


def test_a_reader_that_falls_behind_is_told_to_fetch_everything_again() -> None:
    broadcaster = Broadcaster(max_streams=2)
    slow, other = broadcaster.subscribe(), broadcaster.subscribe()
    assert slow is not None and other is not None
    assert broadcaster.subscribe() is None  # the cap
    for n in range(QUEUE_SIZE + 5):
        broadcaster.publish("visit", {"visits": [str(n)]})
        other.next(0)  # this one keeps up
    assert [event.name for event in drain(slow, wait=0.01)] == [RESYNC]
    slow.close()
    assert broadcaster.subscribe() is not None  # its place is free again
    broadcaster.close()
    assert other.next(1) is None and other.closed  # the process stops: streams end
