"""Photos as answers to a browser or a device: the original or its thumbnail, read from
the blob store. Used by the sync API and by the customer's approval page.

Photos in a bucket are streamed through the server, not handed out as presigned URLs:
every look passes the same access check as today (a device token, a staff session, a
customer's approval link), no link to a photo outlives the page that showed it, and the
bucket need not be reachable from customers' phones or the shop's tablets.
"""

from __future__ import annotations

import io
import logging

from flask import Response, current_app, request, send_file

from shared.i18n import Text
from shared.sync_protocol import is_sha256
from sync_server import db
from sync_server.problems import Problem, logged_path, problem_response
from sync_server.sync.blobs import BlobMissing, BlobStore, PhotoStoreUnavailable
from sync_server.sync.tables import Blob

log = logging.getLogger(__name__)

CACHE_CONTROL = "private, max-age=31536000, immutable"
# A photo store that is down: devices try again after this.
PHOTO_STORE_RETRY_S = 60


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
    mimetype = "image/jpeg" if thumbnail else blob.content_type
    if sha256 in request.if_none_match:  # a photo never changes: the browser's copy is it
        response = Response(status=304)
        response.set_etag(sha256)
    elif thumbnail:
        try:
            data = blob_store().thumbnail_bytes(sha256)
        except (BlobMissing, FileNotFoundError):
            raise _lost() from None
        except (OSError, ValueError, SyntaxError):
            raise _unreadable() from None
        response = send_file(io.BytesIO(data), mimetype=mimetype, etag=sha256)
    else:
        try:
            content = blob_store().open_original(sha256)
        except BlobMissing:
            raise _lost() from None
        if content.path is not None:  # a file: sent by the WSGI server, ranges and all
            content.stream.close()
            response = send_file(content.path, mimetype=mimetype, etag=sha256)
        else:  # an object: streamed from the bucket as it is read
            response = send_file(content.stream, mimetype=mimetype, etag=sha256)
            if response.status_code == 200:
                response.content_length = content.size
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def _lost() -> Problem:
    return Problem(
        500,
        "photo-lost",
        Text(
            "The server lists this photo but its photo store does not hold it. Every "
            "server process must use the same photo store (BLOB_STORE or BLOB_DIR).",
            "server",
        ),
    )


def _unreadable() -> Problem:
    return Problem(
        422,
        "image-unreadable",
        Text("This photo is damaged and cannot be shown. Take it again.", "server"),
    )


def photo_store_unavailable(error: PhotoStoreUnavailable) -> Response:
    """The bucket is down or refuses the server: 503, nothing kept; devices retry."""
    log.error("photo store unavailable: %s %s: %s", request.method, logged_path(), error)
    if request.path.startswith("/api/"):
        detail = Text(
            "The shop server cannot reach its photo store, so the photo was not saved. "
            "The device keeps it and sends it again; tell the service manager.",
            "server",
        )
    else:  # a page (a customer signing a quote): nothing saved, the form can be sent again
        detail = Text(
            "The shop server cannot reach its photo store just now, so nothing was saved. "
            "Please go back and send it again in a minute.",
            "server",
        )
    return problem_response(
        Problem(
            503,
            "photo-store-unavailable",
            detail,
            extra={"retry_after_seconds": PHOTO_STORE_RETRY_S},
            headers={"Retry-After": str(PHOTO_STORE_RETRY_S)},
        )
    )
