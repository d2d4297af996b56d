"""Syncing this device with the shop server, on a background thread (docs/sync.md).

Three layers, each testable alone:

* :class:`SyncTransport` speaks the protocol over HTTP. Single requests are retried by
  urllib3's ``Retry`` on the ``requests`` session (connection errors, read errors and
  5xx, with exponential backoff and jitter); that is safe for every call here because
  pushes are idempotent by ``change_id`` and photos by their SHA-256. It turns answers
  into :class:`DeviceUnpaired` (401), :class:`RequestRefused` (another 4xx) and
  :class:`ServerUnreachable` (still failing after the retries).
* :class:`SyncEngine` runs one round: push the outbox, upload the photos the server
  lacks, pull what changed. A change or photo the server refuses is parked for staff
  and never blocks the rest; a network failure ends the round with everything still
  queued, and the next round sends the same changes again, which the server applies
  once.
* :class:`BackgroundSync` runs rounds on a daemon thread every ``interval_s``, at once
  when asked (a check-in was just saved), with exponential backoff and jitter after
  failures, and publishes a :class:`SyncState` for the status bar.

No Kivy here: the UI passes an ``on_state`` callback that hands the state to its own
thread (``Clock.schedule_once``).
"""

from __future__ import annotations

import io
import logging
import random
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from kiosk.services import feed_recovery
from kiosk.services.local_store import BlobInfo, Change, LocalStore
from kiosk.services.server_client import (
    DEVICE_NOT_PAIRED,
    REQUEST_REFUSED,
    SERVER_OUT_OF_SPACE,
    SERVER_UNREACHABLE,
    UNEXPECTED_RESPONSE,
)
from kiosk.services.server_time import ServerTime, restamp
from shared.wire import SCHEMA_VERSION

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
# The server takes at most 500 changes and 2 MiB per push (docs/sync.md).
MAX_PUSH_CHANGES = 500
MAX_PUSH_BYTES = 2 * 1024 * 1024
# One change must fit in a push with room for the envelope around it.
MAX_CHANGE_BYTES = MAX_PUSH_BYTES - 64 * 1024
MISSING_BLOBS_CHUNK = 1000
PARALLEL_UPLOADS = 4
SEND_BLOCK_BYTES = 256 * 1024
# Photos sent are recorded on the device this many at a time (one commit, one fsync).
MARK_SENT_EVERY = 8
PULL_PAGE_SIZE = 500
# A kiosk is sent a snapshot of these kinds instead of a changes feed.
SNAPSHOT_KINDS = frozenset({"appointment"})
SYNC_FAILED = "sync_failed"
EPOCH_HEADER = "X-Feed-Epoch"
# A round that finds the server restored starts again, at most this often.
MAX_RESTARTS_PER_ROUND = 2


def default_retry() -> Retry:
    """Retries for one request: connection and read errors and 5xx, backing off.

    ``allowed_methods=None`` retries POST and PUT too: every call of the protocol is
    idempotent. Waits 0.3 s, 0.6 s, 1.2 s … (plus up to 0.3 s of jitter, at most 10 s),
    honouring a ``Retry-After`` header.
    """
    return Retry(
        total=5,
        connect=5,
        read=5,
        backoff_factor=0.3,
        backoff_jitter=0.3,
        backoff_max=10,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=None,
        raise_on_status=False,
        respect_retry_after_header=True,
    )


# --- errors -----------------------------------------------------------------------------


class SyncError(Exception):
    """A sync request or round failed; ``code`` is stable (``server_client`` codes)."""

    code = SYNC_FAILED


class ServerUnreachable(SyncError):
    """No answer from the server, or only errors (5xx), even after the retries."""

    code = SERVER_UNREACHABLE

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.status = status


class ServerOutOfSpace(ServerUnreachable):
    """The server's disk is full (507): nothing was saved there; try again later."""

    code = SERVER_OUT_OF_SPACE


class UnexpectedResponse(SyncError):
    """The answer was not what the protocol promises (e.g. a captive portal's page)."""

    code = UNEXPECTED_RESPONSE


