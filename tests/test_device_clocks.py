"""Devices keep their clocks on the server's time (issue 10, items 1 and 2): a tablet
whose wall clock is a year ahead or a day behind still orders its edits as they really
happened, nobody is dragged ahead, and a poisoned clock heals."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

from live_server import LiveServer, live_server_fixture  # noqa: F401
from sqlalchemy import text
from test_sync_engine_live import fast_transport

from kiosk.services.local_store import LocalStore
from kiosk.services.server_time import MAX_OFFSET_HEADER, SERVER_TIME_HEADER, ServerTime
from kiosk.services.sync import SyncEngine, SyncState
from kiosk.services.sync_progress import SyncProgress
from shared.hlc import HybridClock, format_hlc, parse, wall_clock_ms

DAY_MS = 24 * 3600 * 1000
YEAR_MS = 365 * DAY_MS
FIVE_MINUTES_MS = 5 * 60 * 1000
POISON = "9999999999999999-9999-x"
DEVICE_ID = "5fb948a1-9175-4180-b109-09ea7cfa1271"


def new_id() -> str:
    return str(uuid.uuid4())


def skewed(offset_ms: int):  # type: ignore[no-untyped-def]
    return lambda: wall_clock_ms() + offset_ms


def headers(server_ms: int, max_offset_ms: int = FIVE_MINUTES_MS) -> dict[str, str]:
    return {SERVER_TIME_HEADER: str(server_ms), MAX_OFFSET_HEADER: str(max_offset_ms)}


# --- the device's side, alone -------------------------------------------------------


def test_the_offset_is_learnt_from_the_middle_of_the_round_trip() -> None:
    wall = [1_000_000]
    clock = HybridClock("tablet", now_ms=lambda: wall[0])
    server_time = ServerTime(clock)
    assert server_time.learn(headers(5_000_000), sent_ms=1_000_000, received_ms=1_000_200)
    assert server_time.offset_ms == 5_000_000 - 1_000_100
    assert parse(clock.tick()).wall_ms == 5_000_000 - 100
    assert clock.max_ahead_ms is not None and clock.max_ahead_ms >= FIVE_MINUTES_MS
    # A slow answer (a photo upload) does not move a known offset; no header, no change.
    assert not server_time.learn(headers(9_000_000), sent_ms=0, received_ms=60_000)
    assert not server_time.learn({}, sent_ms=0, received_ms=10)
    assert server_time.offset_ms == 5_000_000 - 1_000_100
    # A less precise answer that agrees is not taken; a more precise one is.
    assert not server_time.learn(headers(5_000_250), sent_ms=1_000_000, received_ms=1_000_500)
    assert server_time.learn(headers(5_000_050), sent_ms=1_000_000, received_ms=1_000_020)
    assert server_time.offset_ms == 5_000_050 - 1_000_010
    # One that cannot agree (the wall clock was set meanwhile) is taken at once.
    assert server_time.learn(headers(9_000_000), sent_ms=1_000_000, received_ms=1_000_900)
    assert server_time.offset_ms == 9_000_000 - 1_000_450


def test_a_clock_beyond_the_range_is_forgotten_once_the_range_is_known() -> None:
    clock = HybridClock("tablet", now_ms=skewed(YEAR_MS))
    clock.tick()  # ticked offline, a year ahead
    ServerTime(clock).learn(headers(wall_clock_ms()), clock.wall_ms(), clock.wall_ms())
    assert parse(clock.tick()).wall_ms < wall_clock_ms() + FIVE_MINUTES_MS
    assert not clock.observe(format_hlc(wall_clock_ms() + YEAR_MS, 0, "other"))
    assert parse(clock.state()).wall_ms < wall_clock_ms() + FIVE_MINUTES_MS


def test_a_store_holding_a_poisoned_clock_saves_again(tmp_path: Path) -> None:
    """The issue's tablet could "never save a record again, even after a restart"."""
    with LocalStore(tmp_path, DEVICE_ID) as store:
        store.save("customer", new_id(), {"name": "Before"})
    with sqlite3.connect(tmp_path / "device.sqlite3") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'hlc'", (POISON,))
    with LocalStore(tmp_path, DEVICE_ID) as store:
        saved = store.save("customer", new_id(), {"name": "After"})
        assert parse(saved.hlc).wall_ms <= wall_clock_ms()


def test_the_sync_status_shows_the_offset_and_a_warning() -> None:
    progress = SyncProgress()
    reading = progress.update(SyncState(clock_offset_ms=-YEAR_MS, clock_warning=True))
    assert reading.problem
    assert reading.detail is not None and "+365 d" in reading.detail.render("en")
    assert "+365 d" in reading.detail.render("zh_CN")
    calm = progress.update(SyncState(clock_offset_ms=800, clock_warning=False))
    assert not calm.problem


