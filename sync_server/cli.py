"""``checkin-server``: serve, migrate, people, device pairing, the demo shop, backups.

Built on Flask's CLI so that every command runs with the app and its database, and
tests drive the same commands through ``app.test_cli_runner()``.
"""

from __future__ import annotations

import io
import logging
import signal
from pathlib import Path

import click
import qrcode
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from shared.shop_time import shop_time_text
from sync_server import db
from sync_server.live import live
from sync_server.pairing import issue_code, revoke_device
from sync_server.people import PIN_PATTERN, PeopleError, create_user, set_pin
from sync_server.shop import shop_settings
from sync_server.shop_tables import Device, DeviceRole, User, UserRole

log = logging.getLogger(__name__)


@click.command("serve")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Use 0.0.0.0 for the shop network."
)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Apply migrations, then serve with waitress, with limits on bodies and headers.

    Meant for the shop's own network. On the open internet, put a reverse proxy
    (nginx, Caddy) in front that terminates TLS and buffers slow clients.
    """
    from sync_server.jobs import start_job_runner
    from sync_server.migrate import upgrade
    from sync_server.public_address import WILDCARD_HOSTS, public_base_url
    from sync_server.server_secrets import ensure_secret_key
    from sync_server.serving import ServeLimits, make_server
    from sync_server.warm_up import start_warm_up

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    upgrade(app)
    ensure_secret_key(app)  # the key every process shares, before the first request
    if host in WILDCARD_HOSTS and not app.config.get("PUBLIC_URL"):
        # Links and QR codes for phones: this machine's LAN address, not 127.0.0.1.
        app.config["PUBLIC_URL"] = public_base_url(host, port)
    # Links in messages the background jobs make (surveys) use the address served on.
    app.config.setdefault("LINK_BASE_URL", public_base_url(host, port))
    # The background work (messages to customers, no-shows, tiers…), each job done once
    # across every process serving this database (``sync_server.jobs``).
    start_job_runner(app)
    # Templates, catalogs, the holiday calendar: loaded now, not by the first pages.
    start_warm_up(app)
    limits = ServeLimits.from_settings(app.config)
    server = make_server(app, host=host, port=port, threads=threads, limits=limits)
    shown = app.config.get("PUBLIC_URL") or public_base_url(host, port)
    click.echo(f"Serving on {shown}/ (Ctrl+C to stop)")
    _stop_on_sigterm(app)
    try:
        server.run()
    finally:
        live(app).shutdown()


def _stop_on_sigterm(app: Flask) -> None:
    """SIGTERM stops the server as Ctrl+C does: open event streams end first (their
    readers reconnect elsewhere), then waitress lets running requests finish."""

    def stop(_signum: int, _frame: object) -> None:
        live(app).shutdown()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade_command(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    from sync_server.migrate import current_revision, upgrade

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    upgrade(app, revision)
    click.echo(f"Database at revision {current_revision(app)}.")


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in UserRole]), required=True)
@click.option("--name", "display_name", default="", help="Name shown to colleagues.")
@click.password_option(
    help="At least 8 characters, not a common or simple one; asked for when not given."
)
@click.option("--pin", default=None, help="Tablet PIN, 4 to 8 digits (optional).")
@with_appcontext
def create_user_command(
    username: str, role: str, display_name: str, password: str, pin: str | None
) -> None:
    """Add an advisor or a manager."""
    if pin is not None and not PIN_PATTERN.fullmatch(pin):
        raise click.BadParameter("A PIN is 4 to 8 digits.", param_hint="pin")
    try:
        user = create_user(db.session(), username, password, UserRole(role), display_name)
        if pin is not None:
            set_pin(db.session(), user, pin)
    except PeopleError as error:
        raise click.BadParameter(error.message.render("en"), param_hint=error.field) from None
    extra = " with a tablet PIN" if pin is not None else ""
    click.echo(f"Created {user.role.value} {user.username!r}{extra}.")


@click.command("set-pin")
@click.argument("username")
@click.option(
    "--pin",
    prompt="Tablet PIN (4 to 8 digits)",
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given.",
)
@with_appcontext
def set_pin_command(username: str, pin: str) -> None:
    """Set (or reset and unlock) a person's PIN for signing in on the advisor tablet."""
    user = db.session().scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.BadParameter(f"no person {username!r}", param_hint="username")
    try:
        set_pin(db.session(), user, pin)
    except PeopleError as error:
        raise click.BadParameter(error.message.render("en"), param_hint=error.field) from None
    click.echo(f"Tablet PIN set for {user.username!r}.")


