"""The server's scheduled background work, done once across every server process.

``checkin-server serve`` runs :func:`start_job_runner`: a thread that, every few
seconds, runs each registered :class:`Job` that is due. Several processes may serve one
PostgreSQL database; each job has a row in ``job_leases`` and a process runs it only
after taking that row's lease with one conditional ``UPDATE`` (the job is due, and no
one holds an unexpired lease): exactly one process wins, the others see the job taken.
When the run ends, the winner sets the job's next due time and lets the lease go; a
process that dies mid-run keeps it only until ``until`` passes. On SQLite the single
process does the same, as before.

The message sender is the exception (``per_process=True``): every process runs it,
because each message is claimed on a lease of its own (``sync_server.messaging``), so
the processes share the sending and none sends a message twice.

Adding a job (surveys, follow-up reminders…) is one line in :func:`_register_builtin`
(or a :func:`register` call from a module imported at start)::

    register(Job("surveys", _send_surveys, every=timedelta(minutes=10)))

``run(session, config, now)`` does one pass and commits what it did; it must be safe to
run again after a crash (pick up what is left). See docs/jobs.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.shop_time import shop_zone
from sync_server.job_tables import JobLease
from sync_server.table_base import utcnow

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0
JobRun = Callable[[Session, Mapping[str, Any], datetime], object]


@dataclass(frozen=True)
class Job:
    """A piece of background work: ``every`` so often, or ``daily_at`` a shop-time
    hour. ``lease`` must outlast one run; ``per_process`` jobs skip the lease (they
    claim their own work item by item)."""

    name: str
    run: JobRun
    every: timedelta | None = None
    daily_at: time | None = None
    lease: timedelta = timedelta(minutes=10)
    per_process: bool = False

    def next_due(self, after: datetime, zone_name: str) -> datetime:
        if self.daily_at is None:
            return after + (self.every or timedelta(minutes=1))
        zone = shop_zone(zone_name)
        local = after.astimezone(zone)
        due = datetime.combine(local.date(), self.daily_at, zone)
        if due <= local:
            due = datetime.combine(local.date() + timedelta(days=1), self.daily_at, zone)
        return due.astimezone(UTC)


_JOBS: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Add (or replace, by name) a job the runner runs."""
    _JOBS[job.name] = job
    return job


def unregister(name: str) -> None:
    """Take a job out (a plug-in switched off)."""
    _JOBS.pop(name, None)


def registered() -> list[Job]:
    _register_builtin()
    return list(_JOBS.values())


# --- the built-in jobs --------------------------------------------------------------


def _send_messages(session: Session, config: Mapping[str, Any], now: datetime) -> object:
    """The outbox (and, before every pass, the appointment reminders: queued when
    missing, held in quiet hours — ``sync_server.appointments.reminders``)."""
    from sync_server.messaging import send_due

    return send_due(session, config)


def _mark_no_shows(session: Session, config: Mapping[str, Any], now: datetime) -> object:
    from sync_server.appointments.day_plan import mark_no_shows
    from sync_server.appointments.settings import capacity_rules

    marked = mark_no_shows(session, now, capacity_rules(session).no_show_grace_minutes)
    session.commit()
    return {"no_shows": marked}


def _recompute_tiers(session: Session, config: Mapping[str, Any], now: datetime) -> object:
    from sync_server.customer_file.tiers import recompute_tiers

    changed = recompute_tiers(session, now=now)
    session.commit()
    return {"changed": changed}


def _run_reminders(session: Session, config: Mapping[str, Any], now: datetime) -> object:
    """The reminders' daily run, hourly: safe to repeat (each contact once), nothing in
    quiet hours, so the first run after them is the day's run."""
    from sync_server.follow_up.run import run

    base_url = str(config.get("PUBLIC_URL") or config.get("LINK_BASE_URL") or "").rstrip("/")
    if not base_url:
        return {"skipped": "no PUBLIC_URL for the links"}
    plan = run(session, now, base_url)
    return {"queued": plan.queued, "held": len(plan.held)}


def _refresh_cars_due(session: Session, config: Mapping[str, Any], now: datetime) -> object:
    """The cars whose history changed worked out again, and every car once the service
    intervals changed (``sync_server.follow_up.cars_due``): here, not in the request."""
    from sync_server.follow_up.cars_due import catch_up, refresh_if_stale

    everyone = refresh_if_stale(session, now)
    touched = catch_up(session, now)
    session.commit()
    return {"all_cars": everyone, "touched": touched}