class DeviceUnpaired(SyncError):
    """The server no longer accepts this device's token (401): it must pair again."""

    code = DEVICE_NOT_PAIRED

    def __init__(self, problem: dict[str, Any]) -> None:
        super().__init__(str(problem.get("title") or "device not paired"))
        self.problem = problem


class RequestRefused(SyncError):
    """The server refused a whole request (a 4xx other than 401) with this problem."""

    code = REQUEST_REFUSED

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        title = problem.get("title") or "refused"
        super().__init__(f"{status} {title}: {problem.get('detail') or ''}".rstrip(": "))
        self.status = status
        self.problem = problem


class ServerRestored(SyncError):
    """The server was restored from a backup since this device last synced: the round
    starts over once what the server lacks is queued again (``feed_recovery``)."""


# --- transport --------------------------------------------------------------------------


class _BodyFile(io.FileIO):
    """A file sent as a request body that calls ``on_end`` once it has been read through."""

    def __init__(self, path: Path, on_end: Callable[[], None]) -> None:
        super().__init__(path, "rb")
        self._on_end = on_end

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if not data:
            self._on_end()
        return data


class _LargeBlockAdapter(HTTPAdapter):
    """Streams request bodies (photos) in blocks of ``SEND_BLOCK_BYTES``.

    urllib3 reads a file body 16 KiB at a time, a system call and a loop turn each;
    larger blocks cost the device far less CPU for a photo of a few megabytes.
    """

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        pool_kwargs.setdefault("blocksize", SEND_BLOCK_BYTES)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


