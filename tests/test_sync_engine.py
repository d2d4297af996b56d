"""Syncing: nothing a device saved is lost or doubled, whatever the network does.

The engine runs against an in-memory server that keeps the protocol's promises
(docs/sync.md) and fails on command. The background thread and the HTTP transport are in
``test_sync_background.py``; syncing with a real server process in ``test_sync_engine_live.py``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from device_sync import DEVICE_ID, jpeg_photo, new_id, save_notes
from live_server import LiveServer, free_port, live_server_fixture  # noqa: F401

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import (
    DeviceUnpaired,
    RequestRefused,
    ServerUnreachable,
    SyncEngine,
    SyncError,
    UnexpectedResponse,
)
from shared.hlc import format_hlc

# --- an in-memory server that keeps the protocol's promises ---------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "tablet", DEVICE_ID) as opened:
        yield opened


class FakeShopServer:
    """Applies each change id once, merges fields by HLC, keeps photos by hash."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.applied: dict[str, dict[str, Any]] = {}
        self.applications: Counter[str] = Counter()
        self.blobs: dict[str, bytes] = {}
        self.seq = 0
        self.refused_records: dict[str, tuple[int, dict[str, Any]]] = {}
        self.refused_photos: set[str] = set()
        self.max_push_bytes: int | None = None

    def push(self, changes: list[dict[str, Any]]) -> dict[str, Any]:
        if self.max_push_bytes and len(json.dumps(changes)) > self.max_push_bytes:
            raise RequestRefused(413, {"status": 413, "title": "The upload is too large"})
        results = []
        for change in changes:
            if change["change_id"] in self.applied:
                results.append(dict(self.applied[change["change_id"]]))
                continue
            if change["id"] in self.refused_records:
                status, problem = self.refused_records[change["id"]]
                results.append(
                    {"change_id": change["change_id"], "status": status, "problem": problem}
                )
                continue
            key = (change["kind"], change["id"])
            record = self.records.setdefault(key, {"fields": {}, "clocks": {}, "seq": 0})
            for name, value in change["fields"].items():
                if change["hlc"] > record["clocks"].get(name, ""):
                    record["fields"][name], record["clocks"][name] = value, change["hlc"]
            self.seq += 1
            record["seq"] = self.seq
            self.applications[change["change_id"]] += 1
            self.applied[change["change_id"]] = {"change_id": change["change_id"], "status": 201}
            results.append(dict(self.applied[change["change_id"]]))
        return {"results": results, "missing_blobs": []}

    def missing_blobs(self, shas: list[str]) -> list[str]:
        return [sha for sha in shas if sha not in self.blobs]

    def upload_blob(self, sha256: str, path: Path, content_type: str) -> int:
        if sha256 in self.refused_photos:
            raise RequestRefused(422, {"status": 422, "title": "The image is damaged"})
        data = path.read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha256
        known = sha256 in self.blobs
        self.blobs[sha256] = data
        return 200 if known else 201

    def pull(self, since: int, limit: int) -> dict[str, Any]:
        rows = sorted(
            (record["seq"], kind, record_id, record)
            for (kind, record_id), record in self.records.items()
            if record["seq"] > since
        )
        page = rows[:limit]
        return {
            "changes": [
                {"seq": seq, "kind": kind, "id": record_id, "fields": dict(record["fields"]),
                 "clocks": dict(record["clocks"])}
                for seq, kind, record_id, record in page
            ],
            "next_since": page[-1][0] if page else since,
            "more": len(rows) > limit,
        }  # fmt: skip

    def server_edit(self, kind: str, record_id: str, fields: dict[str, Any], hlc: str) -> None:
        self.push(
            [{"change_id": new_id(), "kind": kind, "id": record_id, "hlc": hlc, "fields": fields}]
        )


class FakeTransport:
    """The transport's interface over :class:`FakeShopServer`, with faults on command.

    ``script(method, *outcomes)`` sets what the next calls of ``method`` do: ``"ok"``;
    ``"before"``: fail before the server sees the request (no connection); ``"after"``:
    fail after the server handled it (the answer is lost on the way back).
    """

    def __init__(self, server: FakeShopServer) -> None:
        self.server = server
        self.request_count = 0
        self.calls: list[str] = []
        self._outcomes: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.error: SyncError = ServerUnreachable("connection reset by peer")

    def script(self, method: str, *outcomes: str) -> None:
        self._outcomes.setdefault(method, []).extend(outcomes)

    def _call(self, method: str, *args: Any) -> Any:
        with self._lock:  # photos are uploaded on several threads
            self.request_count += 1
            self.calls.append(method)
            planned = self._outcomes.get(method)
            outcome = planned.pop(0) if planned else "ok"
        if outcome == "before":
            raise self.error
        answer = getattr(self.server, method)(*args)
        if outcome == "after":
            raise self.error
        return answer

    def push(self, changes: list[dict[str, Any]]) -> dict[str, Any]:
        return self._call("push", changes)

    def missing_blobs(self, shas: list[str]) -> list[str]:
        return self._call("missing_blobs", shas)

    def upload_blob(self, sha256: str, path: Path, content_type: str) -> int:
        return self._call("upload_blob", sha256, path, content_type)

    def pull(self, since: int, limit: int = 500) -> dict[str, Any]:
        return self._call("pull", since, limit)


