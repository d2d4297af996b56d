"""The server's disk is full (issue 10, item 17): a push and a photo upload answer 507
with a problem that says so, nothing half-saved; the device keeps everything, shows it,
and sends it all once space is back."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from server_fixtures import Shop, bearer
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sync_changes import push, walk_in

from kiosk.services.local_store import LocalStore
from kiosk.services.server_client import SERVER_OUT_OF_SPACE
from kiosk.services.sync import ServerOutOfSpace, SyncEngine, SyncState, SyncTransport
from kiosk.services.sync_progress import SyncProgress
from sync_server import db
from sync_server.sync.tables import Blob, SyncRecord


def _fill_the_disk(engine: Engine) -> Any:
    """Make the database refuse to grow, as on a full disk; returns how to undo it."""
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS filler (data BLOB)"))
        with engine.connect() as connection:
            pages = connection.execute(text("PRAGMA page_count")).scalar_one()

        def cap(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

        event.listen(engine, "connect", cap)
        engine.dispose()
        # Fill the free room inside the pages too, until not one more byte fits.
        with engine.connect() as connection:
            for size in (4096, 512, 64, 8, 1):
                try:
                    while True:
                        connection.execute(
                            text("INSERT INTO filler VALUES (randomblob(:n))"), {"n": size}
                        )
                        connection.commit()
                except OperationalError as full:
                    assert "full" in str(full)
                    connection.rollback()

        def undo() -> None:
            event.remove(engine, "connect", cap)
            engine.dispose()

        return undo
    with engine.begin() as connection:  # PostgreSQL's own error for a full disk: 53100
        connection.execute(
            text(
                "CREATE FUNCTION disk_is_full() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'could not extend file: No space left on device' "
                "USING ERRCODE = 'disk_full'; END $$ LANGUAGE plpgsql"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER disk_is_full BEFORE INSERT ON sync_records "
                "FOR EACH ROW EXECUTE FUNCTION disk_is_full()"
            )
        )

    def undo_postgres() -> None:
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER disk_is_full ON sync_records"))
            connection.execute(text("DROP FUNCTION disk_is_full()"))

    return undo_postgres


def _records(app: Flask) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(SyncRecord)) or 0


def test_a_push_on_a_full_disk_is_a_507_and_saves_nothing(
    app: Flask, client: FlaskClient, shop: Shop
) -> None:
    token = shop.device_token("kiosk")
    # Fifty check-ins: more than the free room left inside the tables' pages.
    changes = [one for n in range(50) for one in walk_in(1_700_000_000_000 + n * 10)[0]]
    before = _records(app)
    undo = _fill_the_disk(app.extensions["db_engine"])
    try:
        answer = push(client, token, changes)
        assert answer.status_code == 507, answer.json
        assert answer.json["type"].endswith("/server-out-of-space")
        assert "disk is full" in answer.json["detail"]
        assert int(answer.headers["Retry-After"]) > 0
        zh = client.post(
            "/api/v1/sync/push",
            json={"schema": 1, "changes": changes},
            headers={**bearer(token), "Accept-Language": "zh-CN"},
        )
        assert zh.status_code == 507 and "磁盘已满" in zh.json["detail"]
    finally:
        undo()
    assert _records(app) == before
    again = push(client, token, changes)  # space is back: the same batch goes in
    assert again.status_code == 200
    assert [result["status"] for result in again.json["results"]] == [201] * len(changes)


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_photo_upload_on_a_full_disk_is_a_507_and_keeps_no_part(
    app: Flask, client: FlaskClient, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sync_server.sync.blobs as blobs

    token = shop.device_token("tablet")
    data = _jpeg()
    digest = hashlib.sha256(data).hexdigest()

    def no_space(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(blobs.os, "fsync", no_space)
        answer = client.put(
            f"/api/v1/blobs/{digest}", data=data, content_type="image/jpeg", headers=bearer(token)
        )
    assert answer.status_code == 507, answer.json
    assert answer.json["type"].endswith("/server-out-of-space")
    store = app.extensions["blob_store"]
    assert not store.original_path(digest).exists()
    assert list(store.incoming.iterdir()) == []
    with app.app_context():
        assert db.session().get(Blob, digest) is None
    stored = client.put(
        f"/api/v1/blobs/{digest}", data=data, content_type="image/jpeg", headers=bearer(token)
    )
    assert stored.status_code == 201


class _FullServer(BaseHTTPRequestHandler):
    """A server whose disk is full: every call answers as ours does then."""

    def _full(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(
            {
                "type": "https://service-lane.example/problems/server-out-of-space",
                "title": "The server is out of disk space",
                "status": 507,
            }
        ).encode()
        self.send_response(507)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Retry-After", "300")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _full

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def full_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FullServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_the_device_keeps_everything_and_says_the_server_is_full(
    full_server: str, tmp_path: Path
) -> None:
    with (
        LocalStore(tmp_path / "tablet", "5fb948a1-9175-4180-b109-09ea7cfa1271") as store,
        SyncTransport(full_server, "token") as transport,
    ):
        for n in range(3):
            store.save("note", str(uuid.uuid4()), {"text": f"note {n}"})
        with pytest.raises(ServerOutOfSpace):
            SyncEngine(store, transport).sync_once()
        counts, history = store.status(), store.sync_history()
        assert counts.pending_changes == 3 and counts.parked == 0
        assert history.last_error == SERVER_OUT_OF_SPACE
    progress = SyncProgress()
    reading = progress.update(
        SyncState(
            pending_changes=counts.pending_changes,
            pending_bytes=counts.pending_bytes,
            last_error=history.last_error,
        )
    )
    assert reading.problem
    assert reading.detail is not None
    assert "disk is full" in reading.detail.render("en")
    assert "磁盘已满" in reading.detail.render("zh_CN")
