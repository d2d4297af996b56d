"""The tablet's Kivy-free services: advisor PINs online and offline, the queue, sync progress."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kiosk_flow_fixtures import zigzag_strokes
from tablet_queue_fixtures import store_with_cars

from kiosk.services.advisors import (
    OFFLINE_MAX_FAILURES,
    AdvisorBook,
    AdvisorSignIn,
    SignInRefused,
)
from kiosk.services.server_client import (
    DEVICE_NOT_PAIRED,
    SERVER_UNREACHABLE,
    ServerProblem,
)
from kiosk.services.sync import SyncState
from kiosk.services.sync_progress import SyncProgress, megabytes
from kiosk.services.tablet_queue import WalkaroundProgress, open_visits, waiting_text

PEOPLE = [
    {"user_id": 2, "username": "li.na", "display_name": "Li Na 李娜", "role": "advisor"},
    {"user_id": 3, "username": "tom", "display_name": "Tom Becker", "role": "advisor"},
]


class FakeServer:
    """Answers like the shop server; ``down`` makes every call fail as unreachable."""

    def __init__(self) -> None:
        self.pins = {"li.na": "2468", "tom": "97531"}
        self.down = False
        self.unpaired = False
        self.calls: list[str] = []

    def __call__(self) -> FakeServer:
        return self

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        pass

    def _check(self) -> None:
        if self.down:
            raise ServerProblem(SERVER_UNREACHABLE, _msg("down"))
        if self.unpaired:
            raise ServerProblem(DEVICE_NOT_PAIRED, _msg("unpaired"), 401)

    def advisors(self) -> list[dict[str, Any]]:
        self.calls.append("advisors")
        self._check()
        return [p for p in PEOPLE if p["username"] in self.pins]

    def sign_in_advisor(self, username: str, pin: str) -> dict[str, Any]:
        self.calls.append(f"sign-in {username}")
        self._check()
        if username not in self.pins:
            raise _problem(403, "pin-not-set")
        if self.pins[username] != pin:
            raise _problem(403, "pin-wrong")
        return next(p for p in PEOPLE if p["username"] == username)


class _msg:
    def __init__(self, text: str) -> None:
        self.text = text

    def render(self, lang: str) -> str:
        return self.text


def _problem(status: int, kind: str, **extra: Any) -> ServerProblem:
    document = {"type": f"https://example.test/problems/{kind}", "status": status, **extra}
    return ServerProblem("request_refused", _msg(kind), status, document)


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def sign_in(tmp_path: Path, server: FakeServer) -> AdvisorSignIn:
    return AdvisorSignIn(AdvisorBook(tmp_path / "device"), server, time_text=lambda at: "10:15")


def test_online_sign_in_remembers_only_a_salted_hash(sign_in: AdvisorSignIn) -> None:
    sign_in.refresh()
    result = sign_in.sign_in("li.na", "2468")
    assert (result.advisor.username, result.advisor.user_id, result.offline) == ("li.na", 2, False)
    path = sign_in.book.path
    assert "2468" not in path.read_text()
    assert json.loads(path.read_text())["advisors"][0]["pin_verifier"].startswith("pbkdf2_sha256$")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_offline_sign_in_with_the_remembered_pin(
    sign_in: AdvisorSignIn, server: FakeServer
) -> None:
    sign_in.refresh()
    sign_in.sign_in("li.na", "2468")
    server.down = True
    assert [p.username for p in sign_in.refresh()] == ["li.na", "tom"]  # remembered list
    assert sign_in.sign_in("li.na", "2468").offline
    with pytest.raises(SignInRefused) as wrong:
        sign_in.sign_in("li.na", "1357")
    assert wrong.value.code == "pin_wrong"
    with pytest.raises(SignInRefused) as never:
        sign_in.sign_in("tom", "97531")
    assert never.value.code == "never_signed_in_here"
    assert "Tom Becker" in never.value.message.render("en")


def test_offline_wrong_pins_lock_then_the_lock_ends(
    sign_in: AdvisorSignIn, server: FakeServer
) -> None:
    now = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)
    sign_in.clock = lambda: now
    sign_in.refresh()
    sign_in.sign_in("li.na", "2468")
    server.down = True
    for attempt in range(OFFLINE_MAX_FAILURES):
        with pytest.raises(SignInRefused) as refused:
            sign_in.sign_in("li.na", "0000")
        expected = "pin_locked" if attempt == OFFLINE_MAX_FAILURES - 1 else "pin_wrong"
        assert refused.value.code == expected
        left = OFFLINE_MAX_FAILURES - 1 - attempt
        if left > 1:  # the advisor is told how many tries the lock still allows
            assert f"{left} more wrong PINs lock it for 15 minutes" in (
                refused.value.message.render("en")
            )
        elif left == 1:
            assert "One more wrong PIN locks it" in refused.value.message.render("en")
            assert "再输错 1 次" in refused.value.message.render("zh_CN")
    assert "10:15" in refused.value.message.render("en")
    with pytest.raises(SignInRefused) as locked:
        sign_in.sign_in("li.na", "2468")  # locked: even the right PIN waits
    assert locked.value.code == "pin_locked"
    server.down = False
    calls = len(server.calls)
    with pytest.raises(SignInRefused):
        sign_in.sign_in("li.na", "2468")  # the tablet's lock holds online too
    assert len(server.calls) == calls  # not even asked
    now = now + timedelta(minutes=16)
    assert not sign_in.sign_in("li.na", "2468").offline


def test_the_servers_no_drops_the_remembered_pin(
    sign_in: AdvisorSignIn, server: FakeServer
) -> None:
    sign_in.refresh()
    sign_in.sign_in("li.na", "2468")
    server.pins["li.na"] = "8642"  # a manager reset the PIN
    with pytest.raises(SignInRefused) as wrong:
        sign_in.sign_in("li.na", "2468")
    assert wrong.value.code == "pin_wrong"
    server.down = True
    with pytest.raises(SignInRefused) as offline:
        sign_in.sign_in("li.na", "2468")
    assert offline.value.code == "never_signed_in_here"


def test_someone_removed_on_the_server_is_forgotten(
    sign_in: AdvisorSignIn, server: FakeServer
) -> None:
    sign_in.refresh()
    sign_in.sign_in("tom", "97531")
    del server.pins["tom"]
    assert [p.username for p in sign_in.refresh()] == ["li.na"]
    server.down = True
    with pytest.raises(SignInRefused) as refused:
        sign_in.sign_in("tom", "97531")
    assert refused.value.code == "never_signed_in_here"


def test_server_lock_shows_its_end_time(sign_in: AdvisorSignIn, server: FakeServer) -> None:
    def locked(_username: str, _pin: str) -> dict[str, Any]:
        raise _problem(423, "pin-locked", locked_until="2026-11-22T02:15:00+00:00")

    server.sign_in_advisor = locked  # type: ignore[method-assign]
    with pytest.raises(SignInRefused) as refused:
        sign_in.sign_in("li.na", "2468")
    assert refused.value.code == "pin_locked"
    assert refused.value.message.render("zh_CN") == "PIN 码错误次数过多，请在 10:15 之后再试。"


@pytest.mark.parametrize("pin", ["", "123", "123456789", "12a4"])
def test_pin_format_is_checked_before_asking(
    sign_in: AdvisorSignIn, server: FakeServer, pin: str
) -> None:
    with pytest.raises(SignInRefused) as refused:
        sign_in.sign_in("li.na", pin)
    assert refused.value.code == "pin_format"
    assert server.calls == []


def test_an_unpaired_tablet_is_told_to_pair(sign_in: AdvisorSignIn, server: FakeServer) -> None:
    server.unpaired = True
    with pytest.raises(ServerProblem) as problem:
        sign_in.sign_in("li.na", "2468")
    assert problem.value.needs_pairing
    with pytest.raises(ServerProblem):
        sign_in.refresh()


def test_a_damaged_advisor_file_starts_afresh(sign_in: AdvisorSignIn) -> None:
    sign_in.book.data_dir.mkdir(parents=True)
    sign_in.book.path.write_text("{not json")
    assert sign_in.book.people() == []
    assert [p.username for p in sign_in.refresh()] == ["li.na", "tom"]


# --- the queue --------------------------------------------------------------------------


def test_queue_vip_first_then_longest_wait_without_delivered(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    store, _ = store_with_cars(tmp_path, now)
    with store:
        entries = open_visits(store)
        assert [e.ticket_number for e in entries] == ["A-010", "A-012", "A-009", "A-011"]
        assert [e.vip for e in entries] == [True, True, False, False]
        assert entries[0].plate == "京A·12345"
        assert entries[0].make_model == "Toyota Camry"
        assert entries[2].waiting_minutes(now) == 135


@pytest.mark.parametrize(
    ("search", "tickets"),
    [("a12", ["A-010"]), (" 5g7 ", ["A-009"]), ("苏E", ["A-012"]), ("A-011", ["A-011"]),
     ("zz9", []), ("", ["A-010", "A-012", "A-009", "A-011"])],
)  # fmt: skip
def test_queue_search_by_part_of_a_plate_or_the_ticket(
    tmp_path: Path, search: str, tickets: list[str]
) -> None:
    store, _ = store_with_cars(tmp_path)
    with store:
        assert [e.ticket_number for e in open_visits(store, search)] == tickets


def test_queue_shows_how_far_the_walkaround_is(tmp_path: Path) -> None:
    from kiosk.services.walkaround import WalkaroundSheet

    store, visits = store_with_cars(tmp_path)
    with store:
        started = WalkaroundSheet.open(store, visits["A-011"])
        started.set_fuel(4)
        started.save()
        signed = WalkaroundSheet.open(store, visits["A-012"])
        signed.set_fuel(6)
        strokes = zigzag_strokes()
        signed.sign(strokes, "陈静")
        signed.save()
        changed = WalkaroundSheet.open(store, visits["A-010"])
        changed.set_fuel(2)
        changed.sign(strokes, "张伟")
        changed.save()
        changed.set_fuel(3)  # after signing: a new version, not signed yet
        changed.save()
        progress = {e.ticket_number: e.progress for e in open_visits(store)}
    assert progress == {
        "A-009": WalkaroundProgress.not_started,
        "A-011": WalkaroundProgress.in_progress,
        "A-012": WalkaroundProgress.signed,
        "A-010": WalkaroundProgress.changed_after_signing,
    }


def test_waiting_text_in_both_languages() -> None:
    assert waiting_text(7).render("en") == "7 min"
    assert waiting_text(125).render("en") == "2 h 05 min"
    assert waiting_text(125).render("zh_CN") == "2 小时 05 分钟"


# --- sync progress ----------------------------------------------------------------------


def test_progress_fills_as_the_backlog_drains() -> None:
    progress = SyncProgress()
    first = progress.update(
        SyncState(pending_changes=10, pending_bytes=1_000_000, pending_blobs=3,
                  pending_blob_bytes=3_000_000, running=True)
    )  # fmt: skip
    assert first.fraction == 0
    assert first.headline.render("en") == "Sending. Left: photos 3 · changes 10 · 4.0 MB"
    half = progress.update(
        SyncState(pending_changes=4, pending_bytes=500_000, pending_blobs=1,
                  pending_blob_bytes=1_500_000, running=True)
    )  # fmt: skip
    assert half.fraction == pytest.approx(0.5)
    done = progress.update(SyncState(last_success_at=datetime.now(UTC)))
    assert done.fraction == 1
    assert done.headline.render("en") == "Everything is sent to the shop server."
    assert done.detail is not None and done.detail.render("en") == "Last synced just now."
    again = progress.update(SyncState(pending_changes=1, pending_bytes=2_000))
    assert again.fraction == 0  # a new backlog starts from empty


def test_progress_says_when_offline_or_refused() -> None:
    offline = SyncProgress().update(
        SyncState(pending_blobs=2, pending_blob_bytes=2_400_000, last_error=SERVER_UNREACHABLE)
    )
    assert offline.problem
    assert offline.headline.render("en") == "Waiting to send: photos 2 · changes 0 · 2.4 MB"
    assert "cannot be reached" in offline.detail.render("en")  # type: ignore[union-attr]
    refused = SyncProgress().update(SyncState(parked=1, parked_blobs=1))
    assert refused.problem and refused.fraction == 1
    assert "2 items were refused" in refused.detail.render("en")  # type: ignore[union-attr]


def test_megabytes() -> None:
    assert [megabytes(n) for n in (0, 999, 45_000, 120_000, 2_400_000)] == [
        "0 KB", "1 KB", "45 KB", "0.1 MB", "2.4 MB",
    ]  # fmt: skip
