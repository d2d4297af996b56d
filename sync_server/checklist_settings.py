"""The shop's quality checklists, one per job type, set by a manager on the settings page
(``sync_server/web/checklist_settings.py``) and kept in ``quality_checklist_items``.

Each item has its words in English and in Chinese (both are needed: the technician and
the customer may read either) and a key the quality checks record as ticked, which stays
when the words are edited. A job type the shop has not set has the default checklist
(``sync_server.quality_checks.DEFAULT_CHECKLISTS``); going back to it removes the shop's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shared.i18n import Text
from sync_server.people import SPECIALITIES
from sync_server.quality_checks import ChecklistItem, checklist
from sync_server.table_base import utcnow
from sync_server.work_tables import ChecklistItemRow

MAX_WORDS = 200
MAX_ITEMS = 30
# The job types with a checklist: a job of no known type ("") and each speciality.
JOB_TYPES: tuple[str, ...] = ("", *SPECIALITIES)
GENERAL = Text("Any other job", "server")

BOTH_LANGUAGES = Text("Give this item in English and in Chinese.", "server")
TOO_LONG = Text("Please keep this to {maximum} characters.", "server", {"maximum": MAX_WORDS})
NO_ITEMS = Text(
    "A checklist needs at least one item. To use the shop's default list, choose "
    "“Back to the default list”.",
    "server",
)
TOO_MANY = Text("A checklist holds at most {maximum} items.", "server", {"maximum": MAX_ITEMS})
SAME_ITEM = Text("This item is on the list twice.", "server")
UNKNOWN_TYPE = Text("There is no such job type.", "server")


@dataclass(frozen=True)
class TypedItem:
    """One row of the form as typed: its key ("" for a new item) and its words."""

    key: str
    en: str
    zh: str


class ChecklistRefused(ValueError):
    """The list cannot be saved as typed: messages by row (``item-<n>``) or ``list``."""

    def __init__(self, errors: Mapping[str, Text]) -> None:
        super().__init__(", ".join(errors))
        self.errors = dict(errors)


def shop_checklists(session: Session) -> dict[str, list[dict[str, str]]]:
    """The checklists the shop set, by job type, in the shape ``checklist()`` reads."""
    found: dict[str, list[dict[str, str]]] = {}
    rows = session.scalars(
        select(ChecklistItemRow).order_by(ChecklistItemRow.job_type, ChecklistItemRow.position)
    )
    for row in rows:
        found.setdefault(row.job_type, []).append(
            {"key": row.key, "en": row.label_en, "zh_CN": row.label_zh}
        )
    return found


def checklists_for_page(session: Session) -> list[tuple[str, bool, list[ChecklistItem]]]:
    """Every job type with whether the shop set its list, and the list in use."""
    configured = shop_checklists(session)
    return [(kind, kind in configured, checklist(kind, configured)) for kind in JOB_TYPES]


def save_checklist(
    session: Session, job_type: str, typed: Sequence[TypedItem], user_id: int | None
) -> list[ChecklistItem]:
    """Replace the job type's checklist with ``typed`` (rows left empty are dropped), or
    raise :class:`ChecklistRefused` with nothing changed."""
    if job_type not in JOB_TYPES:
        raise ChecklistRefused({"list": UNKNOWN_TYPE})
    errors: dict[str, Text] = {}
    kept: list[tuple[int, TypedItem]] = []
    for n, item in enumerate(typed):
        en, zh = " ".join(item.en.split()), " ".join(item.zh.split())
        if not en and not zh:
            continue  # an empty row, or one cleared to remove it
        if not en or not zh:
            errors[f"item-{n}"] = BOTH_LANGUAGES
        elif len(en) > MAX_WORDS or len(zh) > MAX_WORDS:
            errors[f"item-{n}"] = TOO_LONG
        elif any(en.casefold() == other.en.casefold() for _, other in kept):
            errors[f"item-{n}"] = SAME_ITEM
        kept.append((n, TypedItem(item.key, en, zh)))
    if not kept and not errors:
        errors["list"] = NO_ITEMS
    elif len(kept) > MAX_ITEMS:
        errors["list"] = TOO_MANY
    if errors:
        raise ChecklistRefused(errors)
    known = {row.key: row for row in _rows(session, job_type)}
    defaults = {item.key for item in checklist(job_type)}
    taken: set[str] = set()
    items = []
    for _n, item in kept:
        # A key the shop's list or the defaults already use keeps its checks' meaning.
        key = item.key if item.key in known or item.key in defaults else ""
        key = _unique(key or _slug(item.en), taken)
        items.append(ChecklistItem(key, item.en, item.zh))
    session.execute(delete(ChecklistItemRow).where(ChecklistItemRow.job_type == job_type))
    session.flush()
    now = utcnow()
    for position, item in enumerate(items):
        session.add(
            ChecklistItemRow(
                job_type=job_type,
                position=position,
                key=item.key,
                label_en=item.label_en,
                label_zh=item.label_zh,
                changed_by_user_id=user_id,
                changed_at=now,
            )
        )
    return items


def back_to_default(session: Session, job_type: str) -> None:
    """The job type takes the default checklist again (the shop's list is removed)."""
    session.execute(delete(ChecklistItemRow).where(ChecklistItemRow.job_type == job_type))


def typed_items(form: Any) -> list[TypedItem]:
    """The rows of a checklist form (``key``, ``en`` and ``zh`` lists, in order)."""
    keys, english, chinese = (form.getlist(name) for name in ("key", "en", "zh"))
    size = max(len(keys), len(english), len(chinese))
    return [TypedItem(_at(keys, n), _at(english, n), _at(chinese, n)) for n in range(size)]


def _rows(session: Session, job_type: str) -> list[ChecklistItemRow]:
    return list(
        session.scalars(select(ChecklistItemRow).where(ChecklistItemRow.job_type == job_type))
    )


def _at(values: list[str], n: int) -> str:
    return values[n] if n < len(values) else ""


def _slug(words: str) -> str:
    return "_".join(re.findall(r"[a-z0-9]+", words.lower()))[:50] or "item"


def _unique(key: str, taken: set[str]) -> str:
    key, base, n = key[:60], key[:50], 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key
