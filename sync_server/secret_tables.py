"""The server's own secrets, one row each, shared by every server process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.table_base import Base, utcnow


class ServerSecret(Base):
    """A secret every process needs alike (the key that signs sessions, approval links
    and devices' status-link keys). The name is the primary key: the first process to
    write it wins and every other one reads that value."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    # Where it came from: "instance-folder" (a single-process shop's key, moved in) or
    # "made" (a new random one).
    origin: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
