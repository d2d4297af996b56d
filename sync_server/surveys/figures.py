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

A part with nothing to count is left out and the others share its weight. Only advisors
with at least the minimum number of surveys (a setting) are ranked, so a few friendly
answers asked for do not make a star; the others are listed with how many they lack.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from shared.shop_time import shop_zone
from sync_server.reports import shop_months
from sync_server.shop import shop_settings
from sync_server.shop_tables import User
from sync_server.surveys.settings import survey_settings
from sync_server.surveys.tables import Survey
from sync_server.visit_tables import Visit
from sync_server.work_tables import HandBack, QualityCheck

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


def _month_bucket(column: object, months: Sequence[tuple[int, int, datetime]]) -> object:
    later = [(column < begins, index - 1) for index, (_, _, begins) in enumerate(months) if index]
    return case(*later, else_=len(months) - 1) if later else None


def satisfaction_by_month(
    session: Session, start: datetime, end: datetime, zone: tzinfo | None = None
) -> list[SatisfactionMonth]:
    """Average scores, NPS and count of the surveys answered in [start, end), per shop
    month (months without an answer are left out)."""
    zone = zone or shop_zone(shop_settings(session).timezone)
    months = shop_months(start, end, zone)
    if not months:
        return []
    bucket = _month_bucket(Survey.answered_at, months)
    columns = [
        func.count(Survey.id),
        func.avg(Survey.overall),
        func.avg(Survey.advisor_score),
        func.avg(Survey.work_score),
        func.avg(Survey.recommend),
        func.sum(case((Survey.recommend >= 9, 1), else_=0)),
        func.sum(case((Survey.recommend <= 6, 1), else_=0)),
    ]
    query = select(*columns).where(
        Survey.answered_at.is_not(None), Survey.answered_at >= start, Survey.answered_at < end
    )
    if bucket is not None:
        label = bucket.label("month_index")  # type: ignore[attr-defined]
        query = query.add_columns(label).group_by(label)
    rows = []
    for row in session.execute(query):
        count, overall, advisor, work, recommend, promoters, detractors, *index = row
        if not count:
            continue
        year, month, _ = months[int(index[0]) if index else 0]
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
class _Later:
    """A later visit's concern, as ``_same_concern`` reads it."""

    concern_codes: list[str] | None
    concern_text: str


def _job_rows(
    session: Session, start: datetime, end: datetime, comeback_days: int
) -> dict[int, _Jobs]:
    """Per advisor: the visits handed back in [start, end), their comebacks and promises.

    One ``GROUP BY`` counts the jobs and the promises kept; a second query returns only
    the pairs (job, the same car's visit checked in after its hand-back), which Python
    narrows to the comeback window and the same concern."""
    ready = (
        select(func.max(QualityCheck.checked_at))
        .where(QualityCheck.visit_id == Visit.id, QualityCheck.passed.is_(True))
        .correlate(Visit)
        .scalar_subquery()
    )
    advisor = func.coalesce(Visit.advisor_user_id, HandBack.handed_back_by_user_id)
    in_month = (HandBack.handed_back_at >= start, HandBack.handed_back_at < end)
    result: dict[int, _Jobs] = defaultdict(_Jobs)
    counted = session.execute(
        select(
            advisor,
            func.count(),
            func.count(Visit.expected_ready_at),
            func.sum(case((ready <= Visit.expected_ready_at, 1), else_=0)),
        )
        .join(HandBack, HandBack.visit_id == Visit.id)
        .where(*in_month, advisor.is_not(None))
        .group_by(advisor)
    )
    for advisor_id, jobs, promised, kept in counted:
        result[advisor_id] = _Jobs(int(jobs), 0, int(promised or 0), int(kept or 0))
    window = timedelta(days=comeback_days)
    later = aliased(Visit)
    pairs = session.execute(
        select(
            advisor.label("advisor_id"),
            Visit.id,
            Visit.concern_codes,
            Visit.concern_text,
            HandBack.handed_back_at,
            later.checked_in_at,
            later.concern_codes.label("later_codes"),
            later.concern_text.label("later_text"),
        )
        .join(HandBack, HandBack.visit_id == Visit.id)
        .join(
            later,
            (later.vehicle_id == Visit.vehicle_id)
            & (later.id != Visit.id)
            & (later.checked_in_at > HandBack.handed_back_at),
        )
        .where(*in_month, advisor.is_not(None), later.checked_in_at <= end + window)
    )
    came_back: dict[int, set[str]] = defaultdict(set)
    for pair in pairs:
        if pair.checked_in_at <= pair.handed_back_at + window and _same_concern(
            pair, _Later(pair.later_codes, pair.later_text)
        ):
            came_back[pair.advisor_id].add(pair.id)
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
