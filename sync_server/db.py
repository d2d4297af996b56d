"""Database engine and the one-session-per-request rule.

``init_app`` makes the engine from ``DATABASE_URL``; SQLite gets WAL mode, foreign keys
and ``synchronous=FULL`` so that whatever the server acknowledged survives a power cut.
Views call :func:`session` and get the request's session; it is closed at teardown.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """An engine for ``url``; SQLite is tuned for durability and concurrent readers.
    Elsewhere ``pool_size`` connections stay open (``DATABASE_POOL_SIZE``)."""
    # An error's text never carries a statement's values (a customer's name, phone or
    # plate), so the logs that keep it carry none either.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, hide_parameters=True)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"], int(app.config.get("DATABASE_POOL_SIZE", 10)))
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def session() -> Session:
    """The session of the current request or CLI command."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
