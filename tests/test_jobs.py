"""Scheduled background work done once across server processes: a due job runs in one
of several processes ticking together; it is not run again before its next due time; a
lease left by a process that died mid-run is taken after it runs out; a new job
registers with one call; the nightly tier job is due at 03:15 shop time."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from sync_server import db
from sync_server.job_tables import JobLease
from sync_server.jobs import Job, register, registered, run_due_jobs, take_lease, unregister
from sync_server.table_base import utcnow


class Counting:
    """A job's work that counts its runs (by holder)."""

    def __init__(self) -> None:
        self.runs: list[datetime] = []
        self.lock = threading.Lock()

    def __call__(self, session: Session, config: Mapping[str, Any], now: datetime) -> object:
        with self.lock:
            self.runs.append(now)
        return len(self.runs)


@pytest.fixture
def surveys() -> Iterator[Counting]:
    work = Counting()
    register(Job("test_surveys", work, every=timedelta(minutes=10), lease=timedelta(minutes=2)))
    try:
        yield work
    finally:
        unregister("test_surveys")


def tick(app: Flask, holder: str, now: datetime) -> list[str]:
    with app.app_context():
        return run_due_jobs(db.session(), app.config, holder, now=now)


def test_a_due_job_runs_once_across_processes_until_it_is_due_again(
    app: Flask, surveys: Counting
) -> None:
    now = utcnow()
    together = threading.Barrier(3)
    ran: dict[str, list[str]] = {}

    def process(holder: str) -> None:
        together.wait()
        ran[holder] = tick(app, holder, now)

    threads = [threading.Thread(target=process, args=(f"p{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(surveys.runs) == 1
    assert sum("test_surveys" in names for names in ran.values()) == 1
    # Every process runs its own sender pass (each message is claimed on its own lease).
    assert all("messages" in names for names in ran.values())
    assert "test_surveys" not in tick(app, "p1", now + timedelta(minutes=9))
    assert "test_surveys" in tick(app, "p2", now + timedelta(minutes=11))
    assert len(surveys.runs) == 2
    with app.app_context():
        lease = db.session().get(JobLease, "test_surveys")
        assert lease.holder == "" and lease.until is None
        assert lease.last_outcome == "done: 2" and lease.next_run_at > now + timedelta(minutes=20)


def test_the_lease_of_a_process_that_died_mid_run_is_taken_after_it_runs_out(
    app: Flask, surveys: Counting
) -> None:
    job = next(job for job in registered() if job.name == "test_surveys")
    now = utcnow()
    with app.app_context():
        session = db.session()
        assert take_lease(session, job, "died", now)  # ...and never finishes
        assert not take_lease(session, job, "alive", now + timedelta(minutes=1))
        assert take_lease(session, job, "alive", now + timedelta(minutes=3))
        assert session.get(JobLease, "test_surveys").holder == "alive"


def test_a_failing_job_is_recorded_and_runs_again_when_next_due(app: Flask) -> None:
    def broken(session: Session, config: Mapping[str, Any], now: datetime) -> object:
        raise RuntimeError("survey template missing")

    register(Job("test_broken", broken, every=timedelta(minutes=5)))
    try:
        now = utcnow()
        assert "test_broken" in tick(app, "p1", now)
        with app.app_context():
            lease = db.session().get(JobLease, "test_broken")
            assert lease.last_outcome.startswith("failed: RuntimeError: survey template")
            assert lease.until is None
        assert "test_broken" in tick(app, "p1", now + timedelta(minutes=6))
    finally:
        unregister("test_broken")


def test_the_built_in_jobs() -> None:
    jobs = {job.name: job for job in registered()}
    assert {"messages", "no_shows", "tiers"} <= set(jobs)
    assert jobs["messages"].per_process and not jobs["no_shows"].per_process
    tiers = jobs["tiers"]
    assert tiers.daily_at == time(3, 15)
    # 20:00 UTC is 04:00 in Shanghai: the next run is tomorrow 03:15 there (19:15 UTC).
    after = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
    assert tiers.next_due(after, "Asia/Shanghai") == datetime(2026, 12, 8, 19, 15, tzinfo=UTC)
