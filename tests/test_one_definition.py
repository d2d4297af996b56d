"""Each concept is defined once (issue 11, item 6): these tests fail when a second
definition appears, or when the device and the server stop agreeing on one."""

from __future__ import annotations

import ast
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.services.local_store import LocalStore
from kiosk.services.sync import SyncTransport
from shared import sync_protocol
from shared.domain import Customer
from shared.wire import WireError, from_wire, to_wire
from sync_server.sync.records import ChangeRefused, read_change

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("shared", "kiosk", "sync_server")
DEVICE_ID = "7c2a9f4e-1b2d-4c3e-8f00-123456789abc"


def product_modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/versions/" in relative:
                continue  # a migration is history: it keeps the values of its day
            yield relative, ast.parse(path.read_text(encoding="utf-8"), relative)


def docstrings(tree: ast.Module) -> set[int]:
    """The ids of the string constants that are docstrings (prose may name the API)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def constant_value(node: ast.AST) -> object:
    """The value of a constant expression such as ``2 * 1024 * 1024``, else None."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Pow | ast.Add):
        left, right = constant_value(node.left), constant_value(node.right)
        if isinstance(left, int) and isinstance(right, int):
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Add):
                return left + right
            return left**right if right < 64 else None
    return None


PROTOCOL_TEXT = {
    sync_protocol.API_PREFIX: "the API prefix",
    "[0-9a-f]{8}-[0-9a-f]{4}": "the id pattern",
    "[0-9a-f]{64}": "the SHA-256 pattern",
    r"\d{16}-\d{4}": "the clock pattern",
    "[A-Za-z0-9_-]{22}": "the status token pattern",
    sync_protocol.EPOCH_HEADER: "the feed epoch header",
    sync_protocol.SERVER_TIME_HEADER: "the server time header",
    sync_protocol.MAX_OFFSET_HEADER: "the clock offset header",
}


def test_only_the_protocol_module_spells_the_prefix_and_the_id_patterns() -> None:
    found = []
    for relative, tree in product_modules():
        if relative == "shared/sync_protocol.py":
            continue
        prose = docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in prose
            ):
                found += [
                    f"{relative}:{node.lineno}: {what}"
                    for text, what in PROTOCOL_TEXT.items()
                    if text in node.value
                ]
    assert found == [], "use shared.sync_protocol instead of spelling these again"


def test_only_the_protocol_module_defines_the_push_limits() -> None:
    found = []
    for relative, tree in product_modules():
        if relative == "shared/sync_protocol.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.BinOp | ast.Constant) and (
                constant_value(node) == sync_protocol.MAX_PUSH_BYTES
            ):
                found.append(f"{relative}:{node.lineno}: 2 MiB")
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                value = node.value
                if (
                    value is not None
                    and any(
                        name.isupper() and ("PUSH" in name or "PULL" in name or "CHANGES" in name)
                        for name in names
                    )
                    and constant_value(value) == sync_protocol.MAX_PUSH_CHANGES
                ):
                    found.append(f"{relative}:{node.lineno}: {names[0]} = 500")
    assert found == [], "the push limits live in shared.sync_protocol only"


def test_the_device_asks_within_the_servers_limits() -> None:
    from kiosk.services import feed_recovery, sync

    assert sync.MAX_CHANGE_BYTES < sync_protocol.MAX_PUSH_BYTES
    assert sync.PULL_PAGE_SIZE <= sync_protocol.MAX_PULL_PAGE
    assert sync.MISSING_BLOBS_CHUNK <= sync_protocol.MAX_HASHES_PER_ASK
    assert feed_recovery.ASK_BLOBS_CHUNK <= sync_protocol.MAX_HASHES_PER_ASK
    assert feed_recovery.ASK_CHANGES_CHUNK <= sync_protocol.MAX_CHANGE_IDS_PER_ASK