@pytest.fixture
def server() -> FakeShopServer:
    return FakeShopServer()


@pytest.fixture
def transport(server: FakeShopServer) -> FakeTransport:
    return FakeTransport(server)


def engine_for(store: LocalStore, transport: FakeTransport, **kwargs: Any) -> SyncEngine:
    return SyncEngine(store, transport, **kwargs)  # type: ignore[arg-type]


# --- pushing ----------------------------------------------------------------------------


def test_a_round_pushes_everything_in_batches_and_empties_the_outbox(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport
) -> None:
    change_ids = save_notes(store, 25)
    report = engine_for(store, transport, batch_size=10).sync_once()

    assert report.pushed == 25
    assert transport.calls.count("push") == 3
    assert set(server.applications) == set(change_ids)
    assert store.status().pending_changes == 0
    assert store.sync_history().last_success_at is not None


def test_refused_changes_are_parked_and_the_rest_goes_through(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport
) -> None:
    visit_id = new_id()
    problem = {"status": 422, "title": "Some fields need attention", "errors": [{"field": "vin"}]}
    server.refused_records[visit_id] = (422, problem)
    before = save_notes(store, 2)
    refused = store.save("visit", visit_id, {"vin": "nonsense"})
    after = save_notes(store, 2)

    report = engine_for(store, transport).sync_once()

    assert (report.pushed, report.parked) == (4, 1)
    assert set(server.applications) == set(before + after)
    (parked,) = store.parked()
    assert parked.change_id == refused.change_id and parked.problem == problem
    assert store.status().parked == 1 and store.status().pending_changes == 0

    # Staff fixed the cause on the server and pressed "retry".
    del server.refused_records[visit_id]
    store.unpark(refused.change_id)
    assert engine_for(store, transport).sync_once().pushed == 1
    assert server.records[("visit", visit_id)]["fields"] == {"vin": "nonsense"}


def test_a_lost_connection_stops_the_round_and_nothing_is_lost_or_doubled(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport
) -> None:
    change_ids = save_notes(store, 30)
    engine = engine_for(store, transport, batch_size=10)
    # Round 1: the first batch goes through, the second finds no connection.
    # Round 2: the server applies the second batch, but its answer is lost.
    transport.script("push", "ok", "before", "after")

    with pytest.raises(ServerUnreachable):
        engine.sync_once()
    assert store.status().pending_changes == 20
    assert store.sync_history().last_error == "server_unreachable"

    with pytest.raises(ServerUnreachable):
        engine.sync_once()  # the answer to the second batch is lost
    assert store.status().pending_changes == 20  # the device cannot know it was applied

    report = engine.sync_once()
    assert report.pushed == 20
    assert store.status().pending_changes == 0
    assert set(server.applications) == set(change_ids)
    assert max(server.applications.values()) == 1  # every change applied exactly once
    assert store.sync_history().last_error is None


def test_a_change_too_large_for_the_server_is_parked_alone(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport
) -> None:
    server.max_push_bytes = 5_000
    small = save_notes(store, 6)
    huge = store.save("note", new_id(), {"text": "x" * 10_000})
    later = save_notes(store, 3)

    report = engine_for(store, transport).sync_once()

    assert set(server.applications) == set(small + later)
    assert [c.change_id for c in store.parked()] == [huge.change_id]
    assert store.parked()[0].problem["status"] == 413
    assert report.pushed == 9


def test_a_change_larger_than_any_push_is_parked_without_sending_it(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport
) -> None:
    strokes = store.save(
        "signature", new_id(), {"strokes": [[[0.5, 0.5, n] for n in range(200_000)]]}
    )
    later = save_notes(store, 2)

    report = engine_for(store, transport).sync_once()

    assert [c.change_id for c in store.parked()] == [strokes.change_id]
    assert store.parked()[0].problem["code"] == "change_too_large"
    assert set(server.applications) == set(later) and report.pushed == 2
    assert transport.calls.count("push") == 1


