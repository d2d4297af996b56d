"""The server side of photo sync, through the test client: an upload is checked (hash,
type, pixels, size) before it is kept, a visit's photos stay pending until uploaded, and a
refused photo leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from server_fixtures import Shop, bearer
from sync_changes import change, fields_of, push, walk_in

from shared import domain
from sync_server import db
from sync_server.sync.tables import Blob


def jpeg_bytes(width: int = 640, height: int = 480, seed: int = 1) -> bytes:
    image = Image.new("RGB", (width, height), (seed * 40 % 256, 90, 160))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_photo_upload_verified_and_pending_until_then(client: FlaskClient, shop: Shop) -> None:
    token = shop.device_token("tablet")
    changes, visit_id = walk_in()
    data = jpeg_bytes()
    photo = domain.VisitPhoto(
        visit_id=visit_id,
        image=domain.PhotoRef(
            sha256=sha(data),
            size_bytes=len(data),
            content_type=domain.ImageType.jpeg,
            width=640,
            height=480,
        ),
    )
    answer = push(
        client, token, [*changes, change("photo", photo.id, fields_of(photo), 1_700_000_300_000)]
    )
    assert answer.json["missing_blobs"] == [sha(data)]
    shop.login(client, role="advisor")
    pending = client.get(f"/api/v1/records/photo/{photo.id}").json
    assert pending["photos"] == [{"sha256": sha(data), "state": "pending"}]
    assert client.get(f"/api/v1/blobs/{sha(data)}").status_code == 404

    stored = client.put(
        f"/api/v1/blobs/{sha(data)}", data=data, content_type="image/jpeg", headers=bearer(token)
    )
    assert stored.status_code == 201
    assert (
        client.put(
            f"/api/v1/blobs/{sha(data)}",
            data=data,
            content_type="image/jpeg",
            headers=bearer(token),
        ).status_code
        == 200
    )
    assert client.get(f"/api/v1/records/photo/{photo.id}").json["photos"][0]["state"] == "stored"
    with client.get(f"/api/v1/blobs/{sha(data)}") as original:
        assert original.data == data
    with client.get(f"/api/v1/blobs/{sha(data)}/thumbnail") as thumbnail:
        assert max(Image.open(io.BytesIO(thumbnail.data)).size) == 320
    missing = client.post(
        "/api/v1/blobs/missing", json={"sha256": [sha(data), "a" * 64]}, headers=bearer(token)
    )
    assert missing.json["missing"] == ["a" * 64]


def png_bytes(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "content_type", "status", "kind"),
    [
        ("wrong hash", lambda: (jpeg_bytes(), "0" * 64), "image/jpeg", 422, "hash-mismatch"),
        (
            "truncated jpeg",
            lambda: (jpeg_bytes(800, 600)[:-2000], None),
            "image/jpeg",
            422,
            "image-unreadable",
        ),
        (
            "not an image",
            lambda: (b"%PDF-1.4 not a photo" * 50, None),
            "image/jpeg",
            422,
            "image-unreadable",
        ),
        ("gif", lambda: (b"GIF89a" + bytes(100), None), "image/gif", 415, "image-type"),
        ("png claiming jpeg", lambda: (png_bytes(10, 10), None), "image/jpeg", 415, "image-type"),
        (
            "pixel bomb",
            lambda: (png_bytes(20_000, 20_000), None),
            "image/png",
            422,
            "image-too-many-pixels",
        ),
    ],
)
def test_bad_photos_are_refused_and_nothing_is_kept(
    app: Flask,
    client: FlaskClient,
    shop: Shop,
    name: str,
    make: Any,
    content_type: str,
    status: int,
    kind: str,
) -> None:
    token = shop.device_token("tablet")
    data, claimed = make()
    digest = claimed or sha(data)
    answer = client.put(
        f"/api/v1/blobs/{digest}", data=data, content_type=content_type, headers=bearer(token)
    )
    assert answer.status_code == status, (name, answer.json)
    assert answer.json["type"].endswith("/" + kind)
    store = app.extensions["blob_store"]
    assert not store.original_path(digest).exists()
    assert list(store.incoming.iterdir()) == []
    with app.app_context():
        assert db.session().get(Blob, digest) is None
    assert client.get("/api/v1/health").status_code == 200


def test_oversized_photo_gets_413(client: FlaskClient, shop: Shop) -> None:
    token = shop.device_token("tablet")
    answer = client.put(
        "/api/v1/blobs/" + "b" * 64,
        data=b"\xff" * (26 * 1024 * 1024),
        content_type="image/jpeg",
        headers=bearer(token),
    )
    assert answer.status_code == 413
