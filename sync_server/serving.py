"""``checkin-server serve``: waitress, with limits that an unauthenticated caller cannot
use to fill the disk or hold every connection.

* **Bodies are refused before they are read** when their ``Content-Length`` is over the
  route's limit (photo uploads from a device: 25 MB; any other body: the app's
  ``MAX_CONTENT_LENGTH``; a caller with no credentials at all: 64 KB, enough to sign in
  or pair). A chunked body is cut off as soon as it passes the limit. Waitress alone
  would spool any body up to 1 GB into the temp folder before the app could say no.
* **A request's header has ``HEADER_TIMEOUT_SECONDS`` to arrive** (and a new connection
  that sends nothing, the same), so sockets that trickle a header byte by byte
  ("slowloris") are closed; waitress alone keeps them while each byte is fresh.
* ``CONNECTION_LIMIT`` connections at once, ``CHANNEL_TIMEOUT_SECONDS`` of silence.
* **Live event streams** (``sync_server/live``) each hold a worker thread while open:
  the pool gets ``LIVE_MAX_STREAMS`` threads on top of ``--threads``, so ordinary
  requests always have theirs, and waitress keeps reading a connection while its
  request runs (``channel_request_lookahead``) so that a stream whose reader went away
  ends at once.

On the open internet, run it behind a reverse proxy (nginx, Caddy) that buffers
requests and terminates TLS; these limits are for the shop's own network.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher
from waitress.utilities import RequestEntityTooLarge
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from shared.i18n import Text, normalize_language
from shared.sync_protocol import API_PREFIX, MAX_PUSH_BYTES
from sync_server.problems import Problem
from sync_server.sync.blobs import MAX_UPLOAD_BYTES

ANONYMOUS_BODY_BYTES = 64 * 1024
BLOB_UPLOAD_PREFIX = f"{API_PREFIX}/blobs/"


@dataclass(frozen=True)
class ServeLimits:
    """What one ``serve`` process allows; read from the app's settings."""

    body_bytes: int = MAX_PUSH_BYTES
    upload_bytes: int = MAX_UPLOAD_BYTES
    anonymous_body_bytes: int = ANONYMOUS_BODY_BYTES
    header_timeout_s: float = 10.0
    channel_timeout_s: int = 60
    connection_limit: int = 500
    # The reverse proxy's address: only its X-Forwarded-For/-Proto are believed, so the
    # sign-in limits count each client's own address, not the proxy's.
    trusted_proxy: str = ""
    # Live event streams this process serves at once (each holds a worker thread).
    live_streams: int = 20

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> ServeLimits:
        return cls(
            body_bytes=int(settings.get("MAX_CONTENT_LENGTH") or cls.body_bytes),
            header_timeout_s=float(settings.get("HEADER_TIMEOUT_SECONDS", cls.header_timeout_s)),
            channel_timeout_s=int(settings.get("CHANNEL_TIMEOUT_SECONDS", cls.channel_timeout_s)),
            connection_limit=int(settings.get("CONNECTION_LIMIT", cls.connection_limit)),
            trusted_proxy=str(settings.get("TRUSTED_PROXY") or ""),
            live_streams=int(settings.get("LIVE_MAX_STREAMS", cls.live_streams)),
        )

    def body_limit(self, method: str, path: str, headers: Mapping[str, str]) -> int:
        """The most bytes of body this request may send (``headers`` as waitress names
        them: ``AUTHORIZATION``, ``COOKIE``)."""
        if "AUTHORIZATION" not in headers and "COOKIE" not in headers:
            return self.anonymous_body_bytes
        if method == "PUT" and path.startswith(BLOB_UPLOAD_PREFIX):
            return self.upload_bytes
        return self.body_bytes

    def waitress_settings(self) -> dict[str, Any]:
        proxy: dict[str, Any] = {}
        if self.trusted_proxy:
            proxy = {
                "trusted_proxy": self.trusted_proxy,
                "trusted_proxy_count": 1,
                "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
                "clear_untrusted_proxy_headers": True,
            }
        return {
            **proxy,
            # Nothing is larger than a photo: longer bodies are refused by waitress itself.
            "max_request_body_size": self.upload_bytes + 1,
            # JSON bodies stay in memory; only photos go to a temp file.
            "inbuf_overflow": self.body_bytes,
            "channel_timeout": self.channel_timeout_s,
            "connection_limit": self.connection_limit,
            # Read on while a request runs: a closed connection is seen (an event stream
            # whose reader left ends) instead of only when a write fails.
            "channel_request_lookahead": 1,
            # How often the header deadline is checked (also waitress's idle check).
            "cleanup_interval": max(1, int(self.header_timeout_s // 4) or 1),
        }


class TooLargeProblem(RequestEntityTooLarge):
    """Waitress's 413, written as the app writes every refusal: a problem document
    (RFC 9457) in the caller's language, so a device shows it like any other."""

    def __init__(self, limit: int, accept_language: str) -> None:
        super().__init__(f"the limit here is {limit} bytes")
        self.limit = limit
        best = parse_accept_header(accept_language, LanguageAccept).best_match(
            ["en", "zh-CN", "zh"]
        )
        self.lang = normalize_language(best)

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        megabytes = round(self.limit / 1_048_576, 1)
        problem = Problem(
            413,
            "too-large",
            Text("The limit here is {megabytes} MB.", "server", {"megabytes": megabytes}),
        )
        body = json.dumps(problem.to_dict(self.lang), ensure_ascii=False).encode("utf-8")
        headers = [
            ("Content-Type", "application/problem+json"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        return f"{self.code} {self.reason}", headers, body


class RouteLimitedParser(HTTPRequestParser):
    """Waitress's parser, refusing a body over its route's limit before reading it."""

    def __init__(self, adj: Adjustments, limits: ServeLimits) -> None:
        super().__init__(adj)
        self.limits = limits
        self.started = time.monotonic()
        self.body_limit = adj.max_request_body_size

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        self.body_limit = self.limits.body_limit(self.command, self.path, self.headers)
        if not self.chunked and self.content_length > self.body_limit:
            self._too_large()
        self._as_problem()

    def received(self, data: bytes) -> int:
        if self.completed:
            return 0
        consumed = super().received(data)
        if self.chunked and not self.completed and self.body_bytes_received > self.body_limit:
            self._too_large()
        self._as_problem()
        return consumed

    def _as_problem(self) -> None:
        """Waitress's own body limit answers in plain text: answer as the app does."""
        if isinstance(self.error, RequestEntityTooLarge) and not isinstance(
            self.error, TooLargeProblem
        ):
            self.error = TooLargeProblem(self.body_limit, self.headers.get("ACCEPT_LANGUAGE", ""))

    def _too_large(self) -> None:
        self.error = TooLargeProblem(self.body_limit, self.headers.get("ACCEPT_LANGUAGE", ""))
        self.completed = True
        self.body_rcv = None


class LimitedChannel(HTTPChannel):
    server: LimitedServer

    def parser_class(self, adj: Adjustments) -> RouteLimitedParser:  # type: ignore[override]
        return RouteLimitedParser(adj, self.server.limits)


class LimitedServer(TcpWSGIServer):
    """Waitress's TCP server with the header deadline."""

    channel_class = LimitedChannel
    limits = ServeLimits()

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        late = time.monotonic() - self.limits.header_timeout_s
        silent_since = now - self.limits.header_timeout_s
        for channel in list(self.active_channels.values()):
            request = channel.request
            if channel.requests:
                continue  # being answered
            if request is not None and not request.headers_finished and request.started < late:
                channel.will_close = True  # a header that will not finish
            elif (
                request is None
                and channel.creation_time == channel.last_activity
                and channel.creation_time < silent_since
            ):
                channel.will_close = True  # connected, never said a word


def make_server(
    app: Any, *, host: str, port: int, threads: int, limits: ServeLimits
) -> LimitedServer | MultiSocketServer:
    """A waitress server for ``app`` with ``limits``, listening on ``host:port``;
    ``threads`` for ordinary requests, and one more per live event stream allowed."""
    adj = Adjustments(
        host=host,
        port=port,
        threads=threads + max(0, limits.live_streams),
        ident="service-lane",
        **limits.waitress_settings(),
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    socket_map: dict[int, Any] = {}
    server_class = type("ShopServer", (LimitedServer,), {"limits": limits})
    servers = [
        server_class(app, socket_map, dispatcher=dispatcher, adj=adj, sockinfo=sockinfo)
        for sockinfo in adj.listen
    ]
    if len(servers) == 1:
        return servers[0]
    listening = [(server.effective_host, server.effective_port) for server in servers]
    return MultiSocketServer(socket_map, adj, listening, dispatcher, servers[-1].log_info)