def test_a_result_without_a_final_answer_waits_for_the_next_round(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport, monkeypatch
) -> None:
    save_notes(store, 3)
    answers = iter([[{"status": 201}, {"status": 503}, {"status": 201}]])
    real_push = server.push

    def push_with_a_hiccup(changes: list[dict[str, Any]]) -> dict[str, Any]:
        answer = real_push(changes)
        statuses = next(answers, None)
        if statuses:
            for result, forced in zip(answer["results"], statuses, strict=True):
                result.update(forced)
        return answer

    monkeypatch.setattr(server, "push", push_with_a_hiccup)
    engine = engine_for(store, transport)
    assert engine.sync_once().pushed == 2
    assert transport.calls.count("push") == 1  # not sent again and again in one round
    (waiting,) = store.pending_changes()
    assert waiting.attempts == 1
    assert engine.sync_once().pushed == 1
    assert store.status().pending_changes == 0


def test_a_revoked_device_stops_the_round_and_keeps_its_outbox(
    store: LocalStore, transport: FakeTransport
) -> None:
    save_notes(store, 2)
    transport.error = DeviceUnpaired({"status": 401, "title": "Pair again"})
    transport.script("push", "before")
    with pytest.raises(DeviceUnpaired):
        engine_for(store, transport).sync_once()
    assert store.status().pending_changes == 2
    assert store.sync_history().last_error == "device_not_paired"


# --- photos -----------------------------------------------------------------------------


def test_photos_the_server_lacks_are_uploaded_and_a_refused_one_is_parked(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport
) -> None:
    photos = [store.put_blob(jpeg_photo(n), "image/jpeg") for n in range(4)]
    for photo in photos:
        store.save("photo", new_id(), {"sha256": photo.sha256}, blob_refs=[photo.sha256])
    server.blobs[photos[0].sha256] = b"uploaded by another tablet"
    server.refused_photos.add(photos[1].sha256)

    report = engine_for(store, transport).sync_once()

    assert (report.blobs_uploaded, report.blobs_already_on_server, report.blobs_parked) == (2, 1, 1)
    assert set(server.blobs) == {photos[0].sha256, photos[2].sha256, photos[3].sha256}
    assert transport.calls.count("upload_blob") == 3
    assert store.pending_blobs() == []
    (parked,) = store.parked_blobs()
    assert parked.sha256 == photos[1].sha256 and parked.problem["status"] == 422
    counts = store.status()
    assert (counts.pending_blobs, counts.parked_blobs) == (0, 1)


def test_a_photo_upload_cut_off_is_sent_again_next_round(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport
) -> None:
    photo = store.put_blob(jpeg_photo(7), "image/jpeg")
    store.save("photo", new_id(), {"sha256": photo.sha256}, blob_refs=[photo.sha256])
    transport.script("upload_blob", "before")
    engine = engine_for(store, transport)
    with pytest.raises(ServerUnreachable):
        engine.sync_once()
    assert store.status().pending_blobs == 1
    assert engine.sync_once().blobs_uploaded == 1
    assert server.blobs[photo.sha256] == store.blob_path(photo.sha256).read_bytes()


def test_after_an_upload_error_the_photos_sent_count_and_the_rest_go_next_round(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport
) -> None:
    photos = [store.put_blob(jpeg_photo(n), "image/jpeg") for n in range(6)]
    for photo in photos:
        store.save("photo", new_id(), {"sha256": photo.sha256}, blob_refs=[photo.sha256])
    transport.script("upload_blob", "ok", "ok", "before")  # the third upload is cut off
    engine = engine_for(store, transport)
    with pytest.raises(ServerUnreachable):
        engine.sync_once()
    # Every photo the server took is recorded as sent, even those sent after the error.
    assert store.status().pending_blobs == len(photos) - len(server.blobs)
    engine.sync_once()
    assert set(server.blobs) == {photo.sha256 for photo in photos}
    assert transport.calls.count("upload_blob") == len(photos) + 1  # the one cut off, twice
    assert store.status().pending_blobs == 0 and store.uploads_cut_short() == set()