def _register_builtin() -> None:
    if "messages" in _JOBS:
        return
    register(
        Job("messages", _send_messages, every=timedelta(seconds=15), per_process=True),
    )
    register(Job("no_shows", _mark_no_shows, every=timedelta(minutes=1)))
    register(Job("tiers", _recompute_tiers, daily_at=time(3, 15), lease=timedelta(hours=1)))
    register(
        Job("reminders", _run_reminders, every=timedelta(hours=1), lease=timedelta(minutes=30))
    )
    register(
        Job("cars_due", _refresh_cars_due, every=timedelta(seconds=10), lease=timedelta(minutes=30))
    )
    # New jobs (surveys, follow-up reminders): register them here, as above.


# --- the lease ----------------------------------------------------------------------


def _shop_zone_name(session: Session) -> str:
    """The shop's time zone, read only (several processes may ask at once)."""
    from shared.shop_time import server_timezone_name
    from sync_server.shop_tables import Shop

    shop = session.get(Shop, 1)
    return shop.timezone if shop is not None else server_timezone_name()


def take_lease(session: Session, job: Job, holder: str, now: datetime) -> bool:
    """Take ``job``'s lease for ``holder`` if the job is due and nobody holds it (or
    their lease ran out); commits. True when this process is to run it now."""
    if session.get(JobLease, job.name) is None:
        first = now if job.daily_at is None else job.next_due(now, _shop_zone_name(session))
        try:
            session.add(JobLease(name=job.name, next_run_at=first))
            session.commit()
        except IntegrityError:  # another process made the row at the same moment
            session.rollback()
    taken = session.execute(
        update(JobLease)
        .where(
            JobLease.name == job.name,
            JobLease.next_run_at <= now,
            or_(JobLease.until.is_(None), JobLease.until < now),
        )
        .values(holder=holder, until=now + job.lease, last_started_at=now)
    ).rowcount
    session.commit()
    return bool(taken)


def release_lease(
    session: Session, job: Job, holder: str, finished: datetime, outcome: str
) -> None:
    """The run is over: set the next due time and let the lease go (if still ours)."""
    session.execute(
        update(JobLease)
        .where(JobLease.name == job.name, JobLease.holder == holder)
        .values(
            holder="",
            until=None,
            next_run_at=job.next_due(finished, _shop_zone_name(session)),
            last_finished_at=finished,
            last_outcome=outcome[:400],
        )
    )
    session.commit()


def run_due_jobs(
    session: Session,
    config: Mapping[str, Any],
    holder: str,
    now: datetime | None = None,
    local_due: dict[str, datetime] | None = None,
) -> list[str]:
    """One tick of the runner: run every job that is due and whose lease this process
    takes; returns the names of the jobs it ran. ``local_due`` keeps the next times
    of the per-process jobs of this process."""
    now = now or utcnow()
    local_due = {} if local_due is None else local_due
    ran: list[str] = []
    for job in registered():
        if job.per_process:
            if local_due.get(job.name, now) > now:
                continue
            local_due[job.name] = job.next_due(now, "UTC")
        elif not take_lease(session, job, holder, now):
            continue
        try:
            outcome = f"done: {job.run(session, config, now)}"
        except Exception as error:
            session.rollback()
            log.exception("background job %s failed; it runs again when next due", job.name)
            outcome = f"failed: {type(error).__name__}: {error}"
        ran.append(job.name)
        if not job.per_process:
            release_lease(session, job, holder, max(now, utcnow()), outcome)
    return ran


def job_states(session: Session) -> list[JobLease]:
    """Each scheduled job's lease row: who runs it, until when, when it is next due."""
    return list(session.scalars(select(JobLease).order_by(JobLease.name)))


def start_job_runner(
    app: Flask, holder: str | None = None, tick_seconds: float | None = None
) -> threading.Event:
    """Run the due jobs in the background while the server runs; set the event to stop."""
    from sync_server.messaging.sending import this_process

    stop = threading.Event()
    name = holder or this_process()
    tick = tick_seconds or float(app.config.get("JOB_TICK_SECONDS", TICK_SECONDS))
    interval = app.config.get("MESSAGE_SEND_SECONDS")
    if interval:  # the sender's pace, as set for the whole server
        _register_builtin()
        register(
            Job(
                "messages",
                _send_messages,
                every=timedelta(seconds=float(interval)),
                per_process=True,
            )
        )
    # A per-process job first runs one interval after the start, as it always did.
    started = utcnow()
    local_due = {job.name: job.next_due(started, "UTC") for job in registered() if job.per_process}

    def loop() -> None:
        from sync_server import db

        while not stop.wait(tick):
            try:
                with app.app_context():
                    run_due_jobs(db.session(), app.config, name, local_due=local_due)
            except Exception:
                log.exception("background job runner failed; trying again")

    threading.Thread(target=loop, name="job-runner", daemon=True).start()
    return stop


__all__ = [
    "Job",
    "job_states",
    "register",
    "registered",
    "release_lease",
    "run_due_jobs",
    "start_job_runner",
    "take_lease",
    "unregister",
]
