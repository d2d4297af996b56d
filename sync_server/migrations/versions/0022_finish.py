"""quality checklists in the database, edited on the manager's settings page

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 05:00:00.000000

A new table, ``quality_checklist_items``. A shop that set its checklists in the JSON
file named by ``QUALITY_CHECKLISTS_FILE`` has them imported here, once: from then on the
settings page is where they change. A file that does not read stops the upgrade with
its reason (nothing is half-imported); a job type in it with no usable item is left to
the defaults.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

import sync_server.table_base

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

UTC_TIME = sync_server.table_base.UTCDateTime(timezone=True)


def upgrade() -> None:
    items = op.create_table(
        "quality_checklist_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_type", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("label_zh", sa.String(length=200), nullable=False),
        sa.Column("changed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_user_id"],
            ["users.id"],
            name=op.f("fk_quality_checklist_items_changed_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_checklist_items")),
        sa.UniqueConstraint("job_type", "key", name="uq_quality_checklist_items_job_type_key"),
    )
    rows = _from_file(os.environ.get("QUALITY_CHECKLISTS_FILE", ""))
    if rows:
        op.bulk_insert(items, rows)


def downgrade() -> None:
    op.drop_table("quality_checklist_items")


def _from_file(name: str) -> list[dict[str, Any]]:
    """The rows of the checklists file, as the settings page would save them."""
    if not name:
        return []
    content = json.loads(Path(name).read_text(encoding="utf-8"))
    if not isinstance(content, dict):
        raise ValueError(f"{name}: the checklists file holds no job types")
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for job_type, entries in content.items():
        keys: set[str] = set()
        kept = []
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not str(entry.get("en") or "").strip():
                continue
            english = str(entry["en"]).strip()[:200]
            key = _unique(str(entry.get("key") or "") or _slug(english), keys)
            chinese = str(entry.get("zh_CN") or english).strip()[:200]
            kept.append((key, english, chinese))
        for position, (key, english, chinese) in enumerate(kept):
            rows.append(
                {
                    "job_type": str(job_type)[:40], "position": position, "key": key,
                    "label_en": english, "label_zh": chinese, "changed_by_user_id": None,
                    "changed_at": now,
                }
            )  # fmt: skip
    return rows


def _slug(words: str) -> str:
    return "_".join(re.findall(r"[a-z0-9]+", words.lower()))[:50] or "item"


def _unique(key: str, taken: set[str]) -> str:
    key, base, n = key[:60], key[:50], 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key
