"""Many new rows into one table in one go: on PostgreSQL through ``COPY … FROM STDIN``.

A push of 200 changes writes some 500 new rows (its changes' answers, the typed rows,
the feed's records). A multi-row ``executemany`` sends them as one ``INSERT`` each,
which PostgreSQL parses, plans and executes row by row; ``COPY`` streams them into the
table as one statement, the cheapest way PostgreSQL takes rows, on both ends of the
connection. Constraints, foreign keys and indexes are checked as for an ``INSERT``.

Values go through each column type's bind processing exactly as an ``INSERT`` of the
same rows would (JSON encoded, enums by name, ...), and a failure raises what the
``INSERT`` would have raised (SQLAlchemy's ``IntegrityError``, ``DataError`` ...), so the
push still tells a change at fault from a database that failed. Elsewhere (SQLite) the
rows go through ``executemany``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

# Told of every COPY: ``(session, table name, rows)``. A ``COPY`` is not an ORM execution,
# so the session's ``do_orm_execute`` listeners (the live board's, which notes what a
# push wrote) never see it; they register here instead (:func:`on_copy`).
_COPY_LISTENERS: list[Callable[[Session, str, Sequence[dict[str, Any]]], None]] = []


def on_copy(listener: Callable[[Session, str, Sequence[dict[str, Any]]], None]) -> None:
    """Call ``listener(session, table_name, rows)`` after each ``COPY`` of new rows."""
    if listener not in _COPY_LISTENERS:
        _COPY_LISTENERS.append(listener)


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (every column of ``table`` by its key) into ``table``."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        session.execute(table.insert(), list(rows))
        return
    columns = list(table.columns)
    unknown = rows[0].keys() - {column.key for column in columns}
    if unknown:  # as an INSERT of these rows would refuse them
        raise RuntimeError(f"{table.name} has no columns {sorted(unknown)}")
    processors = _bind_processors(table, dialect)
    names = ", ".join(dialect.identifier_preparer.quote(column.name) for column in columns)
    statement = f"COPY {dialect.identifier_preparer.format_table(table)} ({names}) FROM STDIN"
    import psycopg  # PostgreSQL only (the ``postgres`` extra)

    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            # The engine's listeners see the statement as they see every other one.
            connection.dispatch.before_cursor_execute(
                connection, cursor, statement, rows, None, True
            )
            keys = [column.key for column in columns]
            for row in rows:
                copy.write_row(
                    [
                        row[key] if process is None else process(row[key])
                        for key, process in zip(keys, processors, strict=True)
                    ]
                )
    except psycopg.Error as error:
        raise DBAPIError.instance(statement, None, error, psycopg.Error) from error
    for listener in _COPY_LISTENERS:
        listener(session, table.name, rows)


_PROCESSORS: dict[tuple[str, str], list[Callable[[Any], Any] | None]] = {}


def _bind_processors(table: Table, dialect: Any) -> list[Callable[[Any], Any] | None]:
    key = (table.name, dialect.name)
    cached = _PROCESSORS.get(key)
    if cached is None:
        cached = _PROCESSORS[key] = [
            column.type._cached_bind_processor(dialect) for column in table.columns
        ]
    return cached
