"""What a busy tablet saves, and how to check that the server got exactly that.

Helpers for ``test_sync_faults.py``: :func:`save_workload` saves check-ins (customer,
vehicle, visit, a later edit of the visit, a note) and distinct small JPEG photos as
``photo`` records through a real :class:`LocalStore`; :func:`assert_server_matches`
compares the device's records with the server's rows, photo files included, byte for
byte by SHA-256. :func:`fast_transport` is a :class:`SyncTransport` with a short retry
budget (one connection per request, so a fault proxy sees every request).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from live_server import LiveServer
from PIL import Image
from sqlalchemy import text
from sync_changes import fields_of
from urllib3.util import Retry

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import SyncTransport
from shared import domain

# The kinds a device sends in these tests (the server also keeps its own kinds).
WORKLOAD_KINDS = ("customer", "vehicle", "visit", "photo", "note")


def new_id() -> str:
    return str(uuid.uuid4())


def short_retry() -> Retry:
    """A few quick retries: tests want a failing round to end fast and start again."""
    return Retry(
        total=2,
        connect=2,
        read=2,
        backoff_factor=0.02,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=None,
        raise_on_status=False,
    )


def fast_transport(url: str, token: str, *, fresh_connections: bool = False) -> SyncTransport:
    """A transport with a short retry budget and short timeouts.

    ``fresh_connections`` sends ``Connection: close`` so each request gets its own TCP
    connection, and a fault proxy (which picks a fault per connection) sees each one.
    """
    transport = SyncTransport(url, token, timeout=(1, 10), retry=short_retry())
    if fresh_connections:
        transport.session.headers["Connection"] = "close"
    return transport


def jpeg_photo(seed: int) -> bytes:
    """A small JPEG (200–400 px wide), different for every seed."""
    rng = random.Random(seed)
    width, height = rng.randint(200, 400), rng.randint(150, 300)
    # A coarse random pattern scaled up: cheap to make and to decode, never the same twice.
    tiles = Image.frombytes("RGB", (16, 12), rng.randbytes(16 * 12 * 3))
    photo = tiles.resize((width, height), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


@dataclass
class Workload:
    """What was saved on the device: every change id and every photo hash."""

    change_ids: list[str] = field(default_factory=list)
    visit_ids: list[str] = field(default_factory=list)
    photo_shas: list[str] = field(default_factory=list)


def save_workload(
    store: LocalStore, visits: int, photos: int, *, seed: int = 0, device: str = ""
) -> Workload:
    """Save ``visits`` check-ins and ``photos`` photos spread over them, as a tablet would."""
    work = Workload()
    for n in range(visits):
        customer = domain.Customer(name=f"Customer {seed}-{n}", phone="+8613812345678")
        vehicle = domain.Vehicle(customer_id=customer.id, plate=f"京A{n:05d}")
        visit = domain.Visit(
            ticket_number=f"T-{n:03d}",
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            concern_text="Brake noise",
            checked_in_device_id=device or None,
        )
        for kind, record in (("customer", customer), ("vehicle", vehicle), ("visit", visit)):
            work.change_ids.append(store.save(kind, record.id, fields_of(record)).change_id)
        # A second edit of the same record: both changes must arrive, once each.
        work.change_ids.append(
            store.save("visit", visit.id, {"concern_text": f"Brake noise, visit {n}"}).change_id
        )
        note = domain.VisitNote(visit_id=visit.id, text=f"Customer waits, visit {n}")
        work.change_ids.append(store.save("note", note.id, fields_of(note)).change_id)
        work.visit_ids.append(visit.id)
    for n in range(photos):
        data = jpeg_photo(seed * 100_000 + n)
        blob = store.put_blob(data, "image/jpeg")
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
        photo = domain.VisitPhoto(
            visit_id=work.visit_ids[n % len(work.visit_ids)],
            image=domain.PhotoRef(
                sha256=blob.sha256,
                size_bytes=blob.size,
                content_type=domain.ImageType.jpeg,
                width=width,
                height=height,
            ),
            caption=f"photo {n}",
        )
        saved = store.save("photo", photo.id, fields_of(photo), blob_refs=[blob.sha256])
        work.change_ids.append(saved.change_id)
        work.photo_shas.append(blob.sha256)
    return work


# --- reading both sides ----------------------------------------------------------------


def device_records(data_dir: Path) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]:
    """``{(kind, id): (fields, clocks)}`` as the device's database holds them."""
    with sqlite3.connect(data_dir / "device.sqlite3") as connection:
        rows = connection.execute("SELECT kind, id, fields, clocks FROM records").fetchall()
    connection.close()
    return {(kind, rid): (json.loads(f), json.loads(c)) for kind, rid, f, c in rows}


