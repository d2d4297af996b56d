"""What every server table is made of: the declarative ``Base`` and its naming convention,
the UTC time column, JSON documents and enum columns.

Records that devices create carry the UUID the device gave them, so a record has the same
id on every node; people and devices, which only the server creates, have integer ids.
Every time is stored as UTC and read back timezone-aware, on SQLite as on PostgreSQL.

Table modules take ``Base`` from here; ``sync_server.models`` imports every one of them,
so that ``Base.metadata`` (Alembic, a merge over all tables) knows every table.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the server stores UTC-aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSON documents: ``jsonb`` on PostgreSQL (binary, indexable), JSON text on SQLite.
JsonType = JSON().with_variant(JSONB(), "postgresql")


def enum_column(
    enum_class: type[enum.Enum], name: str, *, length: int = 20, constraint: bool = True
) -> SqlEnum:
    """A column of an enum's values. ``constraint=False`` for columns that were plain
    text before: the ORM refuses unknown values, and no table needs to be rebuilt."""
    return SqlEnum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=constraint,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012
        datetime: UTCDateTime(),
        dict[str, Any]: JsonType,
        list[str]: JsonType,
        list[Any]: JsonType,
    }
