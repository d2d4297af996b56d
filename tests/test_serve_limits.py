"""``checkin-server serve`` holds against disk fill and connection exhaustion by callers
who need no credentials (issue 10, items 7 and 8). A real server process on loopback,
on SQLite: the limits live in the HTTP server, not in the database.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from live_server import LiveServer

from sync_server.serving import ServeLimits

MIB = 1024 * 1024


@pytest.fixture
def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path
) -> Iterator[tuple[LiveServer, Path]]:
    temp = tmp_path / "server-temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # where waitress would spool bodies
    monkeypatch.setenv("HEADER_TIMEOUT_SECONDS", "2")
    server = LiveServer(tmp_path / "server").copy_database(sqlite_template).start()
    try:
        yield server, temp
    finally:
        server.stop()


_opened: list[socket.socket] = []


@pytest.fixture(autouse=True)
def _close_sockets() -> Iterator[None]:
    """Every socket a test opened is closed, whatever the test's outcome."""
    yield
    while _opened:
        _opened.pop().close()


def _connect(server: LiveServer) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    _opened.append(connection)
    return connection


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def _answer_of(connection: socket.socket) -> bytes:
    try:
        return connection.recv(4096)
    except OSError:
        return b""


def _send_stalled_body(connection: socket.socket, head: bytes, megabytes: int) -> None:
    """Send the header and part of the body, then stall (the connection stays open)."""
    connection.sendall(head)
    chunk = b"x" * MIB
    try:
        for _ in range(megabytes):
            connection.sendall(chunk)
    except OSError:
        pass  # the server already answered and closed: nothing more is read


def test_a_huge_body_with_a_stalled_sender_fills_no_disk(served: tuple[LiveServer, Path]) -> None:
    server, temp = served
    stalled = []
    for path in ("/api/v1/health", "/api/v1/auth/login", "/api/v1/devices/pair"):
        connection = _connect(server)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
            f"Content-Length: {900 * MIB}\r\n\r\n"
        ).encode()
        _send_stalled_body(connection, head, 30)
        assert _answer_of(connection).startswith(b"HTTP/1.1 413"), path
        stalled.append(connection)
    # A device's photo upload (with a bearer token) may be larger, but not unbounded.
    connection = _connect(server)
    head = (
        "PUT /api/v1/blobs/" + "a" * 64 + " HTTP/1.1\r\nHost: shop\r\n"
        "Authorization: Bearer not-checked-yet\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {900 * MIB}\r\n\r\n"
    ).encode()
    _send_stalled_body(connection, head, 30)
    assert _answer_of(connection).startswith(b"HTTP/1.1 413")
    stalled.append(connection)
    assert _folder_bytes(temp) < MIB
    assert requests.get(f"{server.url}/api/v1/health", timeout=10).ok
    for connection in stalled:
        connection.close()


def test_an_endless_chunked_body_is_cut_off(served: tuple[LiveServer, Path]) -> None:
    server, temp = served
    connection = _connect(server)
    connection.sendall(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"[" * 64 * 1024)
    try:
        for _ in range(200):  # 12.5 MB, far past any JSON body's limit
            connection.sendall(chunk)
    except OSError:
        pass
    assert _answer_of(connection).startswith(b"HTTP/1.1 413")
    assert _folder_bytes(temp) < MIB
    connection.close()


def test_bodies_within_their_limits_still_work(served: tuple[LiveServer, Path]) -> None:
    server, _ = served
    wrong = requests.post(
        f"{server.url}/api/v1/auth/login",
        json={"username": "nobody", "password": "x" * 200},
        timeout=10,
    )
    assert wrong.status_code == 401
    too_big_for_json = requests.post(
        f"{server.url}/api/v1/auth/login",
        data=b"{" + b" " * (3 * MIB) + b"}",
        headers={"Content-Type": "application/json", "Cookie": "session=x"},
        timeout=10,
    )
    assert too_big_for_json.status_code == 413


def test_trickled_headers_neither_block_health_nor_stay_open(
    served: tuple[LiveServer, Path],
) -> None:
    server, _ = served
    slow = []
    for _ in range(110):
        connection = _connect(server)
        connection.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: shop\r\nX-Slow: ")
        slow.append(connection)
    silent = [_connect(server) for _ in range(20)]  # connected, never a word
    assert requests.get(f"{server.url}/api/v1/health", timeout=10).ok
    # Keep trickling: the header deadline closes them all the same.
    deadline = time.monotonic() + 60
    open_ones = slow + silent
    while open_ones and time.monotonic() < deadline:
        for connection in open_ones:
            connection.settimeout(0.05)
            try:
                if connection in slow:
                    connection.sendall(b"a")
                if connection.recv(1024) == b"":
                    connection.close()
            except TimeoutError:
                pass
            except OSError:
                connection.close()
        open_ones = [connection for connection in open_ones if connection.fileno() != -1]
        time.sleep(0.5)
    assert open_ones == []
    assert requests.get(f"{server.url}/api/v1/health", timeout=10).ok


def test_limits_per_route() -> None:
    limits = ServeLimits(body_bytes=2 * MIB, upload_bytes=25 * MIB, anonymous_body_bytes=64 * 1024)
    device = {"AUTHORIZATION": "Bearer t"}
    assert limits.body_limit("PUT", "/api/v1/blobs/" + "a" * 64, device) == 25 * MIB
    assert limits.body_limit("POST", "/api/v1/sync/push", device) == 2 * MIB
    assert limits.body_limit("POST", "/visits/x/quote", {"COOKIE": "session=s"}) == 2 * MIB
    assert limits.body_limit("PUT", "/api/v1/blobs/" + "a" * 64, {}) == 64 * 1024
    assert limits.body_limit("POST", "/api/v1/devices/pair", {}) == 64 * 1024


def test_a_trusted_proxy_is_believed_and_no_one_else() -> None:
    from waitress.adjustments import Adjustments

    assert "trusted_proxy" not in ServeLimits().waitress_settings()
    behind = ServeLimits(trusted_proxy="10.0.0.2").waitress_settings()
    adjustments = Adjustments(host="127.0.0.1", port=0, **behind)
    assert adjustments.trusted_proxy == "10.0.0.2"
    assert adjustments.trusted_proxy_headers == {"x-forwarded-for", "x-forwarded-proto"}
    assert adjustments.clear_untrusted_proxy_headers
