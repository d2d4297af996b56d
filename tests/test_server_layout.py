"""The server's layout by area (docs/architecture.md, "Server layout"), read from the code.

- Blueprint modules never import each other, not even inside a function: what two pages
  share lives in a service module or in a package's face (``sync_server/web/__init__.py``).
- Blueprints live in ``sync_server/web/`` (pages), ``sync_server/api/`` (JSON) or
  ``sync_server/sync/api.py`` (the sync protocol); services never define one.
- No two modules import each other at import time (a cycle), so any module can be
  imported first.

Each check is also run on a small planted tree that breaks it, so none of them can pass
by finding nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1] / "sync_server"


def modules(package: Path) -> dict[str, Path]:
    """Every module of the package (migrations aside), by dotted name."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).with_suffix("")
        if "migrations" in relative.parts:
            continue
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _import_nodes(tree: ast.Module, *, at_import_time: bool) -> list[ast.Import | ast.ImportFrom]:
    """Import statements of a module: all of them, or those run when it is imported (its
    body and plain blocks, not functions nor ``if TYPE_CHECKING:``)."""
    if not at_import_time:
        return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If | ast.Try | ast.With) and not _is_type_checking(node):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []):
                    pending.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
    return found


def imports(name: str, path: Path, known: dict[str, Path], *, at_import_time: bool) -> set[str]:
    """The package's modules that ``name`` imports (``from p import m`` names module p.m)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in _import_nodes(tree, at_import_time=at_import_time):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        found.update(target for target in targets if target in known and target != name)
    return found


def blueprint_modules(known: dict[str, Path]) -> set[str]:
    """Modules that make a Flask ``Blueprint``."""
    found = set()
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("Blueprint"):
                found.add(name)
    return found


def blueprints_importing_blueprints(package: Path) -> list[tuple[str, str]]:
    known = modules(package)
    blueprints = blueprint_modules(known)
    return sorted(
        (name, target)
        for name in blueprints
        for target in imports(name, known[name], known, at_import_time=False)
        if target in blueprints
    )


def misplaced_blueprints(package: Path) -> list[str]:
    root = package.name
    allowed = (f"{root}.web.", f"{root}.api.")
    return sorted(
        name
        for name in blueprint_modules(modules(package))
        if not name.startswith(allowed) and name != f"{root}.sync.api"
    )


def import_cycles(package: Path) -> list[list[str]]:
    """Groups of modules that import each other at import time (strongly connected)."""
    known = modules(package)
    graph = {
        name: {target for target in imports(name, path, known, at_import_time=True)}
        for name, path in known.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def test_no_blueprint_module_imports_another() -> None:
    assert blueprints_importing_blueprints(SERVER) == []


def test_blueprints_live_in_web_api_or_the_sync_api() -> None:
    assert misplaced_blueprints(SERVER) == []


def test_no_modules_import_each_other_at_import_time() -> None:
    assert import_cycles(SERVER) == []


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    package = tmp_path / "sync_server"
    files = {
        "__init__.py": "",
        "models.py": "from sync_server import record_tables\n",  # every table, in one place
        "record_tables.py": "from sync_server.table_base import Base\n",
        "table_base.py": "Base = object\n",
        "walkarounds.py": "from flask import Blueprint\nbp = Blueprint('w', __name__)\n",
        "web/__init__.py": "def helper(): ...\n",
        "web/admin.py": (
            "import flask\nfrom sync_server.web import helper\n"
            "bp = flask.Blueprint('a', __name__)\n"
            "def page():\n    from sync_server.web.quotes import qr\n"
        ),
        "web/quotes.py": "from flask import Blueprint\nbp = Blueprint('q', __name__)\nqr = 1\n",
        "sync/__init__.py": "",
        "sync/feed.py": "from . import merge\n",
        "sync/merge.py": (
            "from typing import TYPE_CHECKING\nfrom sync_server.sync.feed import x\n"
            "if TYPE_CHECKING:\n    from sync_server.sync import batch\n"
        ),
        "sync/batch.py": "from sync_server.sync import merge\n",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text, encoding="utf-8")

    assert blueprints_importing_blueprints(package) == [
        ("sync_server.web.admin", "sync_server.web.quotes")
    ]
    assert misplaced_blueprints(package) == ["sync_server.walkarounds"]
    assert import_cycles(package) == [["sync_server.sync.feed", "sync_server.sync.merge"]]