@click.command("pair")
@click.option("--role", type=click.Choice([r.value for r in DeviceRole]), required=True)
@click.option("--name", "device_name", default="", help="e.g. 'Lobby kiosk'.")
@click.option("--quiet", is_flag=True, help="Print only the code (for scripts).")
@with_appcontext
def pair_command(role: str, device_name: str, quiet: bool) -> None:
    """Issue a pairing code (valid 10 minutes, single use) for a kiosk or tablet."""
    issued = issue_code(
        db.session(),
        DeviceRole(role),
        device_name=device_name,
        minutes=current_app.config["PAIRING_CODE_MINUTES"],
    )
    if quiet:
        click.echo(issued.display)
        return
    click.echo(f"Pairing code for a {role}: {issued.display}")
    zone = shop_settings(db.session()).timezone
    click.echo(f"Valid until {shop_time_text(issued.record.expires_at, zone)}, once.")
    qr = qrcode.QRCode(border=1)
    qr.add_data(issued.display)
    buffer = io.StringIO()
    qr.print_ascii(out=buffer)
    click.echo(buffer.getvalue())


@click.group("devices")
def devices_group() -> None:
    """Paired kiosks and tablets."""


@devices_group.command("list")
@with_appcontext
def devices_list_command() -> None:
    """List paired devices, newest first."""
    devices = db.session().scalars(select(Device).order_by(Device.paired_at.desc())).all()
    if not devices:
        click.echo("No devices paired yet. Use 'checkin-server pair'.")
        return
    for device in devices:
        state = f"revoked {device.revoked_at:%Y-%m-%d %H:%M}" if device.revoked_at else "active"
        seen = f"{device.last_seen_at:%Y-%m-%d %H:%M}" if device.last_seen_at else "never"
        click.echo(
            f"{device.uid}  {device.role.value:<6}  {device.name:<24}  last seen {seen}  {state}"
        )


