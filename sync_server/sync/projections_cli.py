"""``checkin-server projections rebuild [--kind K]``: the typed tables projected again
from the sync records, for a database whose typed rows are in doubt."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from sync_server import db
from sync_server.approval_month_tables import ApprovalMonth
from sync_server.sync.projections import COUNTED_KINDS, KIND_ORDER, rebuild
from sync_server.sync.records import lock_feed


@click.group("projections")
def projections_group() -> None:
    """The typed tables the back office reads, projected from the sync records."""


@projections_group.command("rebuild")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KIND_ORDER),
    help="Only this kind of record (may be given more than once); every kind by default.",
)
@with_appcontext
def rebuild_command(kinds: tuple[str, ...]) -> None:
    """Project every sync record again, in one transaction, holding the writers' lock."""
    session = db.session()
    lock_feed(session)
    counts = rebuild(session, kinds or None)
    session.commit()
    for kind, count in counts.items():
        click.echo(f"{kind}: {count} {'record' if count == 1 else 'records'} projected")
    if COUNTED_KINDS & set(counts):
        rows = session.scalar(select(func.count()).select_from(ApprovalMonth))
        click.echo(f"approval months: {rows} {'row' if rows == 1 else 'rows'}")
