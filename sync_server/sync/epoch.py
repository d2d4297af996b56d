"""Which server this is and which life of its changes feed is running.

A restore from a backup takes the feed back in time: sequence numbers are handed out
again and changes devices were told were applied are gone. So the server has an
identity and a **feed epoch** (``ServerIdentity``), and ``checkin-server restore``
starts a new epoch. Every pull answer carries them with the feed's head; a device that
remembers another epoch, or whose cursor is ahead of the head, resets its cursor and
asks which of the changes it holds the server lacks (:func:`missing_change_ids`), as it
asks about photos by hash, and sends only those again (docs/sync.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.problems import Problem
from sync_server.sync.tables import AppliedChange, ServerIdentity, SyncCounter
from sync_server.table_base import utcnow


def server_identity(session: Session) -> ServerIdentity:
    """The identity row, made the first time it is asked for (migration 0008 makes it)."""
    identity = session.get(ServerIdentity, 1)
    if identity is None:
        identity = ServerIdentity(
            id=1, server_id=str(uuid.uuid4()), feed_epoch=str(uuid.uuid4()), restored_from=""
        )
        session.add(identity)
        session.commit()
    return identity


def feed_head(session: Session) -> int:
    """The last sequence number the feed handed out (0 for an empty feed)."""
    return session.scalar(select(SyncCounter.value).where(SyncCounter.id == 1)) or 0


def feed_info(session: Session) -> dict[str, Any]:
    """What every pull answer tells a device about the feed it reads."""
    identity = server_identity(session)
    return {
        "server_id": identity.server_id,
        "epoch": identity.feed_epoch,
        "head": feed_head(session),
    }


def check_device_epoch(session: Session, epoch: str) -> None:
    """Refuse a push made for another feed epoch (409, with the feed): the device must
    first find out what this restored server lacks, then push again."""
    feed = feed_info(session)
    if epoch and epoch != feed["epoch"]:
        raise Problem(
            409,
            "feed-epoch-changed",
            Text(
                "The server was restored from a backup. This device first checks what "
                "the server lacks, then sends it again.",
                "server",
            ),
            extra={"feed": feed},
        )


def start_new_epoch(session: Session, restored_from: str) -> str:
    """A restore happened: devices must offer again what they sent. Returns the epoch."""
    identity = server_identity(session)
    identity.feed_epoch = str(uuid.uuid4())
    identity.epoch_started_at = utcnow()
    identity.restored_from = restored_from[-200:]
    session.commit()
    return identity.feed_epoch


def missing_change_ids(session: Session, change_ids: Sequence[str]) -> list[str]:
    """Which of these change ids the server has not applied, in the order given."""
    if not change_ids:
        return []
    have = set(
        session.scalars(
            select(AppliedChange.change_id).where(AppliedChange.change_id.in_(change_ids))
        )
    )
    return [change_id for change_id in change_ids if change_id not in have]
