"""The sync server a database benchmark times: a fresh SQLite file in a temporary folder,
or a fresh database made on a PostgreSQL server and dropped after the run (unless kept),
or a database seeded and kept by an earlier run; migrated to the newest schema. Also the
``--postgres`` option and a test client signed in as one of the seeded users.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

PASSWORD = "bench-password"


def database_options(
    parser: argparse.ArgumentParser, *, from_environment: bool = False, keep: bool = False
) -> None:
    """``--postgres URL`` (a server whose database is only used to make a fresh one);
    with ``from_environment`` it defaults to ``TEST_DATABASE_URL`` and ``--sqlite``
    runs on SQLite regardless; with ``keep``, ``--keep`` keeps the seeded database and
    ``--seeded URL`` times a kept one again."""
    default = os.environ.get("TEST_DATABASE_URL") if from_environment else None
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=default,
        help="a PostgreSQL server (its database is only used to make a fresh one)",
    )
    if from_environment:
        parser.add_argument("--sqlite", action="store_true", help="SQLite even with the URL set")
    if keep:
        parser.add_argument("--keep", action="store_true", help="keep the seeded database")
        parser.add_argument("--seeded", metavar="URL", help="a database this benchmark kept")


@contextmanager
def bench_server(
    name: str, postgres: str | None, *, seeded: str | None = None, keep: bool = False
) -> Iterator[Any]:
    """A migrated server app for the benchmark ``name`` (its temporary folder is
    ``/tmp/<name>-bench-*``, its PostgreSQL database ``<name>_bench_<random>``). Its
    database URL is ``app.config["DATABASE_URL"]``; the folder ``app.config["BENCH_FOLDER"]``."""
    folder = Path(tempfile.mkdtemp(prefix=f"{name.replace('_', '-')}-bench-"))
    os.environ["CHECKIN_INSTANCE_PATH"] = str(folder / "instance")
    from sync_server import create_app
    from sync_server.migrate import upgrade

    url = seeded or f"sqlite:///{folder / 'bench.sqlite3'}"
    admin: Engine | None = None
    database = f"{name}_bench_{uuid.uuid4().hex[:8]}"
    if postgres and not seeded:
        admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        url = make_url(postgres).set(database=database).render_as_string(hide_password=False)
    app = None
    try:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "BENCH_FOLDER": folder})
        upgrade(app)
        yield app
    finally:
        engine = app.extensions.get("db_engine") if app is not None else None
        if engine is not None:
            engine.dispose()
        if admin is not None:
            if not keep:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()


def add_user(session: Any, username: str, role: Any) -> int:
    """A user of the bench shop (every one has the password ``PASSWORD``); its id."""
    from sync_server.people import create_user

    return create_user(session, username, PASSWORD, role).id


def signed_in(app: Any, username: str) -> Any:
    """A test client signed in through the sign-in page as ``username``."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    return client


def continue_feed(engine: Engine) -> None:
    """The sync feed goes on after the records a benchmark seeded in bulk."""
    with engine.begin() as connection:
        last = connection.execute(text("SELECT max(seq) FROM sync_records")).scalar() or 0
        connection.execute(text("DELETE FROM sync_counter"))
        connection.execute(
            text("INSERT INTO sync_counter (id, value) VALUES (1, :last)"), {"last": last}
        )


def analyze(engine: Engine) -> None:
    """Fresh planner statistics after a bulk seeding."""
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
