"""Hybrid logical clocks: edits made on different devices get one agreed order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.hlc import (
    LATEST_WALL_MS,
    MAX_COUNTER,
    HLCOutOfRange,
    HybridClock,
    format_hlc,
    limit_hlc,
    parse,
)


class FakeWallClock:
    """A wall clock the test sets by hand (it may jump backwards, like a real one)."""

    def __init__(self, now_ms: int = 1_763_803_123_456) -> None:
        self.now = now_ms

    def __call__(self) -> int:
        return self.now


def test_format_sorts_as_text_by_time_then_counter_then_node() -> None:
    hlcs = [
        format_hlc(1_000, 0, "server"),
        format_hlc(999, 9999, "tablet-b"),
        format_hlc(1_000, 1, "a"),
        format_hlc(1_000, 0, "kiosk-a"),
        format_hlc(10_000_000_000_000, 0, "a"),
    ]
    assert sorted(hlcs) == sorted(hlcs, key=lambda h: tuple(parse(h)))
    assert hlcs[0] == "0000000000001000-0000-server"


def test_parse_round_trips_a_device_uid() -> None:
    node = "7c2a9f4e-1b2d-4c3e-8f00-123456789abc"
    assert parse(format_hlc(1_763_803_123_456, 12, node)) == (1_763_803_123_456, 12, node)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "1763803123456-0000-server",  # wall time not padded to 16 digits
        "0001763803123456-000-server",
        "0001763803123456-0000-",
        "0001763803123456-0000-two words",
        "0001763803123456_0000_server",
        "x001763803123456-0000-server",
        12345,
    ],
)
def test_parse_refuses_malformed_clocks_clearly(bad: object) -> None:
    with pytest.raises(ValueError, match="HLC"):
        parse(bad)  # type: ignore[arg-type]


def test_node_id_with_spaces_is_refused() -> None:
    with pytest.raises(ValueError, match="node id"):
        HybridClock("lobby kiosk")


def test_ticks_follow_the_wall_clock_and_count_within_a_millisecond() -> None:
    wall = FakeWallClock(5_000)
    clock = HybridClock("kiosk", now_ms=wall)
    assert parse(clock.tick())[:2] == (5_000, 0)
    assert parse(clock.tick())[:2] == (5_000, 1)
    wall.now = 7_000
    assert parse(clock.tick())[:2] == (7_000, 0)


def test_wall_clock_going_backwards_never_reorders_edits() -> None:
    wall = FakeWallClock(1_763_803_123_456)
    clock = HybridClock("kiosk", now_ms=wall)
    before = clock.tick()
    wall.now -= 3_600_000  # NTP pulled the clock back an hour
    after = clock.tick()
    assert after > before
    assert parse(after).wall_ms == parse(before).wall_ms


def test_counter_overflow_borrows_the_next_millisecond() -> None:
    wall = FakeWallClock(42)
    clock = HybridClock("kiosk", now_ms=wall)
    issued = [clock.tick() for _ in range(MAX_COUNTER + 3)]
    assert issued == sorted(issued) and len(set(issued)) == len(issued)
    assert parse(issued[MAX_COUNTER])[:2] == (42, MAX_COUNTER)
    assert parse(issued[MAX_COUNTER + 1])[:2] == (43, 0)


def test_observing_a_clock_ahead_puts_later_edits_after_it() -> None:
    wall = FakeWallClock(1_000)
    kiosk = HybridClock("kiosk", now_ms=wall)
    server_edit = format_hlc(9_000, 3, "server")  # the server's clock runs ahead
    kiosk.observe(server_edit)
    assert kiosk.tick() > server_edit


def test_observing_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        HybridClock("kiosk").observe("yesterday")


def test_restored_state_continues_after_a_restart_with_a_reset_wall_clock() -> None:
    wall = FakeWallClock(1_763_803_123_456)
    first_run = HybridClock("kiosk", now_ms=wall)
    last = [first_run.tick() for _ in range(3)][-1]
    saved = first_run.state()

    wall.now = 0  # power cut; the RTC came back at 1970
    second_run = HybridClock("kiosk", now_ms=wall, state=saved)
    assert second_run.tick() > last


def test_restore_never_moves_the_clock_back() -> None:
    clock = HybridClock("kiosk", now_ms=FakeWallClock(5_000))
    issued = clock.tick()
    clock.restore(format_hlc(10, 0, "kiosk"))
    assert clock.tick() > issued


def test_restoring_a_state_from_an_earlier_pairing_keeps_its_time() -> None:
    old = format_hlc(9_000, 0, "old-device-id")
    clock = HybridClock("new-device-id", now_ms=FakeWallClock(1_000), state=old)
    assert parse(clock.tick())[:2] == (9_000, 1)


# --- properties --------------------------------------------------------------------

wall_steps = st.lists(
    st.tuples(
        st.sampled_from(["tick", "observe", "restart"]),
        st.integers(min_value=-(10**7), max_value=10**7),  # wall clock jump in ms
        st.integers(min_value=0, max_value=MAX_COUNTER),  # counter of an observed HLC
    ),
    min_size=1,
    max_size=60,
)


@given(wall_steps)
def test_issued_clocks_strictly_increase_across_skew_observations_and_restarts(
    steps: list[tuple[str, int, int]],
) -> None:
    wall = FakeWallClock(10**12)
    clock = HybridClock("kiosk-1", now_ms=wall)
    issued: list[str] = []
    for action, jump, counter in steps:
        wall.now = max(0, wall.now + jump)
        if action == "tick":
            issued.append(clock.tick())
        elif action == "observe":
            clock.observe(format_hlc(max(0, wall.now + jump), counter, "tablet-2"))
        else:
            clock = HybridClock("kiosk-1", now_ms=wall, state=clock.state())
    assert issued == sorted(issued)
    assert len(set(issued)) == len(issued)


@given(
    st.lists(
        st.tuples(st.sampled_from("ab"), st.booleans()),
        min_size=1,
        max_size=80,
    ),
    st.integers(min_value=-(10**6), max_value=10**6),
)
def test_two_devices_observing_each_other_stay_ordered(
    events: list[tuple[str, bool]], skew_ms: int
) -> None:
    """A message sent after an edit always carries an HLC above that edit (causality)."""
    wall_a = FakeWallClock(10**12)
    wall_b = FakeWallClock(10**12 + skew_ms)
    clocks = {
        "a": HybridClock("kiosk-a", now_ms=wall_a),
        "b": HybridClock("tablet-b", now_ms=wall_b),
    }
    last_seen_by: dict[str, str] = {}
    for sender, delivered in events:
        receiver = "b" if sender == "a" else "a"
        sent = clocks[sender].tick()
        if sender in last_seen_by:
            assert sent > last_seen_by[sender]
        if delivered:
            clocks[receiver].observe(sent)
            last_seen_by[receiver] = sent
            assert clocks[receiver].tick() > sent
        wall_a.now += 1
        wall_b.now += 1


# --- limits (issue 10: one poisoned clock must not stop a shop) ---------------------

POISON = "9999999999999999-9999-x"


def test_a_clock_beyond_the_year_9999_is_refused_and_moves_nothing() -> None:
    clock = HybridClock("tablet", now_ms=FakeWallClock(1_000))
    before = clock.tick()
    assert clock.observe(POISON) is False
    assert clock.restore(POISON) is False
    after = clock.tick()
    assert after > before and parse(after).wall_ms == 1_000


def test_a_restart_from_a_poisoned_state_saves_again() -> None:
    clock = HybridClock("tablet", now_ms=FakeWallClock(5_000), state=POISON)
    assert parse(clock.tick())[:2] == (5_000, 0)


def test_ticking_past_the_limit_is_refused_not_overflowed() -> None:
    clock = HybridClock("tablet", now_ms=FakeWallClock(LATEST_WALL_MS + 1))
    with pytest.raises(HLCOutOfRange, match="9999"):
        clock.tick()


def test_a_clock_more_than_the_max_offset_ahead_is_refused() -> None:
    wall = FakeWallClock(1_000_000)
    clock = HybridClock("server", now_ms=wall, max_ahead_ms=300_000)
    assert clock.observe(format_hlc(1_300_000, 0, "tablet"))  # at the limit: fine
    assert not clock.observe(format_hlc(1_300_001, 0, "tablet"))
    assert parse(clock.state()).wall_ms == 1_300_000
    assert clock.accepts(format_hlc(1_299_999, 5, "a"))
    assert not clock.accepts(format_hlc(1_300_001, 0, "a"))


def test_the_offset_corrects_ticks_and_a_state_beyond_the_range_is_forgotten() -> None:
    wall = FakeWallClock(10**12 + 365 * 86_400_000)  # a year ahead
    clock = HybridClock("tablet", now_ms=wall)
    clock.tick()
    clock.offset_ms = -365 * 86_400_000
    clock.max_ahead_ms = 300_000
    assert clock.forget_beyond_limits()
    assert parse(clock.tick()).wall_ms == 10**12
    assert not clock.forget_beyond_limits()


def test_limit_hlc_compares_above_every_clock_of_its_millisecond() -> None:
    limit = limit_hlc(5_000)
    assert format_hlc(5_000, MAX_COUNTER, "zzzz") < limit < format_hlc(5_001, 0, "a")
    assert limit < POISON
