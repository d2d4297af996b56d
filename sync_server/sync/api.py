"""The sync endpoints: push changes, upload photos by hash, pull the changes feed."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

from shared.i18n import Text
from shared.sync_protocol import (
    API_PREFIX,
    EPOCH_HEADER,
    MAX_CHANGE_IDS_PER_ASK,
    MAX_HASHES_PER_ASK,
    MAX_PULL_PAGE,
    MAX_PUSH_CHANGES,
    is_sha256,
    is_supported_schema,
    is_uuid,
)
from sync_server import db
from sync_server.access import STAFF, allow, require_caller
from sync_server.api.body import json_object, whole_number_arg
from sync_server.problems import Problem, request_language
from sync_server.sync import trust
from sync_server.sync.blobs import (
    MAX_UPLOAD_BYTES,
    BlobRefused,
    BlobStore,
    PhotoStoreUnavailable,
)
from sync_server.sync.epoch import (
    check_device_epoch,
    feed_info,
    missing_change_ids,
)
from sync_server.sync.group_commit import GroupCommit
from sync_server.sync.kiosk_snapshot import kiosk_snapshot
from sync_server.sync.photo_files import blob_store, photo_store_unavailable, send_photo
from sync_server.sync.records import (
    DEVICE_KINDS,
    Change,
    ChangeRefused,
    apply_change,
    blob_refs,
    end_batch,
    feed_page,
    flush_batch,
    lock_records,
    read_change,
    start_batch,
    start_feed_writes,
)
from sync_server.sync.scope import WORKING_SET, vehicle_history, visit_people, working_set
from sync_server.sync.tables import Blob, FieldConflict, SyncRecord
from sync_server.table_base import utcnow

log = logging.getLogger(__name__)

bp = Blueprint("sync", __name__)

# How long ``POST /blobs/missing`` waits for photos this server is storing at that moment.
STORING_WAIT_S = 10.0
TABLET_FEED_KINDS = frozenset(DEVICE_KINDS | {"appointment"})


def _refusal(refused: ChangeRefused, change_id: Any) -> dict[str, Any]:
    problem = Problem(
        refused.status, refused.kind, refused.message, errors=refused.errors, extra=refused.extra
    )
    return {
        "change_id": change_id if isinstance(change_id, str) else None,
        "status": refused.status,
        "problem": problem.to_dict(request_language()),
    }


@bp.post("/sync/push")
@allow("kiosk", "tablet")
def push() -> ResponseReturnValue:
    body = json_object()
    schema = body.get("schema")
    if not is_supported_schema(schema):
        raise Problem(
            400,
            "schema-unsupported",
            Text(
                "This app speaks a sync format the server does not know. Update the app.", "server"
            ),
        )
    changes = body.get("changes")
    if not isinstance(changes, list):
        raise Problem(400, "bad-request", Text("'changes' must be a list.", "server"))
    if len(changes) > MAX_PUSH_CHANGES:
        raise Problem(
            413,
            "too-many-changes",
            Text("Send at most {n} changes at a time.", "server", {"n": MAX_PUSH_CHANGES}),
        )
    caller = require_caller()
    session = db.session()
    # First: on SQLite the writers' lock before any read; on PostgreSQL the records'
    # numbers are given at the commit (``sync_server/sync/feed.py``).
    start_feed_writes(session)
    check_device_epoch(session, request.headers.get(EPOCH_HEADER, ""))
    parsed: list[Change | ChangeRefused] = []
    for raw in changes:
        try:
            parsed.append(read_change(raw))
        except ChangeRefused as refused:
            parsed.append(refused)
    touched = [(item.kind, item.id) for item in parsed if isinstance(item, Change)]
    lock_records(session, touched)  # before reading them (PostgreSQL)
    # Steps that need the customer's signature on the walk-around are applied after the
    # rest of the batch, which may bring that signature; answers keep the batch's order.
    order = sorted(range(len(parsed)), key=lambda index: _is_signed_step(parsed[index]))
    changes, parsed = [changes[i] for i in order], [parsed[i] for i in order]
    try:
        # Every check in apply_change comes before its first write, so a refused change
        # leaves nothing behind and needs no savepoint; the batch is flushed once.
        results, referenced = _apply_batch(session, changes, parsed, caller)
    except STORE_FAILURES as error:
        if not _is_the_changes_fault(error):
            raise
        # Something in the batch passed every check and still failed at the database:
        # start again and apply the changes one by one, each in its own savepoint, so
        # that the one that fails is refused alone (and parked by its device) and the
        # rest are applied. (A savepoint around every batch would cost every push.)
        log.warning("A push failed at the database; applying its changes one by one")
        session.rollback()
        start_feed_writes(session)
        lock_records(session, touched)
        results, referenced = _apply_one_by_one(session, changes, parsed, caller)
    session.commit()
    in_order: list[dict[str, Any]] = [{}] * len(results)
    for index, result in zip(order, results, strict=True):
        in_order[index] = result
    return jsonify({"results": in_order, "missing_blobs": _missing_blobs(list(referenced))})


def _is_signed_step(item: Change | ChangeRefused) -> bool:
    return isinstance(item, Change) and trust.needs_signed_walkaround(item.kind, item.fields)


# What a change that passed every check may still raise when it is written because of
# its values: a constraint, a value the column cannot hold, a value the driver cannot
# send. A database that is locked, gone or out of space is not the change's fault: that
# fails the push (5xx), and the device sends it again later.
STORE_FAILURES = (StatementError, OverflowError, ValueError, UnicodeError)


def _is_the_changes_fault(error: BaseException) -> bool:
    if isinstance(error, DBAPIError):
        return isinstance(error, IntegrityError | DataError)
    return True


def _change_id(raw: Any) -> Any:
    return raw.get("change_id") if isinstance(raw, dict) else None


def _apply_batch(
    session: Any, changes: list[Any], parsed: list[Change | ChangeRefused], caller: Any
) -> tuple[list[dict[str, Any]], dict[str, None]]:
    results: list[dict[str, Any]] = []
    referenced: dict[str, None] = {}
    # The signed steps (last, see ``push``) check the walk-around in the typed tables:
    # what the batch wrote before them is flushed first.
    split = next((index for index, item in enumerate(parsed) if _is_signed_step(item)), len(parsed))
    for part in (slice(0, split), slice(split, None)):
        part_changes, part_parsed = changes[part], parsed[part]
        if not part_parsed:
            continue
        start_batch(session, [item for item in part_parsed if isinstance(item, Change)])
        try:
            with session.no_autoflush:
                for raw, item in zip(part_changes, part_parsed, strict=True):
                    try:
                        if isinstance(item, ChangeRefused):
                            raise item
                        results.append(
                            apply_change(session, item, origin=caller.uid, role=caller.role)
                        )
                        referenced.update(dict.fromkeys(blob_refs(item.fields)))
                    except ChangeRefused as refused:
                        results.append(_refusal(refused, _change_id(raw)))
            flush_batch(session)
        finally:
            end_batch(session)
    return results, referenced


def _apply_one_by_one(
    session: Any, changes: list[Any], parsed: list[Change | ChangeRefused], caller: Any
) -> tuple[list[dict[str, Any]], dict[str, None]]:
    results: list[dict[str, Any]] = []
    referenced: dict[str, None] = {}
    for raw, item in zip(changes, parsed, strict=True):
        try:
            if isinstance(item, ChangeRefused):
                raise item
            with session.begin_nested():
                one, refs = _apply_batch(session, [raw], [item], caller)
            results.extend(one)
            if one and one[0].get("status") == 201:
                referenced.update(refs)
        except ChangeRefused as refused:
            results.append(_refusal(refused, _change_id(raw)))
        except STORE_FAILURES as error:
            if not _is_the_changes_fault(error):
                raise
            log.warning("Change %s could not be stored: %s", _change_id(raw), type(error).__name__)
            refused = ChangeRefused(
                422,
                "not-storable",
                Text(
                    "The server could not store this change; its values are out of the "
                    "bounds the server keeps. Check the record and save it again.",
                    "server",
                ),
            )
            results.append(_refusal(refused, _change_id(raw)))
    return results, referenced


def _missing_blobs(hashes: list[str]) -> list[str]:
    if not hashes:
        return []
    have = set(db.session().scalars(select(Blob.sha256).where(Blob.sha256.in_(hashes))))
    return [sha for sha in hashes if sha not in have]


@bp.post("/blobs/missing")
@allow("kiosk", "tablet")
def missing_blobs() -> ResponseReturnValue:
    body = json_object()
    hashes = body.get("sha256")
    if (
        not isinstance(hashes, list)
        or len(hashes) > MAX_HASHES_PER_ASK
        or not all(is_sha256(item) for item in hashes)
    ):
        raise Problem(
            422,
            "validation",
            Text(
                "'sha256' must be a list of at most {n} lowercase SHA-256 hashes.",
                "server",
                {"n": MAX_HASHES_PER_ASK},
            ),
        )
    missing = _missing_blobs(list(dict.fromkeys(hashes)))
    if missing:
        # Photos this server is storing right now (their uploads cut off by a broken
        # connection or a device restart, say) are counted once they are stored.
        db.session().commit()  # read again after the wait, not from the same snapshot
        blob_store().wait_until_stored(missing, STORING_WAIT_S)
        missing = _missing_blobs(missing)
    return jsonify({"missing": missing})


@bp.put("/blobs/<sha256>")
@allow("kiosk", "tablet")
def upload_blob(sha256: str) -> ResponseReturnValue:
    if not is_sha256(sha256):
        raise Problem(404, "not-found")
    request.max_content_length = MAX_UPLOAD_BYTES
    # The body has arrived (waitress reads it before calling the app): from now until
    # the answer, a device asking whether this photo is missing waits for the answer.
    with blob_store().storing(sha256):
        return _store_upload(sha256)


def _store_upload(sha256: str) -> ResponseReturnValue:
    session = db.session()
    known = session.execute(select(Blob.sha256).where(Blob.sha256 == sha256)).first()
    # End the read (and give back the connection) before the long part: the row is
    # written below, in a transaction of its own.
    session.commit()
    if known is not None:
        request.stream.read()  # drain, so the connection can be reused
        return jsonify({"sha256": sha256, "stored": "already"}), 200
    try:
        stored = blob_store().receive(sha256, request.mimetype, request.stream, sync_folder=False)
    except BlobRefused as refused:
        raise Problem(refused.status, refused.kind, refused.message) from None
    caller = require_caller()
    # The photo is kept under its name; its folder entry (a folder store's) and its row
    # are made durable
    # together with those of other uploads finishing now, before any is answered.
    current_app.extensions["blob_rows"].submit(
        {
            "sha256": sha256,
            "content_type": stored.content_type,
            "size_bytes": stored.size_bytes,
            "width": stored.width,
            "height": stored.height,
            "uploaded_by": caller.uid or str(caller.id),
            "uploaded_at": utcnow(),
        }
    )
    return jsonify(
        {"sha256": sha256, "stored": "new", "width": stored.width, "height": stored.height}
    ), 201


@bp.get("/blobs/<sha256>")
@allow("tablet", *STAFF)
def download_blob(sha256: str) -> ResponseReturnValue:
    return send_photo(sha256, thumbnail=False)


@bp.get("/blobs/<sha256>/thumbnail")
@allow("tablet", *STAFF)
def download_thumbnail(sha256: str) -> ResponseReturnValue:
    return send_photo(sha256, thumbnail=True)


@bp.get("/sync/changes")
@allow("kiosk", "tablet")
def pull() -> ResponseReturnValue:
    caller = require_caller()
    session = db.session()
    if caller.role == "kiosk":
        return jsonify(kiosk_snapshot(session) | {"feed": feed_info(session)})
    since = whole_number_arg("since", 0, maximum=2**31 - 1)  # the feed's INTEGER seq
    limit = min(MAX_PULL_PAGE, max(1, whole_number_arg("limit", 200)))
    # A record whose every field this device wrote itself holds nothing it lacks: skip
    # the echo, but move the cursor past it all the same.
    if since == 0 and request.args.get("scope") == WORKING_SET:
        # A new tablet: the working set, not the past (with the feed's identity).
        return jsonify(working_set(session) | {"feed": feed_info(session)})
    # The feed's epoch and head are read first: a restore after this cannot hide.
    feed = feed_info(session)
    page = feed_page(session, since, TABLET_FEED_KINDS, limit, reader=caller.uid)
    related = visit_people(session, page.changes, caller.uid)
    return jsonify(
        {"changes": page.changes, "next_since": page.next_since, "more": page.more, "feed": feed}
        | ({"related": related} if related else {})
    )


@bp.get("/vehicles/<vehicle_id>/history")
@allow("tablet")
def history(vehicle_id: str) -> ResponseReturnValue:
    """A car's earlier visits with their walk-arounds and marks (scope.vehicle_history),
    and the work declined on them not done since (``deferred_work``, soonest due first),
    for the advisor to raise again at this check-in."""
    from sync_server.customer_file.health import open_deferred_work
    from sync_server.shop import shop_settings

    session = db.session()
    answer = vehicle_history(session, vehicle_id)
    answer["deferred_work"] = [
        {
            "visit_id": item.visit_id,
            "line_id": item.line_id,
            "description": item.description,
            "part_number": item.part_number,
            "urgency": item.urgency,
            "declined_on": item.declined_on.isoformat(),
            "due_on": item.due_on.isoformat(),
        }
        for item in open_deferred_work(session, vehicle_id, shop_settings(session).timezone)
    ]
    return jsonify(answer)


@bp.post("/sync/changes/missing")
@allow("kiosk", "tablet")
def missing_changes() -> ResponseReturnValue:
    """Which of these change ids the server lacks (a device checking after a restore)."""
    body = json_object()
    change_ids = body.get("change_ids")
    if (
        not isinstance(change_ids, list)
        or len(change_ids) > MAX_CHANGE_IDS_PER_ASK
        or not all(is_uuid(item) for item in change_ids)
    ):
        raise Problem(
            422,
            "validation",
            Text(
                "'change_ids' must be a list of at most {n} change ids.",
                "server",
                {"n": MAX_CHANGE_IDS_PER_ASK},
            ),
        )
    unique = list(dict.fromkeys(change_ids))
    return jsonify({"missing": missing_change_ids(db.session(), unique)})


@bp.get("/records/<kind>/<record_id>")
@allow("tablet", *STAFF)
def record(kind: str, record_id: str) -> ResponseReturnValue:
    """One synced record with its clocks, the values that lost, and photo status."""
    session = db.session()
    row = session.get(SyncRecord, (kind, record_id))
    if row is None:
        raise Problem(404, "not-found")
    conflicts = session.scalars(
        select(FieldConflict)
        .where(FieldConflict.kind == kind, FieldConflict.record_id == record_id)
        .order_by(FieldConflict.id)
    )
    refs = list(dict.fromkeys(blob_refs(row.fields)))
    missing = set(_missing_blobs(refs))
    return jsonify(
        {
            "kind": kind,
            "id": record_id,
            "fields": row.fields,
            "clocks": row.clocks,
            "seq": row.seq,
            "created_by": row.created_by,
            "updated_by": row.updated_by,
            "photos": [
                {"sha256": sha, "state": "pending" if sha in missing else "stored"} for sha in refs
            ],
            "conflicts": [
                {
                    "field": c.field,
                    "losing_value": c.losing_value,
                    "losing_hlc": c.losing_hlc,
                    "losing_origin": c.losing_origin,
                    "winning_value": c.winning_value,
                    "winning_hlc": c.winning_hlc,
                }
                for c in conflicts
            ],
        }
    )


def _blob_row_writer(app: Flask, store: BlobStore) -> GroupCommit[dict[str, Any]]:
    """Writes the rows of stored photos, several uploads' at once (group commit).

    First the folders of their files are fsynced (the files themselves already are; a
    bucket's objects are durable once their put returned),
    then the rows are inserted and committed in one transaction: a row never exists
    for a photo that a power cut could take away. A row already there (the same photo
    uploaded twice at once) is left as it is.
    """
    engine = app.extensions["db_engine"]
    insert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}.get(engine.dialect.name)

    def write(rows: list[dict[str, Any]]) -> None:
        store.sync_folders(row["sha256"] for row in rows)
        with engine.begin() as connection:
            if insert is not None:
                connection.execute(insert(Blob.__table__).on_conflict_do_nothing(), rows)
                return
            for row in rows:  # another database: look first
                known = select(Blob.sha256).where(Blob.sha256 == row["sha256"])
                if connection.execute(known).first() is None:
                    connection.execute(Blob.__table__.insert(), row)

    return GroupCommit(write)


def init_app(app: Flask) -> None:
    from sync_server.sync.blob_stores import blob_store_for

    store = blob_store_for(app.config, app.instance_path)
    app.extensions["blob_store"] = store
    app.extensions["blob_rows"] = _blob_row_writer(app, store)
    app.register_blueprint(bp, url_prefix=API_PREFIX)
    app.register_error_handler(PhotoStoreUnavailable, photo_store_unavailable)
    trust.init_app(app)
    app.after_request(_tell_the_time)


def _tell_the_time(response: Response) -> Response:
    """Every API answer carries the server's time, so devices keep their clocks near it
    (docs/sync.md "Clock rules")."""
    if request.path.startswith("/api/"):
        response.headers.update(trust.clock_headers())
    return response