@devices_group.command("revoke")
@click.argument("device_id")
@with_appcontext
def devices_revoke_command(device_id: str) -> None:
    """Revoke a device: its token stops working on its next request."""
    device = db.session().scalar(select(Device).where(Device.uid == device_id))
    if device is None:
        raise click.BadParameter(f"no device {device_id!r}; see 'checkin-server devices list'")
    revoke_device(db.session(), device)
    click.echo(f"Revoked {device.name!r}.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Seed a demo shop: people, customers, vehicles, today's appointments and visits."""
    from sync_server.demo import seed_demo

    summary = seed_demo(db.session())
    click.echo(summary)


@click.command("send-messages")
@with_appcontext
def send_messages_command() -> None:
    """Send the messages to customers that are due (email, SMS), with retries."""
    from sync_server.messaging import send_due

    counts = send_due(db.session(), current_app.config)
    click.echo(
        f"Sent {counts['sent']}, to retry {counts['retry']}, failed {counts['failed']}, "
        f"not sent (no e-mail server or SMS gateway set up) {counts['not_sent']}."
    )


@click.command("shop")
@click.option("--timezone", "timezone", default=None, help="IANA zone, e.g. Asia/Shanghai")
@click.option("--name", "name", default=None, help="the shop's name on pages and sheets")
@with_appcontext
def shop_command(timezone: str | None, name: str | None) -> None:
    """Show or change the shop's settings: its time zone is the clock of every page,
    screen, message and sheet (devices get it when they next connect)."""
    from shared.shop_time import is_timezone_name
    from sync_server.shop import shop_settings

    session = db.session()
    shop = shop_settings(session)
    if timezone is not None:
        if not is_timezone_name(timezone):
            raise click.BadParameter(
                f"{timezone!r} is not a time zone this machine knows (e.g. Asia/Shanghai)",
                param_hint="--timezone",
            )
        if timezone != shop.timezone:
            from sync_server import approval_months
            from sync_server.sync.records import lock_feed

            # The monthly approval summary is kept in the shop's months: again, in these.
            lock_feed(session)
            shop.timezone = timezone
            approval_months.rebuild(session)
    if name is not None:
        shop.name = name.strip()[:120]
    session.commit()
    click.echo(f"Shop: {shop.name}; time zone: {shop.timezone}")


@click.command("backup")
@click.option(
    "--to",
    "to_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder that keeps the backups (a new folder inside it each time).",
)
@with_appcontext
def backup_command(to_dir: Path) -> None:
    """Back up the database and every photo (with its hash); safe while serving."""
    from sync_server.backup import BackupError, make_backup

    try:
        report = make_backup(current_app._get_current_object(), to_dir)  # type: ignore[attr-defined]
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Backup written to {report.folder} ({report.database}, {report.photos} photos, "
        f"{report.photos_linked} of them linked from an earlier backup)."
    )
    for sha in report.photos_missing:
        click.echo(f"Warning: photo {sha} is listed but its file is missing.", err=True)


@click.command("restore")
@click.argument("backup", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(backup: Path, yes: bool) -> None:
    """Put BACKUP back (stop the server first). Devices then resend what it lacks."""
    from sync_server.backup import BackupError, restore_backup

    if not yes:
        click.confirm(
            f"Replace this server's database with {backup.name}? Devices will send back "
            "what they still hold.",
            abort=True,
        )
    try:
        report = restore_backup(current_app._get_current_object(), backup)  # type: ignore[attr-defined]
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Restored {report.folder.name} ({report.photos_restored} photos brought back); "
        f"new feed epoch {report.feed_epoch}. Start the server: devices resend what it lacks."
    )


@click.group("tiers")
def tiers_group() -> None:
    """Customer tiers (the rules are on the tier rules page)."""


@tiers_group.command("recompute")
@with_appcontext
def tiers_recompute_command() -> None:
    """Work out every customer's tier again (run it nightly, e.g. from cron)."""
    from sync_server.customer_file.tiers import recompute_tiers

    session = db.session()
    changed = recompute_tiers(session)
    session.commit()
    customers = "customer" if changed == 1 else "customers"
    click.echo(f"Tiers worked out again; {changed} {customers} changed tier.")


@click.group("reminders")
def reminders_group() -> None:
    """Maintenance reminders, declined work coming due, birthday and holiday greetings."""


@reminders_group.command("run")
@click.option("--preview", is_flag=True, help="List who would get what and why; send nothing.")
@with_appcontext
def reminders_run_command(preview: bool) -> None:
    """The daily run (safe to run twice: nothing is sent twice)."""
    from sync_server.follow_up.cars_due import catch_up, refresh_if_stale
    from sync_server.follow_up.preview import preview_lines
    from sync_server.follow_up.run import plan_run, run, utc_now

    session = db.session()
    now = utc_now()
    if preview:
        # What the job has not caught up with yet: every car after an interval change,
        # the cars whose history changed since its last run.
        refresh_if_stale(session, now)
        catch_up(session, now, limit=100_000)
        session.commit()
        plan = plan_run(session, now)
        session.rollback()
        for line in preview_lines(plan):
            click.echo(line)
        return
    base_url = current_app.config.get("PUBLIC_URL")
    if not base_url:
        raise click.ClickException(
            "Set PUBLIC_URL to the address customers' phones reach (https://…): the "
            "reminders' booking and opt-out links are made from it."
        )
    plan = run(session, now, str(base_url).rstrip("/"))
    click.echo(
        f"Reminders: {plan.queued} queued, {len(plan.held)} held back "
        f"({len(plan.to_send) - plan.queued} already queued by another run)."
    )


def init_app(app: Flask) -> None:
    from sync_server.sync.blobs_cli import blobs_group
    from sync_server.sync.projections_cli import projections_group

    for command in (
        blobs_group,
        projections_group,
        shop_command,
        send_messages_command,
        serve_command,
        db_group,
        create_user_command,
        set_pin_command,
        pair_command,
        devices_group,
        demo_command,
        backup_command,
        restore_command,
        tiers_group,
        reminders_group,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from sync_server import create_app

    return create_app()


cli = FlaskGroup(
    create_app=_create_app,
    add_default_commands=False,
    help="Service-lane check-in server: serve, migrate, people, devices, demo data.",
)


def main() -> None:
    cli.main(prog_name="checkin-server")
