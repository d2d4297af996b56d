"""The survey figures reports and pages read: satisfaction by month and the service star.

Both use the shop's months (``sync_server.reports.shop_months``: a month starts at
midnight on its first day in the shop's time zone) and SQL ``GROUP BY`` that runs the
same on SQLite and PostgreSQL.

The service star (服务之星) of a month ranks the advisors by a score out of 100 made of
three parts, each shown on the star page:

* the surveys answered in the month on the advisor's visits — the average of the three
  1–5 scores, 1 → 0 points and 5 → 100 (weight ``WEIGHTS["surveys"]``);
* comeback-free jobs — of the advisor's visits handed back in the month, the share whose
  car did not come back within the comeback days (a setting, 30) for the same concern
  (a concern code in common besides "other", or the same words);
* promises kept — of those visits with a promised ready time, the share ready (the
  quality check passed) at or before it.

The jobs, their advisor, promise, ready time and car are read as the hand-back recorded
them (``work_tables.HandedBackJob``, kept by the hand-back and the quality check).
A part with nothing to count is left out and the others share its weight. Only advisors
with at least the minimum number of surveys (a setting) are ranked, so a few friendly
answers asked for do not make a star; the others are listed with how many they lack.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import bindparam, case, func, literal_column, select, union_all
from sqlalchemy.orm import Session, aliased

from shared.shop_time import shop_zone
from sync_server.reports import shop_months
from sync_server.reports.periods import period_index
from sync_server.shop import shop_settings
from sync_server.shop_tables import User
from sync_server.surveys.settings import survey_settings
from sync_server.surveys.tables import Survey
from sync_server.visit_tables import Visit
from sync_server.work_tables import HandedBackJob

WEIGHTS = {"surveys": 0.6, "comeback_free": 0.2, "promises_kept": 0.2}
GENERIC_CONCERNS = frozenset({"other"})


@dataclass(frozen=True)
class SatisfactionMonth:
    """The surveys answered in one of the shop's months."""

    year: int
    month: int
    count: int
    overall: float
    advisor: float
    work: float
    recommend: float
    promoters: int  # would recommend 9–10
    detractors: int  # 0–6

    @property
    def nps(self) -> float:
        """Net promoter score: % promoters − % detractors (−100 to 100)."""
        if not self.count:
            return 0.0
        return round(100.0 * (self.promoters - self.detractors) / self.count, 1)


MONTHS_PER_QUERY = 100  # SQLite joins at most 500 SELECTs with UNION ALL
# Per month: the answers, the averages of the four scores, promoters, detractors.
_ANSWER_FIGURES = (
    func.count(Survey.id),
    func.avg(Survey.overall),
    func.avg(Survey.advisor_score),
    func.avg(Survey.work_score),
    func.avg(Survey.recommend),
    func.sum(case((Survey.recommend >= 9, 1), else_=0)),
    func.sum(case((Survey.recommend <= 6, 1), else_=0)),
)


@cache
def _satisfaction_query(months: int) -> Any:
    """``months`` answered-in-a-month ``SELECT``s joined with ``UNION ALL``, the limits
    bound as ``from_N`` and ``to_N`` (built once per number of months: a report asks for
    12 every time, and the statement is then SQLAlchemy's cached one)."""
    parts = [
        select(literal_column(str(index)).label("month_index"), *_ANSWER_FIGURES).where(
            Survey.answered_at >= bindparam(f"from_{index}"),
            Survey.answered_at < bindparam(f"to_{index}"),
        )
        for index in range(months)
    ]
    return union_all(*parts) if len(parts) > 1 else parts[0]


def _answers_by_month_union(session: Session, bounds: list[datetime]) -> list[tuple[Any, ...]]:
    """(month index, count, averages, promoters, detractors) per month: the SQLite way."""
    found: list[tuple[Any, ...]] = []
    months = len(bounds) - 1
    for first in range(0, months, MONTHS_PER_QUERY):
        size = min(MONTHS_PER_QUERY, months - first)
        limits: dict[str, datetime] = {}
        for index in range(size):
            limits[f"from_{index}"] = bounds[first + index]
            limits[f"to_{index}"] = bounds[first + index + 1]
        found += [
            (first + int(row[0]), *row[1:])
            for row in session.execute(_satisfaction_query(size), limits)
        ]
    return found


def _answers_by_month_case(session: Session, bounds: list[datetime]) -> list[tuple[Any, ...]]:
    """The same rows from one range sorted into months by ``CASE``: the PostgreSQL way."""
    month = period_index(Survey.answered_at, bounds).label("month_index")
    query = (
        select(month, *_ANSWER_FIGURES)
        .where(Survey.answered_at >= bounds[0], Survey.answered_at < bounds[-1])
        .group_by(month)
    )
    return [(int(row[0]), *row[1:]) for row in session.execute(query)]


