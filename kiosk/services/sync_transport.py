"""The sync protocol over HTTP for this device: :class:`SyncTransport` and its errors.

Part of ``kiosk.services.sync`` (see its docstring); import from there.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from kiosk.services.server_client import (
    DEVICE_NOT_PAIRED,
    REQUEST_REFUSED,
    SERVER_OUT_OF_SPACE,
    SERVER_UNREACHABLE,
    UNEXPECTED_RESPONSE,
)
from kiosk.services.server_time import ServerTime
from shared.sync_protocol import (
    API_PREFIX,
    EPOCH_HEADER,
    MAX_PULL_PAGE,
    push_message,
)

log = logging.getLogger(__name__)

SEND_BLOCK_BYTES = 256 * 1024
PULL_PAGE_SIZE = MAX_PULL_PAGE
SYNC_FAILED = "sync_failed"


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


class VehicleHistory(NamedTuple):
    """A car's history as the server sends it: its records, and its deferred work."""

    records: list[dict[str, Any]]
    deferred_work: list[dict[str, Any]]


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
            json=push_message(changes),
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

    def vehicle_history(self, vehicle_id: str) -> VehicleHistory:
        """``GET /vehicles/<id>/history``: a car's earlier visits, walk-arounds, marks,
        and its deferred work (declined at earlier visits, not done since)."""
        body = self._request("GET", f"/vehicles/{vehicle_id}/history")
        if not isinstance(body.get("changes"), list):
            raise UnexpectedResponse("history answer without changes")
        deferred = body.get("deferred_work", [])
        return VehicleHistory(body["changes"], deferred if isinstance(deferred, list) else [])

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