# --- with a real server -------------------------------------------------------------


def server_clocks(server: LiveServer, visit_id: str) -> list[str]:
    with server.db_engine().connect() as connection:
        clocks = connection.execute(
            text("SELECT clocks FROM sync_records WHERE kind = 'visit' AND id = :id"),
            {"id": visit_id},
        ).scalar_one()
    if isinstance(clocks, str):
        import json

        clocks = json.loads(clocks)
    return list(clocks.values())


def server_concern(server: LiveServer, visit_id: str) -> str:
    with server.db_engine().connect() as connection:
        return connection.execute(
            text("SELECT concern_text FROM visits WHERE id = :id"), {"id": visit_id}
        ).scalar_one()


def test_skewed_tablets_order_edits_by_real_time_and_drag_nobody_ahead(
    live_server: LiveServer, tmp_path: Path
) -> None:
    ahead_device = live_server.pair_device("tablet", "Year ahead")
    behind_device = live_server.pair_device("tablet", "Day behind")
    with (
        LocalStore(tmp_path / "ahead", ahead_device.device_id, now_ms=skewed(YEAR_MS)) as ahead,
        LocalStore(tmp_path / "behind", behind_device.device_id, now_ms=skewed(-DAY_MS)) as behind,
        fast_transport(live_server, ahead_device.token) as ahead_transport,
        fast_transport(live_server, behind_device.token) as behind_transport,
    ):
        # A walk-in saved offline by the tablet a year ahead, before it ever synced.
        customer_id, vehicle_id, visit_id = new_id(), new_id(), new_id()
        ahead.save("customer", customer_id, {"name": "Wang", "phone": "+8613812345678"})
        ahead.save("vehicle", vehicle_id, {"customer_id": customer_id, "plate": "京A12345"})
        ahead.save(
            "visit",
            visit_id,
            {"ticket_number": "T-001", "customer_id": customer_id, "vehicle_id": vehicle_id},
        )
        ahead_sync, behind_sync = (
            SyncEngine(ahead, ahead_transport),
            SyncEngine(behind, behind_transport),
        )
        report = ahead_sync.sync_once()
        # Refused for its clock, clocked again from the server's time, then applied.
        assert (report.restamped, report.pushed, report.parked) == (3, 3, 0)
        behind_sync.sync_once()
        assert behind.get("visit", visit_id) is not None

        for first, second, pushes_first in (
            (ahead, behind, ahead_sync),
            (behind, ahead, ahead_sync),
            (ahead, behind, behind_sync),
        ):
            first.save("visit", visit_id, {"concern_text": f"earlier by {first.node_id}"})
            # The second edit comes later in real time: by more than the error of the
            # tablets' offsets (half a round trip on loopback, on a busy machine too).
            time.sleep(1.0)
            second.save("visit", visit_id, {"concern_text": f"later by {second.node_id}"})
            for engine in (pushes_first, behind_sync if pushes_first is ahead_sync else ahead_sync):
                engine.sync_once()
            assert server_concern(live_server, visit_id) == f"later by {second.node_id}"
            for engine in (ahead_sync, behind_sync):
                engine.sync_once()
            assert ahead.get("visit", visit_id)["concern_text"] == f"later by {second.node_id}"
            assert behind.get("visit", visit_id)["concern_text"] == f"later by {second.node_id}"

        state = ahead_sync_state(ahead_sync)
        assert state.clock_warning and state.clock_offset_ms is not None
        assert state.clock_offset_ms < -YEAR_MS + 60_000

        # Nobody was dragged ahead: the server's clocks and every tablet's, one paired
        # later included, stay near the real time.
        limit = wall_clock_ms() + FIVE_MINUTES_MS
        assert all(parse(clock).wall_ms <= limit for clock in server_clocks(live_server, visit_id))
        later_device = live_server.pair_device("tablet", "Paired later")
        with (
            LocalStore(tmp_path / "later", later_device.device_id) as later,
            fast_transport(live_server, later_device.token) as later_transport,
        ):
            SyncEngine(later, later_transport).sync_once()
            for store in (ahead, behind, later):
                assert parse(store.clock.state()).wall_ms <= limit
            assert parse(later.save("note", new_id(), {"text": "x"}).hlc).wall_ms <= limit


def ahead_sync_state(engine: SyncEngine) -> SyncState:
    from kiosk.services.sync import BackgroundSync

    states: list[SyncState] = []
    BackgroundSync(engine, on_state=states.append)._publish(running=False)
    return states[-1]
