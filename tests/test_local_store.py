"""The device's local store: nothing entered is lost or half-written, whatever happens."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from kiosk.services.local_store import SCHEMA_VERSION, LocalStore, SyncCounts
from shared.hlc import format_hlc, parse

REPO = Path(__file__).resolve().parents[1]
KIOSK_ID = "7c2a9f4e-1b2d-4c3e-8f00-123456789abc"
VISIT_ID = "4f1e0000-0000-4000-8000-000000000001"
CUSTOMER_ID = "0c0c0000-0000-4000-8000-000000000002"


def new_id() -> str:
    return str(uuid.uuid4())


def jpeg_photo(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small real JPEG; ``seed`` makes each one different."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (seed * 37 % 256, seed * 11 % 256, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def png_signature() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (40, 20), 255).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path / "kiosk", KIOSK_ID) as opened:
        yield opened


def raw_rows(data_dir: Path, sql: str) -> list[tuple]:
    """Read the database file with a connection of its own, as the next app start would."""
    db = sqlite3.connect(data_dir / "device.sqlite3")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


# --- saving ---------------------------------------------------------------------------


def test_a_saved_visit_is_in_the_record_and_the_outbox(store: LocalStore) -> None:
    change = store.save("visit", VISIT_ID, {"concern_text": "Brake noise", "mileage_in_km": 52000})

    assert store.get("visit", VISIT_ID) == {"concern_text": "Brake noise", "mileage_in_km": 52000}
    assert parse(change.hlc).node_id == KIOSK_ID
    (queued,) = store.pending_changes()
    assert queued == change
    assert queued.to_wire() == {
        "change_id": change.change_id,
        "kind": "visit",
        "id": VISIT_ID,
        "hlc": change.hlc,
        "fields": {"concern_text": "Brake noise", "mileage_in_km": 52000},
        "base": {"concern_text": None, "mileage_in_km": None},
    }
    wire_bytes = json.dumps(queued.to_wire(), ensure_ascii=False, separators=(",", ":"))
    assert queued.byte_size == len(wire_bytes.encode())


def test_later_edits_merge_field_by_field_with_their_own_clocks(store: LocalStore) -> None:
    first = store.save("customer", CUSTOMER_ID, {"name": "张伟", "phone": "+8613812345678"})
    second = store.save("customer", CUSTOMER_ID, {"phone": "+8613900000000"})

    assert store.get("customer", CUSTOMER_ID) == {"name": "张伟", "phone": "+8613900000000"}
    assert store.clocks("customer", CUSTOMER_ID) == {"name": first.hlc, "phone": second.hlc}
    assert second.hlc > first.hlc
    assert [c.change_id for c in store.pending_changes()] == [first.change_id, second.change_id]
    # The second edit says which value it knowingly replaced (no conflict on the server).
    assert second.to_wire()["base"] == {"phone": first.hlc}


@pytest.mark.parametrize(
    "fields",
    [{}, {"": 1}, {"odometer_km": float("nan")}, {"arrived": object()}],
)
def test_values_without_a_json_form_are_refused_before_anything_is_written(
    store: LocalStore, fields: dict
) -> None:
    with pytest.raises(ValueError):
        store.save("visit", VISIT_ID, fields)
    assert store.get("visit", VISIT_ID) is None
    assert store.status().pending_changes == 0


def test_failure_inside_the_save_transaction_writes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "kiosk"
    with LocalStore(data_dir, KIOSK_ID) as store:
        kept = store.save("visit", VISIT_ID, {"concern_text": "Brake noise"})
    # The disk fills up (say) just as the outbox row is written: the last step of save().
    db = sqlite3.connect(data_dir / "device.sqlite3")
    db.execute(
        "CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    db.commit()
    db.close()

    with LocalStore(data_dir, KIOSK_ID) as store:
        with pytest.raises(sqlite3.DatabaseError, match="disk full"):
            store.save("visit", VISIT_ID, {"concern_text": "Grinding when braking"})
        assert store.get("visit", VISIT_ID) == {"concern_text": "Brake noise"}
        assert store.clocks("visit", VISIT_ID) == {"concern_text": kept.hlc}
        assert [c.change_id for c in store.pending_changes()] == [kept.change_id]
    assert raw_rows(data_dir, "SELECT value FROM meta WHERE key = 'hlc'") == [(kept.hlc,)]


def _run_device_script(data_dir: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from kiosk.services.local_store import LocalStore
        store = LocalStore({str(data_dir)!r}, {KIOSK_ID!r}, now_ms=lambda: 4_000_000_000_000)
        """
    ) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_power_cut_in_the_middle_of_a_save_leaves_no_trace(tmp_path: Path) -> None:
    data_dir = tmp_path / "kiosk"
    result = _run_device_script(
        data_dir,
        f"""
        store.save("customer", {CUSTOMER_ID!r}, {{"name": "Emily"}})
        # The process dies after the record and the clock were written, before COMMIT.
        store._db.create_function("power_cut", 0, lambda: os.kill(os.getpid(), signal.SIGKILL))
        store._db.execute(
            "CREATE TEMP TRIGGER cut BEFORE INSERT ON outbox BEGIN SELECT power_cut(); END"
        )
        store.save("visit", {VISIT_ID!r}, {{"concern_text": "Brake noise"}})
        print("not reached")
        """,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert "not reached" not in result.stdout

    with LocalStore(data_dir, KIOSK_ID) as store:
        assert store.get("customer", CUSTOMER_ID) == {"name": "Emily"}
        assert store.get("visit", VISIT_ID) is None
        assert [c.kind for c in store.pending_changes()] == ["customer"]


def test_a_committed_save_survives_a_crash_and_the_clock_never_repeats(tmp_path: Path) -> None:
    data_dir = tmp_path / "kiosk"
    result = _run_device_script(
        data_dir,
        f"""
        change = store.save("visit", {VISIT_ID!r}, {{"concern_text": "Brake noise"}})
        print(change.hlc, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no close(), no checkpoint
        """,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    issued_before_crash = result.stdout.strip()

    # The app comes back with its wall clock far behind the one before the crash.
    with LocalStore(data_dir, KIOSK_ID, now_ms=lambda: 1_000) as store:
        assert store.get("visit", VISIT_ID) == {"concern_text": "Brake noise"}
        (queued,) = store.pending_changes()
        assert queued.hlc == issued_before_crash
        after_restart = store.save("visit", VISIT_ID, {"concern_text": "Brake noise, left front"})
    assert after_restart.hlc > issued_before_crash


def test_saves_from_two_threads_get_distinct_clocks_in_commit_order(store: LocalStore) -> None:
    def advisor_edits(prefix: str) -> None:
        for n in range(50):
            store.save("note", new_id(), {"text": f"{prefix} note {n}"})

    threads = [threading.Thread(target=advisor_edits, args=(p,)) for p in ("ui", "sync")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    hlcs = [change.hlc for change in store.pending_changes(limit=1000)]
    assert len(hlcs) == 100
    assert hlcs == sorted(hlcs) and len(set(hlcs)) == 100


def test_store_uses_wal_and_records_its_schema_version(store: LocalStore) -> None:
    rows = raw_rows(store.data_dir, "PRAGMA journal_mode")
    assert rows == [("wal",)]
    assert raw_rows(store.data_dir, "PRAGMA user_version") == [(SCHEMA_VERSION,)]


def test_a_database_from_a_newer_app_is_not_touched(tmp_path: Path) -> None:
    data_dir = tmp_path / "kiosk"
    LocalStore(data_dir, KIOSK_ID).close()
    db = sqlite3.connect(data_dir / "device.sqlite3")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="newer version"):
        LocalStore(data_dir, KIOSK_ID)


# --- photos ---------------------------------------------------------------------------


def test_photo_is_kept_by_content_and_saved_once(store: LocalStore) -> None:
    photo = jpeg_photo()
    info = store.put_blob(photo, "image/jpeg")

    assert info.sha256 == hashlib.sha256(photo).hexdigest()
    assert info.size == len(photo)
    path = store.blob_path(info.sha256)
    assert path == store.data_dir / "blobs" / info.sha256[:2] / info.sha256
    assert path.read_bytes() == photo
    before = path.stat()

    assert store.put_blob(photo, "image/jpeg") == info
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert [p.name for p in path.parent.iterdir()] == [info.sha256]  # no temp files left


def test_a_damaged_photo_file_is_rewritten(store: LocalStore) -> None:
    photo = jpeg_photo()
    info = store.put_blob(photo, "image/jpeg")
    store.blob_path(info.sha256).write_bytes(photo[:100])  # e.g. a bad sector
    store.put_blob(photo, "image/jpeg")
    assert store.blob_path(info.sha256).read_bytes() == photo


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(b"GIF89a....", "image/gif"), (b"hello", "text/plain"), (b"not really a jpeg", "image/jpeg")],
)
def test_only_jpeg_and_png_images_are_kept(
    store: LocalStore, data: bytes, content_type: str
) -> None:
    with pytest.raises(ValueError):
        store.put_blob(data, content_type)
    assert not (store.data_dir / "blobs").exists() or not any((store.data_dir / "blobs").rglob("*"))


