"""Complaints by category and root cause over a chosen period (cases received in it):
one query grouped by the two labels, with each label's name in both languages. A case
not yet given a category or a root cause is counted under "none yet"."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from sync_server.complaints.tables import ComplaintCase, ComplaintLabel
from sync_server.reports.periods import MonthRange


@dataclass(frozen=True)
class LabelName:
    en: str
    zh: str

    def shown(self, language: str) -> str:
        return self.zh if language.startswith("zh") and self.zh else self.en


@dataclass(frozen=True)
class CauseCount:
    category: LabelName | None  # None: no category given
    root_cause: LabelName | None  # None: not closed with a root cause yet
    cases: int
    closed: int
    missed: int  # cases with a missed deadline, first response or resolution


def complaints_by_cause(session: Session, period: MonthRange) -> list[CauseCount]:
    """Counts per (category, root cause), most cases first."""
    c = ComplaintCase
    category = aliased(ComplaintLabel)
    cause = aliased(ComplaintLabel)
    missed = case(
        (c.first_response_missed_at.isnot(None) | c.resolution_missed_at.isnot(None), 1),
        else_=0,
    )
    query = (
        select(
            category.name_en,
            category.name_zh,
            cause.name_en,
            cause.name_zh,
            func.count(c.id),
            func.coalesce(func.sum(case((c.state == "closed", 1), else_=0)), 0),
            func.coalesce(func.sum(missed), 0),
        )
        .outerjoin(category, category.id == c.category_id)
        .outerjoin(cause, cause.id == c.root_cause_id)
        .where(c.received_at >= period.start, c.received_at < period.end)
        .group_by(
            category.id, category.name_en, category.name_zh, cause.id, cause.name_en, cause.name_zh
        )
    )
    rows = [
        CauseCount(
            LabelName(cat_en, cat_zh) if cat_en is not None else None,
            LabelName(cause_en, cause_zh) if cause_en is not None else None,
            int(count),
            int(closed),
            int(late),
        )
        for cat_en, cat_zh, cause_en, cause_zh, count, closed, late in session.execute(query)
    ]
    rows.sort(
        key=lambda r: (
            -r.cases,
            r.category is None,
            r.category.en if r.category else "",
            r.root_cause is None,
            r.root_cause.en if r.root_cause else "",
        )
    )
    return rows