def test_the_checks_themselves_find_a_second_definition() -> None:
    tree = ast.parse(
        'API = "/api/v1/x"\nMAX_PUSH_CHANGES = 500\nLIMIT = 2 * 1024 * 1024\nR = r"[0-9a-f]{64}"\n'
    )
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert any(sync_protocol.API_PREFIX in s for s in strings if isinstance(s, str))
    assert any(constant_value(n) == sync_protocol.MAX_PUSH_BYTES for n in ast.walk(tree))
    assert any("[0-9a-f]{64}" in s for s in strings if isinstance(s, str))


def test_the_device_pushes_what_the_server_reads() -> None:
    assert SyncTransport.push.__doc__ and "POST /sync/push" in SyncTransport.push.__doc__
    change = sync_protocol.change_message(
        str(uuid.uuid4()), "visit", str(uuid.uuid4()), "0001763803123456-0000-server", {"a": 1}
    )
    body = sync_protocol.push_message([change])
    assert sync_protocol.is_supported_schema(body["schema"])
    read = read_change(body["changes"][0])
    assert (read.change_id, read.kind, read.id, read.hlc, read.fields, read.base) == (
        change["change_id"],
        "visit",
        change["id"],
        change["hlc"],
        {"a": 1},
        None,
    )


# --- the device and the server accept exactly the same ids ------------------------------

_UUID_CHARS = "0123456789abcdefABCDEF-g٣ "


def _near_uuids() -> st.SearchStrategy[str]:
    """UUIDs and strings one slip away from one: upper case, a wrong character, cut."""
    canonical = st.uuids().map(str)
    return st.one_of(
        canonical,
        canonical.map(str.upper),
        st.tuples(canonical, st.integers(0, 35), st.sampled_from(_UUID_CHARS)).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
        ),
        st.tuples(canonical, st.integers(0, 36)).map(lambda t: t[0][: t[1]]),
        canonical.map(lambda u: u + "\n"),
        canonical.map(lambda u: u.replace("-", "")),
        st.text(max_size=40),
    )


def _server_accepts(record_id: str) -> bool:
    change = sync_protocol.change_message(
        str(uuid.uuid4()), "note", record_id, "0001763803123456-0000-server", {"text": "x"}
    )
    try:
        read_change(change)
    except ChangeRefused:
        return False
    return True


def _wire_accepts(record_id: str) -> bool:
    try:
        from_wire(Customer, to_wire(Customer()) | {"id": record_id})
    except WireError:
        return False
    return True


@pytest.fixture(scope="module")
def device_store() -> Iterator[LocalStore]:
    with tempfile.TemporaryDirectory() as folder, LocalStore(Path(folder), DEVICE_ID) as store:
        yield store


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(record_id=_near_uuids())
def test_the_device_and_the_server_accept_exactly_the_same_ids(
    device_store: LocalStore, record_id: str
) -> None:
    try:
        device_store.save("note", record_id, {"text": "x"})
    except ValueError:
        device = False
    else:
        device = True
    assert device == _server_accepts(record_id) == _wire_accepts(record_id)


@given(clock=st.one_of(st.text(max_size=60), st.from_regex(r"[0-9٣]{16}-[0-9]{4}-[a-z:.]{1,41}")))
@settings(max_examples=200, deadline=None)
def test_the_device_and_the_server_accept_exactly_the_same_clocks(clock: str) -> None:
    from shared.hlc import parse

    try:
        parse(clock)
    except ValueError:
        device = False
    else:
        device = True
    change = sync_protocol.change_message(
        str(uuid.uuid4()), "note", str(uuid.uuid4()), clock, {"text": "x"}
    )
    assert device == (sync_protocol.change_problems(change) == [])


# --- one atomic-file writer ---------------------------------------------------------------

# Renames that are not a file's content being replaced: a finished backup folder taking
# its name, an unreadable settings file put aside, a test screenshot taking its name.
NOT_A_FILE_WRITE = {
    "sync_server/backup.py",
    "kiosk/services/device_store.py",
    "kiosk/ui/headless.py",
}


