"""Photos as answers to a browser or a device: the original or its thumbnail, read from
the blob store. Used by the sync API and by the customer's approval page."""

from __future__ import annotations

from flask import Response, current_app, send_file

from shared.i18n import Text
from shared.sync_protocol import is_sha256
from sync_server import db
from sync_server.models import Blob
from sync_server.problems import Problem
from sync_server.sync.blobs import BlobStore


def blob_store() -> BlobStore:
    """The app's blob store (made by ``sync.api.init_app``)."""
    return current_app.extensions["blob_store"]


def send_photo(sha256: str, *, thumbnail: bool) -> Response:
    """The photo (or its JPEG thumbnail) as a long-cached answer, or a problem saying
    why not; the caller has checked who may see it."""
    blob = db.session().get(Blob, sha256) if is_sha256(sha256) else None
    if blob is None:
        raise Problem(
            404,
            "photo-pending",
            Text(
                "This photo has not reached the server yet; it will appear when the device syncs.",
                "server",
            ),
        )
    store = blob_store()
    path = store.original_path(sha256)
    if thumbnail:
        try:
            path = store.make_thumbnail(sha256)
        except (OSError, ValueError, SyntaxError):
            raise Problem(
                422,
                "image-unreadable",
                Text("This photo is damaged and cannot be shown. Take it again.", "server"),
            ) from None
    mimetype = "image/jpeg" if thumbnail else blob.content_type
    response = send_file(path, mimetype=mimetype, etag=sha256, max_age=31_536_000)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
