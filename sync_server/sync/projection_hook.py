"""Where the merge engine meets the typed tables (``projections``): the rows a change
reads, its references to other records, the bounds its table's columns set, and the
write of its row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.sync import projections, trust
from sync_server.sync.batch import cached_get
from sync_server.sync.changes import Change, ChangeRefused
from sync_server.sync.projections import PROJECTIONS
from sync_server.table_base import Base


def related_rows(change: Change) -> Iterable[tuple[type[Base], Any]]:
    """The typed rows applying ``change`` reads, so a batch loads them at once."""
    return projections.prefetch_keys(change.kind, change.id, change.fields)


def check_references(session: Session, kind: str, record: Any) -> None:
    """Typed tables refer to each other: say so clearly instead of failing a constraint."""
    for field_name, model, target in projections.references(kind, record):
        if cached_get(session, model, target) is None:
            raise ChangeRefused(
                422,
                "reference-missing",
                Text(
                    "This record refers to one the server does not have ({field}).",
                    "server",
                    {"field": field_name},
                ),
                [{"field": field_name, "code": "reference_missing"}],
            )


@functools.cache
def projected_columns(kind: str) -> tuple[str, ...]:
    """The record's fields that are columns of its typed table (its id aside): the
    values whose bounds the table sets (``trust.check_columns``)."""
    from dataclasses import fields as dataclass_fields

    from shared.wire import KINDS

    columns = {column.key for column in PROJECTIONS[kind].__table__.columns}
    return tuple(
        item.name
        for item in dataclass_fields(KINDS[kind])
        if item.name in columns and item.name != "id"
    )


def check_columns(session: Session, kind: str, record: Any) -> None:
    """The record's values fit the columns of its typed table (``trust.check_columns``)."""
    if kind in PROJECTIONS:
        trust.check_columns(session, PROJECTIONS[kind], projected_columns(kind), record, cached_get)


def project(session: Session, kind: str, record: Any, origin: str) -> None:
    """Write the record's typed row, in the change's transaction."""
    projections.project(session, kind, record, origin)