class SyncTransport:
    """The sync endpoints of one server, called with this device's bearer token.

    ``request_count`` counts the protocol calls made (each may be several HTTP attempts
    when urllib3 retries). ``retry`` replaces :func:`default_retry` (tests).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: tuple[float, float] = (3.05, 30),
        *,
        retry: Retry | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.request_count = 0
        # Set by SyncEngine: learns the server's time from every answer.
        self.server_time: ServerTime | None = None
        self._count_lock = threading.Lock()
        self._sending = threading.Lock()  # one photo body on the wire at a time
        self.session = requests.Session()
        adapter = _LargeBlockAdapter(max_retries=retry if retry is not None else default_retry())
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, application/problem+json",
            }
        )

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> SyncTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def push(self, changes: Sequence[dict[str, Any]], epoch: str = "") -> dict[str, Any]:
        """``POST /sync/push``: ``{"results": [...], "missing_blobs": [...]}``.

        ``epoch``: the feed epoch this device knows; a restored server refuses the push
        (409 ``feed-epoch-changed``) before applying anything (``feed_recovery``).
        """
        body = self._request(
            "POST",
            "/sync/push",
            json={"schema": SCHEMA_VERSION, "changes": list(changes)},
            headers={EPOCH_HEADER: epoch} if epoch else None,
        )
        if not isinstance(body.get("results"), list):
            raise UnexpectedResponse("push answer without a list of results")
        return body

    def missing_blobs(self, shas: Sequence[str]) -> list[str]:
        """``POST /blobs/missing``: which of these photos the server does not have."""
        body = self._request("POST", "/blobs/missing", json={"sha256": list(shas)})
        missing = body.get("missing")
        if not isinstance(missing, list) or not all(isinstance(sha, str) for sha in missing):
            raise UnexpectedResponse("missing-blobs answer without a list of hashes")
        return missing

    def missing_changes(self, change_ids: Sequence[str]) -> list[str]:
        """``POST /sync/changes/missing``: which of these changes the server lacks."""
        body = self._request("POST", "/sync/changes/missing", json={"change_ids": list(change_ids)})
        missing = body.get("missing")
        if not isinstance(missing, list) or not all(isinstance(item, str) for item in missing):
            raise UnexpectedResponse("missing-changes answer without a list of change ids")
        return missing

    def upload_blob(self, sha256: str, path: Path, content_type: str) -> int:
        """``PUT /blobs/<sha256>``, streaming the file; returns 201 (new) or 200 (known).

        The open file is the body: requests sends it in blocks with its length, and
        urllib3 rewinds it when it retries. Several uploads may run at once (on several
        threads), but only one body is on the wire at a time: the next one starts when
        the last byte of the one before has been sent, while that one still waits for
        the server to store it. So the server stores one photo while the next arrives,
        and a device killed mid-photos has only the photo it was sending to send again.
        """
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._sending.release()

        self._sending.acquire()
        try:
            with _BodyFile(path, on_end=release) as photo:
                return self._request_status(
                    "PUT", f"/blobs/{sha256}", data=photo, headers={"Content-Type": content_type}
                )
        finally:
            release()

    def pull(self, since: int, limit: int = PULL_PAGE_SIZE) -> dict[str, Any]:
        """``GET /sync/changes``: ``{"changes", "next_since", "more"}`` (or a snapshot).

        From the start (``since`` 0) a tablet asks for the shop's working set only, not
        its whole past (``sync_server/sync/scope.py``)."""
        params = {"since": since, "limit": limit} | ({"scope": "working_set"} if since == 0 else {})
        body = self._request("GET", "/sync/changes", params=params)
        if not isinstance(body.get("changes"), list) or not isinstance(body.get("next_since"), int):
            raise UnexpectedResponse("changes answer without changes or next_since")
        return body

    def vehicle_history(self, vehicle_id: str) -> list[dict[str, Any]]:
        """``GET /vehicles/<id>/history``: a car's earlier visits, walk-arounds, marks."""
        body = self._request("GET", f"/vehicles/{vehicle_id}/history")
        if not isinstance(body.get("changes"), list):
            raise UnexpectedResponse("history answer without changes")
        return body["changes"]

    # -- plumbing ----------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._send(method, path, **kwargs)[1]

    def _request_status(self, method: str, path: str, **kwargs: Any) -> int:
        return self._send(method, path, **kwargs)[0]

    def _send(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        with self._count_lock:  # photo uploads run on two threads
            self.request_count += 1
        url = self.base_url + API_PREFIX + path
        server_time = self.server_time
        sent_ms = server_time.wall_ms() if server_time is not None else 0
        try:
            response = self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ServerUnreachable(f"{method} {path}: {exc}") from exc
        if server_time is not None:
            server_time.learn(response.headers, sent_ms, server_time.wall_ms())
        with response:
            status = response.status_code
            try:
                body = response.json()
            except ValueError:
                body = None
            if status == 401:
                raise DeviceUnpaired(body if isinstance(body, dict) else {"status": 401})
            if 400 <= status < 500:
                problem = body if isinstance(body, dict) else {"status": status}
                raise RequestRefused(status, problem)
            if status == 507:
                raise ServerOutOfSpace(f"{method} {path}: the server is out of disk space", status)
            if status >= 300:
                raise ServerUnreachable(f"{method} {path}: HTTP {status} after retries", status)
            if not isinstance(body, dict):
                raise UnexpectedResponse(f"{method} {path}: HTTP {status} without a JSON object")
            return status, body


# --- one round --------------------------------------------------------------------------


@dataclass
class SyncReport:
    """What one round did."""

    pushed: int = 0
    parked: int = 0
    blobs_uploaded: int = 0
    blobs_already_on_server: int = 0
    blobs_parked: int = 0
    pulled: int = 0
    requests: int = 0
    resent_after_restore: int = 0  # changes and photos the restored server lacked
    restamped: int = 0


class SyncEngine:
    """Runs sync rounds between a :class:`LocalStore` and the server."""

    def __init__(
        self,
        store: LocalStore,
        transport: SyncTransport,
        batch_size: int = 200,
        batch_bytes: int = 1_000_000,
    ) -> None:
        if not 1 <= batch_size <= MAX_PUSH_CHANGES:
            raise ValueError(f"batch_size must be 1..{MAX_PUSH_CHANGES}")
        if not 1 <= batch_bytes <= MAX_CHANGE_BYTES:
            raise ValueError("batch_bytes must leave room under the server's 2 MiB limit")
        self.store = store
        self.transport = transport
        self.batch_size = batch_size
        self.batch_bytes = batch_bytes
        self.after_pull: Callable[[SyncEngine], None] | None = None
        self._round = threading.Lock()
        self.server_time = ServerTime(store.clock)
        transport.server_time = self.server_time
        self._restamped: set[str] = set()  # this round's changes given a new clock

    def sync_once(self) -> SyncReport:
        """Push, upload photos, pull. Raises :class:`SyncError` when the round stops early.

        Whatever was not confirmed by the server stays queued for the next round; the
        last success or error is kept in the store (it survives restarts).
        """
        with self._round:
            report = SyncReport()
            requests_before = self.transport.request_count
            self._restamped.clear()
            try:
                for _attempt in range(MAX_RESTARTS_PER_ROUND + 1):
                    # A server restored from a backup (seen by the push or the pull)
                    # gets what it lacks again, then the round starts over.
                    self._recover(report)
                    try:
                        self._push_outbox(report)
                    except ServerRestored:
                        continue
                    self._upload_photos(report)
                    if not self._pull(report):
                        break
                feed_recovery.forget_old_sent(self.store)
                if self.after_pull is not None:
                    self.after_pull(self)  # e.g. cars' histories, pruning (working_set.py)
            except SyncError as error:
                self.store.note_sync_error(error.code, str(error))
                raise
            finally:
                report.requests = self.transport.request_count - requests_before
            self.store.note_sync_success()
            return report

    # -- push --------------------------------------------------------------------------

    def _push_outbox(self, report: SyncReport) -> None:
        while batch := self.store.pending_changes(self.batch_size, self.batch_bytes):
            if batch[0].byte_size > MAX_CHANGE_BYTES:
                # The server would refuse it, perhaps by dropping the connection mid-body,
                # which looks like a network failure and would block the queue for good.
                self.store.park(batch[0].change_id, _too_large(batch[0]))
                report.parked += 1
                continue
            if not self._push_batch(batch, report):
                # Some change got no final answer (a 5xx result): the rest waits for the
                # next round instead of being sent again and again in this one.
                return

    def _recover(self, report: SyncReport) -> None:
        if not feed_recovery.recovery_due(self.store):
            return
        changes, photos = feed_recovery.recover(
            self.store, self.transport.missing_changes, self.transport.missing_blobs
        )
        report.resent_after_restore += changes + photos

    def _push_batch(self, batch: list[Change], report: SyncReport) -> bool:
        """Push one batch; True when every change in it was acknowledged or parked."""
        try:
            wire = [change.to_wire() for change in batch]
            epoch = feed_recovery.known_epoch(self.store)
            answer = self.transport.push(wire, epoch) if epoch else self.transport.push(wire)
        except RequestRefused as refused:
            if refused.status == 409 and str(refused.problem.get("type", "")).endswith(
                "/feed-epoch-changed"
            ):
                feed_recovery.note_feed(self.store, refused.problem.get("feed"))
                raise ServerRestored(str(refused)) from refused
            if refused.status != 413:
                raise
            if len(batch) == 1:
                # This change alone is too large for the server: only staff can help.
                self.store.park(batch[0].change_id, _problem(refused.status, refused.problem))
                report.parked += 1
                return True
            half = len(batch) // 2
            return self._push_batch(batch[:half], report) and self._push_batch(batch[half:], report)
        acknowledged: list[str] = []
        unsettled: list[str] = []
        server_set: list[dict[str, Any]] = []
        for change, result in zip(batch, _results_in_order(batch, answer["results"]), strict=True):
            status = result.get("status") if result else None
            if isinstance(status, int) and 200 <= status < 300:
                acknowledged.append(change.change_id)
                if result and (fields_set := _server_set(change, result)):
                    server_set.append(fields_set)
            elif self._clock_was_ahead(change, status, result):
                report.restamped += 1  # sent again, with a corrected clock, in this round
            elif isinstance(status, int) and 400 <= status < 500:
                problem = result.get("problem") if result else None
                self.store.park(change.change_id, _problem(status, problem))
                report.parked += 1
                log.warning(
                    "Server refused %s %s (%s): parked", change.kind, change.record_id, status
                )
            else:
                unsettled.append(change.change_id)
        if server_set:
            # What the server decided instead (a visit's status token: the kiosk shows
            # and reprints the server's link), before the changes leave the outbox.
            try:
                self.store.cache_records(server_set)
            except ValueError as exc:  # an answer out of shape: the changes went through
                log.warning("The server's own values in a push answer are unusable: %s", exc)
        self.store.acknowledge(acknowledged)
        report.pushed += len(acknowledged)
        if unsettled:
            self.store.note_attempt_failed(unsettled, "no final result from the server")
        return not unsettled

    def _clock_was_ahead(self, change: Change, status: Any, result: Any) -> bool:
        """A change refused only for its clock (saved while this device's wall clock was
        ahead and the offset not yet known) gets a corrected clock, once per round."""
        problem = result.get("problem") if isinstance(result, dict) else None
        kind = problem.get("type", "") if isinstance(problem, dict) else ""
        if status != 422 or not str(kind).endswith("/clock-ahead"):
            return False
        if change.change_id in self._restamped or not self.server_time.known:
            return False
        self._restamped.add(change.change_id)
        new = restamp(self.store, change.change_id)
        log.warning(
            "%s %s was clocked ahead of the server: now %s", change.kind, change.record_id, new
        )
        return new is not None

    # -- photos ------------------------------------------------------------------------

    def _upload_photos(self, report: SyncReport) -> None:
        # An upload started but never answered (the app was killed mid-photos) may have
        # reached the server whole, which may still be storing it: ask about those again
        # after the others, instead of sending them again at once.
        cut_short = self.store.uploads_cut_short()
        pending = self.store.pending_blobs()
        for start in range(0, len(pending), MISSING_BLOBS_CHUNK):
            chunk = pending[start : start + MISSING_BLOBS_CHUNK]
            later = [blob for blob in chunk if blob.sha256 in cut_short]
            now = [blob for blob in chunk if blob.sha256 not in cut_short]
            for blobs in (now, later):
                if blobs:
                    self._upload_missing(blobs, report)
        for sha256 in cut_short - {blob.sha256 for blob in pending}:
            self.store.note_upload_answered(sha256)  # no longer waiting to be sent

    def _upload_missing(self, blobs: list[BlobInfo], report: SyncReport) -> None:
        """Ask the server which of these photos it lacks, and upload those."""
        missing = set(self.transport.missing_blobs([blob.sha256 for blob in blobs]))
        on_server = [blob.sha256 for blob in blobs if blob.sha256 not in missing]
        if on_server:
            self.store.mark_blobs_uploaded(on_server)
            for sha256 in on_server:
                self.store.note_upload_answered(sha256)
            report.blobs_already_on_server += len(on_server)
        self._upload_all([blob for blob in blobs if blob.sha256 in missing], report)

    def _upload_all(self, blobs: list[BlobInfo], report: SyncReport) -> None:
        """Upload these photos, ``PARALLEL_UPLOADS`` at a time; a network error ends it.

        While the server stores one photo (hash, fsync), the next is on the wire. Photos
        sent are recorded a few at a time (one local commit for several); after an
        error, those sent meanwhile are recorded too and the photos not started yet wait
        for the next round. A photo sent but not recorded (the app killed) is only asked
        about again (``POST /blobs/missing``), not sent again.
        """
        if not blobs:
            return
        pool = ThreadPoolExecutor(PARALLEL_UPLOADS, thread_name_prefix="upload")
        futures = [pool.submit(self._upload_one, blob) for blob in blobs]
        sent: list[str] = []
        counted = 0
        try:
            for blob, future in zip(blobs, futures, strict=True):
                outcome = future.result()  # the first network error, in order, ends it
                counted += 1
                if outcome == "uploaded":
                    report.blobs_uploaded += 1
                    sent.append(blob.sha256)
                    if len(sent) >= MARK_SENT_EVERY:
                        self.store.mark_blobs_uploaded(sent)
                        sent = []
                elif outcome == "parked":
                    report.blobs_parked += 1
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for blob, future in zip(blobs[counted:], futures[counted:], strict=True):
                finished = future.done() and not future.cancelled()
                if finished and future.exception() is None and future.result() == "uploaded":
                    sent.append(blob.sha256)
            if sent:
                self.store.mark_blobs_uploaded(sent)

    def _upload_one(self, blob: BlobInfo) -> str:
        """Upload one photo; park it if refused. Network errors propagate."""
        self.store.note_upload_started(blob.sha256)
        try:
            self.transport.upload_blob(
                blob.sha256, self.store.blob_path(blob.sha256), blob.content_type
            )
            self.store.note_upload_answered(blob.sha256)
        except RequestRefused as refused:
            self.store.note_upload_answered(blob.sha256)
            self.store.park_blob(blob.sha256, _problem(refused.status, refused.problem))
            log.warning("Server refused photo %s (%s): parked", blob.sha256, refused)
            return "parked"
        except FileNotFoundError:
            self.store.note_upload_answered(blob.sha256)
            self.store.park_blob(
                blob.sha256,
                {"code": "photo_file_missing", "title": "The photo file is missing"},
            )
            log.error("Photo %s is in the store but its file is gone", blob.sha256)
            return "parked"
        return "uploaded"

    # -- pull --------------------------------------------------------------------------

    def _pull(self, report: SyncReport) -> bool:
        """Pull the feed (or a kiosk's snapshot); True when it shows the server was
        restored from a backup (the cursor is reset then, and a recovery is due)."""
        since = self.store.pull_cursor()
        while True:
            page = self.transport.pull(since, PULL_PAGE_SIZE)
            if feed_recovery.note_feed(self.store, page.get("feed")):
                return True
            changes, next_since = page["changes"], page["next_since"]
            try:
                if page.get("snapshot"):
                    report.pulled += self.store.replace_snapshot(SNAPSHOT_KINDS, changes)
                    return False
                # The customers and cars of the page's visits come beside it (scope.py).
                related = page.get("related") or []
                report.pulled += self.store.apply_pulled([*related, *changes], next_since)
            except ValueError as exc:
                raise UnexpectedResponse(f"changes page after {since}: {exc}") from exc
            if not page.get("more") or next_since <= since:
                return False
            since = next_since


def _server_set(change: Change, result: dict[str, Any]) -> dict[str, Any] | None:
    """The fields the server set in place of the change's own (with their clocks), as
    a record to merge, or None."""
    fields, clocks = result.get("server_fields"), result.get("server_clocks")
    if not (isinstance(fields, dict) and fields and isinstance(clocks, dict)):
        return None
    return {"kind": change.kind, "id": change.record_id, "fields": fields, "clocks": clocks}


def _results_in_order(batch: Sequence[Change], results: list[Any]) -> list[dict[str, Any] | None]:
    """The result for each change of the batch (``None`` where the server gave none).

    The server answers in the order of the changes; the ``change_id`` it echoes is
    checked, and used to match when the counts differ.
    """
    by_id = {
        result["change_id"]: result
        for result in results
        if isinstance(result, dict) and isinstance(result.get("change_id"), str)
    }
    ordered: list[dict[str, Any] | None] = []
    for index, change in enumerate(batch):
        result = by_id.get(change.change_id)
        if result is None and len(results) == len(batch):
            positional = results[index]
            if isinstance(positional, dict) and positional.get("change_id") is None:
                result = positional  # the server could not even read this change's id
        ordered.append(result)
    return ordered


def _too_large(change: Change) -> dict[str, Any]:
    return {
        "status": 413,
        "code": "change_too_large",
        "title": "This change is too large to send",
        "detail": f"{change.byte_size} bytes; the server takes at most {MAX_CHANGE_BYTES}",
    }


def _problem(status: int, problem: Any) -> dict[str, Any]:
    document = dict(problem) if isinstance(problem, dict) else {}
    document.setdefault("status", status)
    return document


# --- background thread ------------------------------------------------------------------


@dataclass(frozen=True)
class SyncState:
    """What the status bar shows; ``last_error`` is a stable code (``server_client``)."""

    pending_changes: int = 0
    pending_bytes: int = 0
    pending_blobs: int = 0
    pending_blob_bytes: int = 0
    parked: int = 0
    last_success_at: datetime | None = None
    last_error: str | None = None
    running: bool = False
    parked_blobs: int = 0
    last_error_detail: str | None = None
    # How far this device's wall clock is off the server's (None until known), and
    # whether it is far enough to tell staff; edits are clocked from corrected time.
    clock_offset_ms: int | None = None
    clock_warning: bool = False


StateCallback = Callable[[SyncState], None]


class BackgroundSync:
    """Runs :meth:`SyncEngine.sync_once` on a daemon thread and reports its state.

    ``on_state`` is called on the sync thread; the UI must hand the state over to its
    own thread. After a failed round the wait grows (``interval_s`` × 2ⁿ, at most
    ``max_backoff_s``, with jitter so that a shop's devices do not all retry at once);
    :meth:`request_sync` starts a round at once regardless.
    """

    def __init__(
        self,
        engine: SyncEngine,
        interval_s: float = 15,
        on_state: StateCallback | None = None,
        *,
        max_backoff_s: float = 300,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.max_backoff_s = max(max_backoff_s, interval_s)
        self.on_state = on_state
        self._jitter = jitter
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = SyncState()
        self.failures = 0

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="background-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> bool:
        """Stop after the current round; True when the thread has ended within ``timeout``."""
        self._stopping.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def request_sync(self) -> None:
        """Sync now (e.g. a check-in was just saved) instead of at the next interval."""
        self._wake.set()

    def state(self) -> SyncState:
        return self._state

    def next_delay(self) -> float:
        """Seconds until the next round, after :attr:`failures` failed rounds in a row."""
        if self.failures == 0:
            return self.interval_s
        ceiling = min(self.max_backoff_s, self.interval_s * 2 ** min(self.failures - 1, 30))
        return ceiling / 2 + self._jitter() * ceiling / 2

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            self._publish(running=True)
            try:
                self.engine.sync_once()
                self.failures = 0
            except SyncError as error:
                self.failures += 1
                log.info("Sync round stopped (%s): %s", error.code, error)
            except Exception:
                # A bug must not end syncing for good: log it and try again later.
                self.failures += 1
                log.exception("Sync round failed")
                self._note_unexpected_failure()
            self._publish(running=False)
            self._wake.wait(self.next_delay())

    def _note_unexpected_failure(self) -> None:
        try:
            self.engine.store.note_sync_error(SYNC_FAILED, "unexpected error; see the log")
        except Exception:
            log.exception("Could not record the sync failure")

    def _publish(self, *, running: bool) -> None:
        try:
            store = self.engine.store
            server_time: ServerTime | None = getattr(self.engine, "server_time", None)
            known = server_time is not None and server_time.known
            counts, history = store.status(), store.sync_history()
            self._state = SyncState(
                pending_changes=counts.pending_changes,
                pending_bytes=counts.pending_bytes,
                pending_blobs=counts.pending_blobs,
                pending_blob_bytes=counts.pending_blob_bytes,
                parked=counts.parked,
                last_success_at=history.last_success_at,
                last_error=history.last_error,
                running=running,
                parked_blobs=counts.parked_blobs,
                last_error_detail=history.last_error_detail,
                clock_offset_ms=server_time.offset_ms if server_time and known else None,
                clock_warning=bool(server_time and server_time.warning),
            )
        except Exception:
            log.exception("Could not read the sync state")
            self._state = replace(self._state, running=running)
        if self.on_state is not None:
            try:
                self.on_state(self._state)
            except Exception:
                log.exception("Sync state callback failed")


__all__ = [
    "BackgroundSync",
    "DeviceUnpaired",
    "RequestRefused",
    "ServerUnreachable",
    "SyncEngine",
    "SyncError",
    "SyncReport",
    "SyncState",
    "SyncTransport",
    "UnexpectedResponse",
    "default_retry",
]
