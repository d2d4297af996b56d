"""Nothing outside ``sync_server/sync/`` reads the sync JSON, and every synced kind has its
typed table."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from sync_server.models import Base
from sync_server.sync.projections import PROJECTIONS

SERVER = Path(__file__).resolve().parents[1] / "sync_server"
# Where the sync JSON may be read: the merge engine, the table's definition, migrations.
ALLOWED = ("sync/", "models.py", "migrations/")


def _python_files() -> Iterator[tuple[str, Path]]:
    for path in sorted(SERVER.rglob("*.py")):
        relative = path.relative_to(SERVER).as_posix()
        if not relative.startswith(ALLOWED):
            yield relative, path


def test_nothing_outside_the_sync_package_reads_sync_records() -> None:
    offenders = []
    for relative, path in _python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Name):
                names = [node.id]
            elif isinstance(node, ast.Attribute):
                names = [node.attr]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = ["sync_records"] if "sync_records" in node.value else []
            for name in names:
                if name in ("SyncRecord", "sync_records", "record_field", "read_records"):
                    offenders.append(f"{relative}:{node.lineno} {name}")
    assert offenders == []


def test_the_boundary_test_sees_a_module_that_reads_sync_records(tmp_path: Path) -> None:
    """The check above can fail: the same walk over a page that imports SyncRecord."""
    page = "from sync_server.models import SyncRecord\nrows = SyncRecord.fields\n"
    tree = ast.parse(page)
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and "SyncRecord" in [a.name for a in node.names]
    ]
    assert found


def test_every_synced_kind_has_its_typed_table() -> None:
    assert set(PROJECTIONS) == {
        "customer",
        "vehicle",
        "appointment",
        "visit",
        "consent",
        "signature",
        "walkaround",
        "damage_mark",
        "photo",
        "note",
        "quote",
        "approval",
    }
    for model in PROJECTIONS.values():
        assert model.__table__.name in Base.metadata.tables
