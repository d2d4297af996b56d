"""Uploaded photos are fully decoded: a file cut short with its end marker put back is
refused 422 and nothing is kept (issue 10, item 14)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageDraw
from server_fixtures import Shop, bearer

from sync_server import db
from sync_server.sync.tables import Blob


def _photo(image_format: str) -> bytes:
    image = Image.new("RGB", (800, 600), (200, 210, 222))
    draw = ImageDraw.Draw(image)
    for step in range(0, 800, 16):
        draw.line((step, 0, 800 - step, 600), fill=(step % 255, 90, 160), width=3)
    buffer = io.BytesIO()
    image.save(buffer, image_format, quality=85)
    return buffer.getvalue()


def _cut_jpeg_with_end_marker() -> bytes:
    whole = _photo("JPEG")
    return whole[: len(whole) * 2 // 3] + b"\xff\xd9"


def _cut_png_with_iend() -> bytes:
    whole = _photo("PNG")
    return whole[: len(whole) * 2 // 3] + whole[-12:]  # the IEND chunk, 12 bytes


@pytest.mark.parametrize(
    ("make", "content_type"),
    [
        (_cut_jpeg_with_end_marker, "image/jpeg"),
        (_cut_png_with_iend, "image/png"),
    ],
    ids=["jpeg cut short, end marker appended", "png cut short, IEND appended"],
)
def test_a_damaged_photo_is_refused_and_nothing_kept(
    app: Flask, client: FlaskClient, shop: Shop, make: Callable[[], bytes], content_type: str
) -> None:
    data = make()
    digest = hashlib.sha256(data).hexdigest()
    answer = client.put(
        f"/api/v1/blobs/{digest}",
        data=data,
        content_type=content_type,
        headers=bearer(shop.device_token("tablet")),
    )
    assert answer.status_code == 422, answer.json
    assert answer.json["type"].endswith("/image-unreadable")
    store = app.extensions["blob_store"]
    assert not store.original_path(digest).exists()
    with app.app_context():
        assert db.session().get(Blob, digest) is None


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_a_whole_photo_is_stored_and_its_thumbnail_made(
    client: FlaskClient, shop: Shop, image_format: str
) -> None:
    data = _photo(image_format)
    digest = hashlib.sha256(data).hexdigest()
    token = bearer(shop.device_token("tablet"))
    answer = client.put(
        f"/api/v1/blobs/{digest}",
        data=data,
        content_type=f"image/{image_format.lower()}",
        headers=token,
    )
    assert answer.status_code == 201, answer.json
    shop.login(client)
    with client.get(f"/api/v1/blobs/{digest}/thumbnail") as thumbnail:
        assert thumbnail.status_code == 200
        assert max(Image.open(io.BytesIO(thumbnail.data)).size) == 320