def satisfaction_by_month(
    session: Session, start: datetime, end: datetime, zone: tzinfo | None = None
) -> list[SatisfactionMonth]:
    """Average scores, NPS and count of the surveys answered in [start, end), per shop
    month (months without an answer are left out).

    PostgreSQL reads the period's answers once and sorts them into months with ``CASE``
    (in C, a few ms). SQLite evaluates that ``CASE`` row by row slowly (35 ms for a
    year of 18,000 answers), so there one ``SELECT`` per month is joined with ``UNION
    ALL``: each reads its month's answers from ``ix_surveys_answers`` (the answer time and
    the four scores) and nothing else (migration 0025). On PostgreSQL that union would be
    twelve scans run by parallel workers, slower on a busy machine."""
    zone = zone or shop_zone(shop_settings(session).timezone)
    months = shop_months(start, end, zone)
    if not months:
        return []
    bounds = [start, *(begins for _, _, begins in months[1:]), end]
    if session.get_bind().dialect.name == "sqlite":
        found = _answers_by_month_union(session, bounds)
    else:
        found = _answers_by_month_case(session, bounds)
    rows = []
    for index, count, overall, advisor, work, recommend, promoters, detractors in found:
        if not count:
            continue
        year, month, _ = months[index]
        rows.append(
            SatisfactionMonth(
                year=year,
                month=month,
                count=int(count),
                overall=round(float(overall), 2),
                advisor=round(float(advisor), 2),
                work=round(float(work), 2),
                recommend=round(float(recommend), 2),
                promoters=int(promoters or 0),
                detractors=int(detractors or 0),
            )
        )
    rows.sort(key=lambda r: (r.year, r.month))
    return rows


@dataclass(frozen=True)
class StarRow:
    """One advisor's month for the service star, with every part of the score."""

    advisor_user_id: int
    advisor_name: str
    surveys: int
    overall: float | None
    advisor: float | None
    work: float | None
    nps: float | None
    jobs: int
    comebacks: int
    promised: int
    promises_kept: int
    survey_points: float | None
    comeback_free_points: float | None
    promise_points: float | None
    score: float | None
    qualified: bool
    surveys_needed: int
    rank: int | None = None

    @property
    def star(self) -> bool:
        return self.rank == 1


def month_bounds(year: int, month: int, zone: tzinfo) -> tuple[datetime, datetime]:
    """The shop month's first instant and the next month's, in UTC."""
    first = datetime(year, month, 1, tzinfo=zone)
    return first.astimezone(UTC), (first + relativedelta(months=1)).astimezone(UTC)


def _same_concern(first: Any, later: Any) -> bool:
    """Whether two visits (rows with ``concern_codes`` and ``concern_text``) are for the
    same concern."""
    codes = set(first.concern_codes or []) - GENERIC_CONCERNS
    if codes & (set(later.concern_codes or []) - GENERIC_CONCERNS):
        return True
    words = " ".join(first.concern_text.casefold().split())
    return bool(words) and words == " ".join(later.concern_text.casefold().split())


def _survey_rows(session: Session, start: datetime, end: datetime) -> dict[int, tuple]:
    query = (
        select(
            Survey.advisor_user_id,
            func.count(Survey.id),
            func.avg(Survey.overall),
            func.avg(Survey.advisor_score),
            func.avg(Survey.work_score),
            func.sum(case((Survey.recommend >= 9, 1), else_=0)),
            func.sum(case((Survey.recommend <= 6, 1), else_=0)),
        )
        .where(
            Survey.answered_at.is_not(None),
            Survey.answered_at >= start,
            Survey.answered_at < end,
            Survey.advisor_user_id.is_not(None),
        )
        .group_by(Survey.advisor_user_id)
    )
    return {row[0]: tuple(row[1:]) for row in session.execute(query)}


@dataclass
class _Jobs:
    jobs: int = 0
    comebacks: int = 0
    promised: int = 0
    kept: int = 0


@dataclass(frozen=True)
class _Concern:
    """A visit's concern, as ``_same_concern`` reads it."""

    concern_codes: list[str] | None
    concern_text: str


def _concerns(session: Session, visit_ids: set[str]) -> dict[str, _Concern]:
    """The concern of each of ``visit_ids`` (a few hundred at most: the comebacks)."""
    found: dict[str, _Concern] = {}
    ordered = sorted(visit_ids)
    for first in range(0, len(ordered), 500):
        rows = session.execute(
            select(Visit.id, Visit.concern_codes, Visit.concern_text).where(
                Visit.id.in_(ordered[first : first + 500])
            )
        )
        found.update((row.id, _Concern(row.concern_codes, row.concern_text)) for row in rows)
    return found


