"""Bad input gets a clear 4xx problem document, stores nothing, does not blow the server's
memory, and the server keeps serving: a real ``checkin-server`` process on loopback (the
``live_server`` fixture: SQLite, and PostgreSQL too when ``TEST_DATABASE_URL`` is set).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import requests
from live_server import LiveServer, live_server_fixture  # noqa: F401
from PIL import Image
from server_fixtures import bearer
from sync_changes import fields_of
from sync_workload import blob_dir, jpeg_photo, new_id, scalar

from kiosk.services.sync import (
    API_PREFIX,
)
from shared import domain


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid PNG of ``width`` × ``height`` black pixels (1 bit each): tiny on the wire."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then the row's pixels
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def assert_problem(response: requests.Response, *statuses: int) -> dict[str, Any]:
    """A 4xx problem document (RFC 9457) with a title, and one of the expected statuses."""
    with response:
        assert response.status_code in statuses, (response.status_code, response.text[:300])
        status = response.status_code
        assert response.headers["Content-Type"].startswith("application/problem+json")
        problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["type"]
    return problem


def test_bad_input_gets_a_clear_refusal_and_stores_nothing(
    live_server: LiveServer, tmp_path: Path
) -> None:
    token = live_server.pair("tablet")
    headers = {**bearer(token), "Accept": "application/json, application/problem+json"}
    api = live_server.url + API_PREFIX
    session = requests.Session()
    session.headers.update(headers)

    def push_raw(body: bytes, content_type: str = "application/json") -> requests.Response:
        return session.post(
            f"{api}/sync/push", data=body, headers={"Content-Type": content_type}, timeout=30
        )

    def put_photo(sha: str, data: bytes, content_type: str = "image/jpeg") -> requests.Response:
        return session.put(
            f"{api}/blobs/{sha}", data=data, headers={"Content-Type": content_type}, timeout=60
        )

    customer = domain.Customer(name="Li Lei", phone="+8613812345678")
    good_change = {
        "change_id": new_id(),
        "kind": "customer",
        "id": customer.id,
        "hlc": "0001790000000000-0000-tablet",
        "fields": fields_of(customer),
    }
    try:
        # Malformed JSON, a body that is not an object, the wrong media type.
        assert_problem(push_raw(b'{"schema": 1, "changes": [{'), 400)
        assert_problem(push_raw(b"[1, 2, 3]"), 400)
        assert_problem(push_raw(b"schema=1", "application/x-www-form-urlencoded"), 415)
        # Wrong types for the envelope; an unknown schema version.
        for body in ({"schema": "1", "changes": []}, {"schema": 1, "changes": {"a": 1}}):
            assert_problem(push_raw(json.dumps(body).encode()), 400)
        problem = assert_problem(
            push_raw(json.dumps({"schema": 99, "changes": [good_change]}).encode()), 400
        )
        assert problem["type"].endswith("schema-unsupported")
        # Wrong types inside changes: each refused on its own with a problem, none kept.
        wrong = [
            {**good_change, "change_id": 5},
            {**good_change, "change_id": new_id(), "fields": "name=Li"},
            {**good_change, "change_id": new_id(), "hlc": 17},
            {**good_change, "change_id": new_id(), "fields": {**good_change["fields"], "name": 7}},
            {**good_change, "change_id": new_id(), "kind": "invoice"},
        ]
        with push_raw(json.dumps({"schema": 1, "changes": wrong}).encode()) as response:
            assert response.status_code == 200
            results = response.json()["results"]
        assert [result["status"] for result in results] == [422] * len(wrong)
        assert all(result["problem"]["title"] for result in results)
        # More than the 2 MiB a push may carry.
        padding = "x" * (3 * 1024 * 1024)
        oversized = {"schema": 1, "changes": [{**good_change, "fields": {"notes": padding}}]}
        assert_problem(push_raw(json.dumps(oversized).encode()), 413)

        # Photos: a wrong hash, a truncated JPEG, a non-image, a type that is not taken,
        # one above the upload limit.
        photo = jpeg_photo(7)
        other_sha = sha256_of(jpeg_photo(8))
        assert_problem(put_photo(other_sha, photo), 422)
        truncated = photo[: len(photo) // 2]
        assert_problem(put_photo(sha256_of(truncated), truncated), 422)
        text_file = b"this is not a photo, just a note\n" * 100
        assert_problem(put_photo(sha256_of(text_file), text_file), 415, 422)
        assert_problem(put_photo(sha256_of(text_file), text_file, "text/plain"), 415)
        png_as_jpeg = io.BytesIO()
        Image.new("RGB", (40, 30), "red").save(png_as_jpeg, "PNG")
        assert_problem(put_photo(sha256_of(png_as_jpeg.getvalue()), png_as_jpeg.getvalue()), 415)
        huge = b"\xff\xd8\xff" + bytes(26 * 1024 * 1024)
        assert_problem(put_photo(sha256_of(huge), huge), 413)

        # A pixel bomb: 400 megapixels in a ~50 kB PNG. Refused from its header, without
        # the server's memory growing by what decoding it would take (~400 MB and more).
        bomb = png_bomb()
        assert len(bomb) < 1_000_000
        pid = live_server.pid
        assert pid is not None
        before = rss_kib(pid)
        problem = assert_problem(put_photo(sha256_of(bomb), bomb, "image/png"), 422)
        assert problem["type"].endswith("image-too-many-pixels")
        grown_mib = (rss_kib(pid) - before) / 1024
        print(f"server RSS grew by {grown_mib:.1f} MiB for the pixel bomb")
        assert grown_mib < 150

        # Nothing of all that was kept, anywhere.
        for table in ("applied_changes", "sync_records", "blobs", "field_conflicts"):
            assert scalar(live_server, f"SELECT count(*) FROM {table}") == 0, table
        files = [path for path in blob_dir(live_server).rglob("*") if path.is_file()]
        assert files == []

        # And it keeps serving: healthy, and the good change goes through.
        with session.get(f"{api}/health", timeout=10) as health:
            assert health.status_code == 200
        with push_raw(json.dumps({"schema": 1, "changes": [good_change]}).encode()) as response:
            assert response.status_code == 200
            assert response.json()["results"][0]["status"] == 201
        assert_problem(put_photo(other_sha, photo), 422)  # still refused after all that
        assert pid == live_server.pid and live_server.running
    finally:
        session.close()
