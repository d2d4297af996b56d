"""Secrets every server process needs, the same in all of them.

The server's ``SECRET_KEY`` signs sign-in sessions and customers' approval links, and
each device's status-link key is derived from it (``sync_server.pairing``): two
processes with different keys would refuse each other's sessions and replace the
status token a kiosk printed on a ticket. So the key comes, in this order, from

1. the ``SECRET_KEY`` setting, when the shop sets it (the same for every process);
2. the database (``server_secrets``), where the first process to start wrote it — a
   second process with an empty instance folder of its own reads the same key;
3. on the first start after an upgrade, the ``secret_key`` file a single-process shop
   kept in its instance folder, moved into the database once (sessions and approval
   links already given out stay valid);
4. else a new random key, written to the database.

The row's name is its primary key: when several processes start at once, the first
write wins and every other process reads that one. A database not migrated yet (the
first ``serve`` on a new database migrates, then reads it, before it serves) is read
at the first request instead.
"""

from __future__ import annotations

import logging
import secrets
import threading
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from sync_server.secret_tables import ServerSecret
from sync_server.table_base import utcnow

log = logging.getLogger(__name__)

SIGNING_KEY = "secret_key"
# Where a shop's key was kept before it moved into the database.
LEGACY_KEY_FILE = "secret_key"
_loading = threading.Lock()


def init_app(app: Flask) -> None:
    """Use the configured key, or read (or write) the shared one from the database."""
    if app.config.get("SECRET_KEY"):
        return
    app.config["SECRET_KEY"] = None
    try:
        if inspect(app.extensions["db_engine"]).has_table(ServerSecret.__tablename__):
            ensure_secret_key(app)
    except SQLAlchemyError as error:  # the database is not up yet: read at the first request
        log.warning("The server's key will be read at the first request: %s", error)

    def read_before_the_first_request() -> None:
        ensure_secret_key(app)

    app.before_request(read_before_the_first_request)


def ensure_secret_key(app: Flask) -> str:
    """The app's ``SECRET_KEY``, read from the database the first time it is needed."""
    key = app.config.get("SECRET_KEY")
    if key:
        return str(key)
    with _loading:
        key = app.config.get("SECRET_KEY")
        if not key:
            key = shared_secret(
                app.extensions["db_engine"],
                SIGNING_KEY,
                moved_in=_legacy_key(Path(app.instance_path)),
            )
            app.config["SECRET_KEY"] = key
            from sync_server.sync import trust

            trust.init_app(app)  # the status-link secret of work done outside a request
    return str(key)


def shared_secret(engine: Engine, name: str, *, moved_in: str | None = None) -> str:
    """The secret ``name`` all processes share: the one in the database, else ``moved_in``
    (an instance folder's key) or a new random one, written once for all."""
    wanted = select(ServerSecret.value).where(ServerSecret.name == name)
    with engine.begin() as connection:
        value = connection.scalar(wanted)
    if value:
        return str(value)
    origin = "instance-folder" if moved_in else "made"
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(ServerSecret).values(
                    name=name,
                    value=moved_in or secrets.token_hex(32),
                    origin=origin,
                    created_at=utcnow(),
                )
            )
        log.info("The server's %s is now kept in the database (%s).", name, origin)
    except IntegrityError:
        pass  # another process wrote it at the same moment: theirs is the one
    with engine.begin() as connection:
        return str(connection.scalar(wanted))


def _legacy_key(instance_path: Path) -> str | None:
    try:
        key = (instance_path / LEGACY_KEY_FILE).read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    return key or None