def test_a_photo_the_server_may_still_be_storing_after_a_crash_is_not_sent_again(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport
) -> None:
    photos = [store.put_blob(jpeg_photo(n), "image/jpeg") for n in range(3)]
    for photo in photos:
        store.save("photo", new_id(), {"sha256": photo.sha256}, blob_refs=[photo.sha256])
    # The app was killed while this photo was on its way: the whole photo reached the
    # server, which stores it while the restarted app first asks which photos it lacks.
    store.note_upload_started(photos[0].sha256)
    asked = server.missing_blobs

    def missing_then_stored(shas: list[str]) -> list[str]:
        answer = asked(shas)
        server.blobs[photos[0].sha256] = store.blob_path(photos[0].sha256).read_bytes()
        return answer

    server.missing_blobs = missing_then_stored  # type: ignore[method-assign]

    report = engine_for(store, transport).sync_once()

    assert (report.blobs_uploaded, report.blobs_already_on_server) == (2, 1)
    assert transport.calls.count("upload_blob") == 2  # asked about again, not sent again
    assert transport.calls.count("missing_blobs") == 2
    assert store.pending_blobs() == [] and store.uploads_cut_short() == set()


# --- pulling ----------------------------------------------------------------------------


def test_pull_reads_pages_until_done_and_keeps_local_edits_that_are_newer(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport, monkeypatch
) -> None:
    visit_id = new_id()
    for n in range(1_200):
        server.server_edit("customer", f"c{n}", {"name": f"Customer {n}"}, server_clock(1_000))
    server.server_edit(
        "visit", visit_id, {"status": "arrived", "concern_text": "?"}, server_clock(1_000)
    )
    engine = engine_for(store, transport)
    report = engine.sync_once()
    assert report.pulled == 1_201
    assert transport.calls.count("pull") == 3  # pages of 500
    assert store.pull_cursor() == server.seq

    local = store.save("visit", visit_id, {"concern_text": "Brake noise"})
    server.server_edit(
        "visit", visit_id, {"concern_text": "stale", "status": "waiting"}, server_clock(2_000)
    )
    # The server cannot settle the local edit in this round, so it is still pending
    # when the round pulls the other tablet's older edit of the same field.
    real_push = server.push
    monkeypatch.setattr(server, "push", lambda changes: not_settled(real_push(changes)))
    engine.sync_once()
    assert store.get("visit", visit_id)["concern_text"] == "Brake noise"
    assert store.get("visit", visit_id)["status"] == "waiting"  # newer on the server

    monkeypatch.setattr(server, "push", real_push)
    assert engine.sync_once().pushed == 1
    assert server.records[("visit", visit_id)]["fields"]["concern_text"] == "Brake noise"
    assert server.records[("visit", visit_id)]["clocks"]["concern_text"] == local.hlc


def server_clock(wall_ms: int, counter: int = 0) -> str:
    return format_hlc(wall_ms, counter, "server")


def not_settled(answer: dict[str, Any]) -> dict[str, Any]:
    for result in answer["results"]:
        result["status"] = 503
    return answer


def test_a_pull_interrupted_between_pages_resumes_from_the_last_applied_page(
    store: LocalStore, server: FakeShopServer, transport: FakeTransport
) -> None:
    for n in range(700):
        server.server_edit("customer", f"c{n}", {"name": "x"}, server_clock(1_000, n))
    transport.script("pull", "ok", "before")
    engine = engine_for(store, transport)
    with pytest.raises(ServerUnreachable):
        engine.sync_once()
    assert store.pull_cursor() == 500
    assert engine.sync_once().pulled == 200
    assert store.pull_cursor() == 700


def test_a_malformed_page_is_not_applied(
    store: LocalStore, transport: FakeTransport, monkeypatch
) -> None:
    page = {"changes": [{"kind": "visit", "id": "v", "fields": {}, "clocks": {"a": "?"}}],
            "next_since": 5, "more": False}  # fmt: skip
    monkeypatch.setattr(transport, "pull", lambda since, limit=500: page)
    with pytest.raises(UnexpectedResponse):
        engine_for(store, transport).sync_once()
    assert store.pull_cursor() == 0


def test_a_kiosk_snapshot_replaces_yesterdays_appointments(
    store: LocalStore, transport: FakeTransport, monkeypatch
) -> None:
    def snapshot(*appointment_ids: str) -> dict[str, Any]:
        return {
            "snapshot": True,
            "changes": [
                {"kind": "appointment", "id": a, "fields": {"plate_masked": "京A·***45"}}
                for a in appointment_ids
            ],
            "next_since": 0,
            "more": False,
        }

    pages = iter([snapshot("a1", "a2"), snapshot("a2", "a3")])
    monkeypatch.setattr(transport, "pull", lambda since, limit=500: next(pages))
    engine = engine_for(store, transport)
    engine.sync_once()
    assert sorted(a["id"] for a in store.find("appointment")) == ["a1", "a2"]
    engine.sync_once()  # the next day
    assert sorted(a["id"] for a in store.find("appointment")) == ["a2", "a3"]