def _job_rows(
    session: Session, start: datetime, end: datetime, comeback_days: int
) -> dict[int, _Jobs]:
    """Per advisor: the visits handed back in [start, end), their comebacks and promises.

    Both queries read the month's jobs from ``handed_back_jobs`` (one index range that
    holds every column they need): one ``GROUP BY`` counts the jobs and the promises
    kept; the other returns only the pairs (job, the same car's visit checked in after
    its hand-back, from the index on the car's visits by check-in), which Python narrows
    to the comeback window and the same concern."""
    job = HandedBackJob
    in_month = (
        job.handed_back_at >= start,
        job.handed_back_at < end,
        job.advisor_user_id.is_not(None),
    )
    result: dict[int, _Jobs] = defaultdict(_Jobs)
    counted = session.execute(
        select(
            job.advisor_user_id,
            func.count(),
            func.count(job.promised_at),
            func.sum(case((job.ready_at <= job.promised_at, 1), else_=0)),
        )
        .where(*in_month)
        .group_by(job.advisor_user_id)
    )
    for advisor_id, jobs, promised, kept in counted:
        result[advisor_id] = _Jobs(int(jobs), 0, int(promised or 0), int(kept or 0))
    window = timedelta(days=comeback_days)
    later = aliased(Visit)
    pairs = session.execute(
        select(
            job.advisor_user_id,
            job.visit_id,
            job.handed_back_at,
            later.checked_in_at,
            later.concern_codes,
            later.concern_text,
        )
        .join(
            later,
            (later.vehicle_id == job.vehicle_id)
            & (later.id != job.visit_id)
            & (later.checked_in_at > job.handed_back_at),
        )
        .where(*in_month, later.checked_in_at > start, later.checked_in_at <= end + window)
    ).all()
    in_window = [pair for pair in pairs if pair.checked_in_at <= pair.handed_back_at + window]
    concerns = _concerns(session, {pair.visit_id for pair in in_window})
    came_back: dict[int, set[str]] = defaultdict(set)
    for pair in in_window:
        if _same_concern(concerns[pair.visit_id], _Concern(pair.concern_codes, pair.concern_text)):
            came_back[pair.advisor_user_id].add(pair.visit_id)
    for advisor_id, visits in came_back.items():
        result[advisor_id].comebacks = len(visits)
    return result


def _points(average: float | None) -> float | None:
    return None if average is None else round((average - 1.0) / 4.0 * 100.0, 1)


def _score(parts: dict[str, float | None]) -> float | None:
    present = {name: value for name, value in parts.items() if value is not None}
    if not present:
        return None
    weight = sum(WEIGHTS[name] for name in present)
    return round(sum(WEIGHTS[name] * value for name, value in present.items()) / weight, 1)


def service_star(session: Session, year: int, month: int) -> list[StarRow]:
    """The advisors of the shop month ``year``-``month``, ranked: qualified ones by score
    (rank 1 is the star), then those with too few surveys."""
    zone = shop_zone(shop_settings(session).timezone)
    rules = survey_settings(session)
    start, end = month_bounds(year, month, zone)
    surveys = _survey_rows(session, start, end)
    jobs = _job_rows(session, start, end, rules.comeback_days)
    advisors = set(surveys) | set(jobs)
    names = {
        user.id: user.display_name
        for user in session.scalars(select(User).where(User.id.in_(sorted(advisors))))
    }
    rows = []
    for advisor_id in advisors:
        count, overall, advisor, work, promoters, detractors = surveys.get(
            advisor_id, (0, None, None, None, 0, 0)
        )
        done = jobs.get(advisor_id, _Jobs())
        averages = [float(v) for v in (overall, advisor, work) if v is not None]
        survey_points = _points(sum(averages) / len(averages)) if averages else None
        comeback_free = (
            round(100.0 * (done.jobs - done.comebacks) / done.jobs, 1) if done.jobs else None
        )
        promise = round(100.0 * done.kept / done.promised, 1) if done.promised else None
        rows.append(
            StarRow(
                advisor_user_id=advisor_id,
                advisor_name=names.get(advisor_id, ""),
                surveys=int(count),
                overall=round(float(overall), 2) if overall is not None else None,
                advisor=round(float(advisor), 2) if advisor is not None else None,
                work=round(float(work), 2) if work is not None else None,
                nps=round(100.0 * (int(promoters or 0) - int(detractors or 0)) / count, 1)
                if count
                else None,
                jobs=done.jobs,
                comebacks=done.comebacks,
                promised=done.promised,
                promises_kept=done.kept,
                survey_points=survey_points,
                comeback_free_points=comeback_free,
                promise_points=promise,
                score=_score(
                    {
                        "surveys": survey_points,
                        "comeback_free": comeback_free,
                        "promises_kept": promise,
                    }
                ),
                qualified=count >= rules.star_min_surveys,
                surveys_needed=max(0, rules.star_min_surveys - int(count)),
            )
        )
    ranked = sorted(
        (row for row in rows if row.qualified and row.score is not None),
        key=lambda row: (-(row.score or 0), -row.surveys, row.advisor_name),
    )
    others = sorted(
        (row for row in rows if not (row.qualified and row.score is not None)),
        key=lambda row: (-row.surveys, row.advisor_name),
    )
    numbered = [
        StarRow(**{**row.__dict__, "rank": index}) for index, row in enumerate(ranked, start=1)
    ]
    return numbered + others
