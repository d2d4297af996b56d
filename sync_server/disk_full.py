"""The server's disk is full: answered 507 with a problem that says so, not a 500.

Whatever ran out of space (a photo's file, SQLite's database file, PostgreSQL's), the
request changed nothing, and the device keeps what it sent and sends it again later:
``Retry-After`` tells it when to try.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator

from shared.i18n import Text
from sync_server.problems import Problem

RETRY_AFTER_SECONDS = 300
_SQLITE_FULL = 13
_POSTGRES_DISK_FULL = "53100"
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__, getattr(current, "orig", None)]


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is a full disk or an exhausted quota."""
    for cause in _causes(error):
        if isinstance(cause, OSError) and cause.errno in _NO_SPACE:
            return True
        if isinstance(cause, sqlite3.Error) and (
            getattr(cause, "sqlite_errorcode", None) == _SQLITE_FULL
            or "database or disk is full" in str(cause)
        ):
            return True
        if getattr(cause, "sqlstate", None) == _POSTGRES_DISK_FULL:
            return True
    return False


def out_of_space_problem() -> Problem:
    return Problem(
        507,
        "server-out-of-space",
        Text(
            "The shop server's disk is full, so nothing was saved. The device keeps "
            "everything and sends it again once space is freed; tell the service manager.",
            "server",
        ),
        title=Text("The server is out of disk space", "server"),
        extra={"retry_after_seconds": RETRY_AFTER_SECONDS},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