def test_only_the_atomic_file_module_renames_temporary_files_into_place() -> None:
    found = []
    for relative, tree in product_modules():
        if relative == "shared/atomic_file.py":
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            name = f"{owner.id}.{node.func.attr}" if isinstance(owner, ast.Name) else ""
            if name in {"os.fsync", "tempfile.mkstemp", "tempfile.NamedTemporaryFile"}:
                found.append(f"{relative}:{node.lineno}: {name}")
            if name in {"os.replace", "os.rename"} and relative not in NOT_A_FILE_WRITE:
                found.append(f"{relative}:{node.lineno}: {name}")
    assert found == [], "write files with shared.atomic_file"


# --- the walk-around's words and the sheet's words ------------------------------------------


def _defined_words() -> set[str]:
    from shared import checkin_words

    words = {
        text.message
        for vocabulary in (
            checkin_words.WARNING_LIGHTS,
            checkin_words.TYRES,
            checkin_words.BELONGINGS,
            checkin_words.SIGNATURE_STATES,
        )
        for text in vocabulary.values()
    }
    # The sheet's own sentences (short words such as "Fuel" serve other screens too).
    words |= {text.message for text in checkin_words.SHEET_WORDS.values() if len(text.message) > 20}
    return words


def test_the_vocabularies_and_the_sheets_words_are_defined_once() -> None:
    words = _defined_words()
    assert {"Jack and tools", "Front left", "Vehicle check-in sheet"} <= words
    found = []
    for relative, tree in product_modules():
        if relative == "shared/checkin_words.py":
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "Text"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in words
            ):
                found.append(f"{relative}:{node.lineno}: {node.args[0].value!r}")
    assert found == [], "use shared.checkin_words"


def test_the_sheets_words_read_in_both_languages() -> None:
    import re

    from shared.checkin_words import TYRES, sheet_labels
    from shared.domain import TYRE_POSITIONS

    assert tuple(TYRES) == TYRE_POSITIONS
    english, chinese = sheet_labels("en"), sheet_labels("zh_CN")
    assert english.keys() == chinese.keys()
    for key, word in chinese.items():
        if key not in {"vin", "light.abs"}:
            assert re.search(r"[\u4e00-\u9fff]", word), (key, word)
    assert "{number}" in chinese["page"]


# --- one walk-around assembly ---------------------------------------------------------------


def _orders_by_version(node: ast.AST) -> bool:
    """``max(..., key=...version...)`` or ``sorted(..., key=...version...)``."""
    if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") in {"max", "sorted"}):
        return False
    return any(
        keyword.arg == "key"
        and any(
            isinstance(inner, ast.Attribute) and inner.attr == "version"
            for inner in ast.walk(keyword.value)
        )
        for keyword in node.keywords
    )


def _gives_a_sheet_its_parts(node: ast.AST) -> bool:
    """``something.marks = ...`` or ``something.photos = ...`` on a walk-around."""
    return isinstance(node, ast.Assign) and any(
        isinstance(target, ast.Attribute)
        and target.attr in {"marks", "photos"}
        and isinstance(target.value, ast.Name)
        and target.value.id in {"w", "walkaround", "sheet"}
        for target in node.targets
    )


def test_only_the_shared_assembly_picks_the_newest_walkaround_and_its_parts() -> None:
    """Nowhere else is a sheet chosen by its version, nor given its marks and photos."""
    found = []
    for relative, tree in product_modules():
        if relative == "shared/walkaround_report.py":
            continue
        for node in ast.walk(tree):
            if _orders_by_version(node) or _gives_a_sheet_its_parts(node):
                found.append(f"{relative}:{node.lineno}")  # type: ignore[attr-defined]
    assert found == [], "put walk-arounds together with shared.walkaround_report"


def test_the_assembly_checks_find_a_second_assembly() -> None:
    tree = ast.parse(
        "w = max(stored, key=lambda w: w.version)\nwalkaround.marks = [m for m in marks]\n"
    )
    assert any(_orders_by_version(node) for node in ast.walk(tree))
    assert any(_gives_a_sheet_its_parts(node) for node in ast.walk(tree))