def test_a_failed_photo_write_leaves_neither_file_nor_row(
    store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = jpeg_photo()

    def fsync_fails(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fsync_fails)
    with pytest.raises(OSError):
        store.put_blob(photo, "image/jpeg")
    monkeypatch.undo()

    sha = hashlib.sha256(photo).hexdigest()
    assert not store.blob_path(sha).exists()
    assert list((store.data_dir / "blobs").rglob("*.tmp")) == []
    assert store.blob_info(sha) is None
    with pytest.raises(ValueError, match="not in the blob store"):
        store.save("photo", new_id(), {"sha256": sha}, blob_refs=[sha])


def test_a_record_may_only_refer_to_a_stored_photo(store: LocalStore) -> None:
    unknown = "ab" * 32
    with pytest.raises(ValueError, match="put_blob first"):
        store.save("photo", VISIT_ID, {"sha256": unknown}, blob_refs=[unknown])
    assert store.get("photo", VISIT_ID) is None
    assert store.status() == SyncCounts(0, 0, 0, 0, 0)


def test_only_photos_a_record_refers_to_wait_for_upload(store: LocalStore) -> None:
    kept = store.put_blob(jpeg_photo(1), "image/jpeg")
    store.put_blob(jpeg_photo(2), "image/jpeg")  # taken, then discarded by the advisor
    signature = store.put_blob(png_signature(), "image/png")
    store.save("photo", new_id(), {"sha256": kept.sha256}, blob_refs=[kept.sha256])
    store.save(
        "signature", new_id(), {"signed_sha256": signature.sha256}, blob_refs=[signature.sha256]
    )

    assert {b.sha256 for b in store.pending_blobs()} == {kept.sha256, signature.sha256}
    counts = store.status()
    assert (counts.pending_blobs, counts.pending_blob_bytes) == (2, kept.size + signature.size)

    store.mark_blob_uploaded(kept.sha256)
    store.park_blob(signature.sha256, {"status": 422, "title": "Not a valid image"})
    assert store.pending_blobs() == []
    assert store.status().parked_blobs == 1
    (parked,) = store.parked_blobs()
    assert parked.problem["status"] == 422

    store.unpark_blob(signature.sha256)
    assert [b.sha256 for b in store.pending_blobs()] == [signature.sha256]


# --- outbox ---------------------------------------------------------------------------


def test_pending_changes_come_oldest_first_in_bounded_batches(store: LocalStore) -> None:
    changes = [store.save("note", new_id(), {"text": "x" * 100}) for i in range(5)]
    size = changes[0].byte_size

    assert store.pending_changes(limit=3) == changes[:3]
    assert store.pending_changes(max_bytes=2 * size + 1) == changes[:2]
    # A change larger than a whole batch still goes, alone, rather than block the queue.
    assert store.pending_changes(max_bytes=10) == changes[:1]


def test_a_parked_change_does_not_block_later_ones(store: LocalStore) -> None:
    refused = store.save("visit", VISIT_ID, {"mileage_in_km": -5})
    later = [store.save("note", new_id(), {"text": "ok"}) for i in range(2)]
    problem = {"status": 422, "title": "Some fields need attention", "errors": []}

    store.park(refused.change_id, problem)

    assert store.pending_changes() == later
    (parked,) = store.parked()
    assert (parked.change_id, parked.state, parked.problem, parked.attempts) == (
        refused.change_id,
        "parked",
        problem,
        1,
    )
    assert store.status() == SyncCounts(2, sum(c.byte_size for c in later), 0, 0, 1)

    store.unpark(refused.change_id)  # staff pressed "retry"
    assert [c.change_id for c in store.pending_changes()] == [
        refused.change_id,
        *(c.change_id for c in later),
    ]
    assert store.parked() == []


def test_acknowledged_changes_leave_the_outbox_but_the_record_stays(store: LocalStore) -> None:
    first = store.save("visit", VISIT_ID, {"concern_text": "Brake noise"})
    second = store.save("note", new_id(), {"text": "Customer waits in the lobby"})
    assert store.acknowledge([first.change_id, "not-a-change"]) == 1
    assert store.pending_changes() == [second]
    assert store.get("visit", VISIT_ID) == {"concern_text": "Brake noise"}
    assert store.acknowledge([first.change_id]) == 0  # a repeated answer is harmless


# --- pulling --------------------------------------------------------------------------


def server_clock(wall_ms: int, counter: int = 0) -> str:
    return format_hlc(wall_ms, counter, "server")


def test_pulled_fields_win_only_when_their_clock_is_newer(tmp_path: Path) -> None:
    with LocalStore(tmp_path / "tablet", KIOSK_ID, now_ms=lambda: 2_000) as store:
        local = store.save("visit", VISIT_ID, {"concern_text": "Brake noise", "status": "arrived"})
        page = [
            {
                "seq": 7,
                "kind": "visit",
                "id": VISIT_ID,
                "fields": {
                    "concern_text": "Old text from another tablet",
                    "status": "in_progress",
                    "advisor_user_id": 3,
                },
                "clocks": {
                    "concern_text": server_clock(1_000),  # older than the local edit
                    "status": server_clock(3_000),  # newer: the workshop moved it on
                    "advisor_user_id": server_clock(1_500),
                },
            }
        ]
        assert store.apply_pulled(page, next_since=7) == 1

        assert store.get("visit", VISIT_ID) == {
            "concern_text": "Brake noise",
            "status": "in_progress",
            "advisor_user_id": 3,
        }
        assert store.clocks("visit", VISIT_ID)["concern_text"] == local.hlc
        assert store.pull_cursor() == 7
        # The local edit is still queued for the server.
        assert [c.change_id for c in store.pending_changes()] == [local.change_id]

        # The same page again (the answer was lost, the cursor not yet moved): no change.
        assert store.apply_pulled(page, next_since=7) == 0
        assert store.get("visit", VISIT_ID)["status"] == "in_progress"

        # The clock has seen the server's 3_000: the next local edit orders after it.
        assert store.save("visit", VISIT_ID, {"status": "waiting"}).hlc > server_clock(3_000)


def test_a_page_merges_all_its_records_at_once_each_by_its_clocks(tmp_path: Path) -> None:
    """A page is read and written in a few statements: records known here and new ones,
    one named twice (a page and its related records), each field by its clock."""
    with LocalStore(tmp_path / "tablet", KIOSK_ID, now_ms=lambda: 2_000) as store:
        store.save("visit", VISIT_ID, {"concern_text": "Brake noise"})
        other = str(uuid.uuid4())
        page = [
            {"seq": 3, "kind": "customer", "id": other, "fields": {"name": "Wang"},
             "clocks": {"name": server_clock(1_000)}},
            {"seq": 4, "kind": "visit", "id": VISIT_ID,
             "fields": {"concern_text": "Old", "status": "in_progress"},
             "clocks": {"concern_text": server_clock(1_000), "status": server_clock(3_000)}},
            {"seq": 5, "kind": "customer", "id": other, "fields": {"name": "Wang Fang"},
             "clocks": {"name": server_clock(4_000)}},
        ]  # fmt: skip
        assert store.apply_pulled(page, next_since=5) == 2
        assert store.get("customer", other) == {"name": "Wang Fang"}
        visit = store.get("visit", VISIT_ID)
        assert visit == {"concern_text": "Brake noise", "status": "in_progress"}
        assert store.pull_cursor() == 5
        assert store.save("customer", other, {"phone": "1"}).hlc > server_clock(4_000)


def test_a_malformed_page_changes_nothing(store: LocalStore) -> None:
    good = {"kind": "appointment", "id": "a1", "fields": {"code": "Q7M4KX"}, "clocks": {}}
    bad = {"kind": "appointment", "id": "a2", "fields": {"code": "X"}, "clocks": {"code": "soon"}}
    with pytest.raises(ValueError, match="a2"):
        store.apply_pulled([good, bad], next_since=9)
    assert store.get("appointment", "a1") is None
    assert store.pull_cursor() == 0


def test_find_matches_exact_values_of_pulled_appointments(store: LocalStore) -> None:
    appointments = [
        {"kind": "appointment", "id": "a1", "fields": {"plate_hash": "h1", "confirmed": True}},
        {"kind": "appointment", "id": "a2", "fields": {"plate_hash": "h2", "confirmed": 1}},
        {"kind": "appointment", "id": "a3", "fields": {"plate_hash": "h1", "confirmed": False}},
    ]
    store.apply_pulled(appointments, next_since=3)

    assert [a["id"] for a in store.find("appointment", plate_hash="h1", confirmed=True)] == ["a1"]
    assert [a["id"] for a in store.find("appointment", confirmed=1)] == ["a2"]
    assert sorted(a["id"] for a in store.find("appointment", plate_hash="h1")) == ["a1", "a3"]
    assert store.find("appointment", plate_hash="h1 ") == []
    assert store.find("visit") == []


def test_sync_history_survives_a_restart(tmp_path: Path) -> None:
    with LocalStore(tmp_path / "kiosk", KIOSK_ID) as store:
        store.note_sync_error("server_unreachable", "connection refused")
        store.note_sync_success()
        store.note_sync_error("server_unreachable", "timed out")
    with LocalStore(tmp_path / "kiosk", KIOSK_ID) as store:
        history = store.sync_history()
    assert history.last_success_at is not None
    assert (history.last_error, history.last_error_detail) == ("server_unreachable", "timed out")


@pytest.mark.parametrize("record_id", ["c1", VISIT_ID.upper(), "", f"{VISIT_ID} "])
def test_record_ids_must_be_device_made_uuids(store: LocalStore, record_id: str) -> None:
    with pytest.raises(ValueError, match="UUID"):
        store.save("visit", record_id, {"concern_text": "Brake noise"})