def server_records(
    server: LiveServer, kinds: Iterable[str] = WORKLOAD_KINDS
) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]:
    """``{(kind, id): (fields, clocks)}`` as the server's database holds them."""
    wanted = sorted(kinds)
    with server.db_engine().connect() as connection:
        rows = connection.execute(text("SELECT kind, id, fields, clocks FROM sync_records")).all()
    found: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for kind, rid, fields, clocks in rows:
        if kind in wanted:
            fields = json.loads(fields) if isinstance(fields, str) else fields
            clocks = json.loads(clocks) if isinstance(clocks, str) else clocks
            found[(kind, rid)] = (fields, clocks)
    return found


def scalar(server: LiveServer, sql: str, **params: Any) -> Any:
    with server.db_engine().connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def column(server: LiveServer, sql: str, **params: Any) -> list[Any]:
    with server.db_engine().connect() as connection:
        return list(connection.execute(text(sql), params).scalars())


def blob_dir(server: LiveServer) -> Path:
    return server.instance_path / "blobs"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def without_id(values: dict[str, Any]) -> dict[str, Any]:
    """The record's fields or clocks but its id (the feed sends the id as a field, clockless)."""
    return {name: value for name, value in values.items() if name != "id"}


def assert_server_matches(server: LiveServer, data_dir: Path, work: Workload) -> None:
    """The server holds exactly what the device saved: once each, photos byte-identical.

    - the same set of records, with the same fields and clocks, as the device;
    - each saved change applied exactly once (an ``applied_changes`` row per change id,
      no others from this device), and one typed row per visit;
    - every photo a record refers to is stored, and its file has exactly its SHA-256.
    """
    device = device_records(data_dir)
    on_server = server_records(server)
    assert set(on_server) == set(device), (
        f"missing on server: {sorted(set(device) - set(on_server))[:5]}, "
        f"unknown to device: {sorted(set(on_server) - set(device))[:5]}"
    )
    for key, (fields, clocks) in device.items():
        server_fields, server_clocks = on_server[key]
        assert without_id(server_fields) == without_id(fields), key
        assert without_id(server_clocks) == without_id(clocks), key

    applied = column(server, "SELECT change_id FROM applied_changes")
    assert len(applied) == len(set(applied))
    assert set(applied) == set(work.change_ids)
    assert scalar(server, "SELECT count(*) FROM visits") == len(work.visit_ids)

    stored = set(column(server, "SELECT sha256 FROM blobs"))
    assert stored == set(work.photo_shas)
    referenced = {
        fields["image"]["sha256"] for (kind, _), (fields, _) in on_server.items() if kind == "photo"
    }
    assert referenced == set(work.photo_shas), "a photo record points at a missing photo"
    originals = blob_dir(server) / "originals"
    for sha in work.photo_shas:
        assert file_sha256(originals / sha[:2] / sha) == sha
    # Nothing half-written was left behind (temp files of cut uploads are removed).
    assert not list((blob_dir(server) / "incoming").iterdir())
    on_disk = {path.name for path in originals.glob("*/*")}
    assert on_disk == set(work.photo_shas)


def assert_device_drained(store: LocalStore) -> None:
    """Nothing waits in the device's queue and nothing was parked."""
    counts = store.status()
    assert (counts.pending_changes, counts.pending_blobs) == (0, 0), counts
    assert (counts.parked, counts.parked_blobs) == (0, 0), store.parked()
