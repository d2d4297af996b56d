"""One sync round: push the outbox, upload the photos the server lacks, pull the feed.

Part of ``kiosk.services.sync`` (see its docstring); import from there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from kiosk.services import feed_recovery
from kiosk.services.local_store import BlobInfo, Change, LocalStore
from kiosk.services.server_time import ServerTime, restamp
from kiosk.services.sync_transport import (
    PULL_PAGE_SIZE,
    RequestRefused,
    ServerRestored,
    SyncError,
    SyncTransport,
    UnexpectedResponse,
)
from shared.sync_protocol import (
    MAX_PUSH_BYTES,
    MAX_PUSH_CHANGES,
)

log = logging.getLogger(__name__)

# The server takes at most MAX_PUSH_CHANGES changes and MAX_PUSH_BYTES per push
# (shared.sync_protocol). One change must fit in a push with room for the message
# around it.
MAX_CHANGE_BYTES = MAX_PUSH_BYTES - 64 * 1024
MISSING_BLOBS_CHUNK = 1000
PARALLEL_UPLOADS = 4
# Photos sent are recorded on the device this many at a time (one commit, one fsync).
MARK_SENT_EVERY = 8
# A kiosk is sent a snapshot of these kinds instead of a changes feed.
SNAPSHOT_KINDS = frozenset({"appointment"})
# A round that finds the server restored starts again, at most this often.
MAX_RESTARTS_PER_ROUND = 2


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
            raise ValueError(f"batch_bytes must be 1..{MAX_CHANGE_BYTES}, under the push limit")
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
                blob.sha256, self.store.blob_file(blob.sha256), blob.content_type
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
