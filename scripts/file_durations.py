"""Write ``tests/file_durations.json`` from a pytest JUnit report: each test file's
seconds (setup, call and teardown of all its tests), longest first.

``tests/conftest.py`` hands the longest files to the pytest workers first, so that no
worker starts a long file while the others are running out of work::

    .venv/bin/pytest -n 2 --dist loadfile --junitxml=/tmp/suite.xml
    .venv/bin/python scripts/file_durations.py /tmp/suite.xml
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[1] / "tests" / "file_durations.json"


def file_seconds(report: Path) -> dict[str, float]:
    """Seconds per test file (``test_x.py``) in the JUnit report at ``report``."""
    seconds: dict[str, float] = defaultdict(float)
    for case in ElementTree.parse(report).iter("testcase"):
        module = case.get("classname", "").split(".")
        # classname is "tests.test_x" or, for tests in a class, "tests.test_x.TestY".
        name = next((part for part in module if part.startswith("test_")), None)
        if name:
            seconds[f"{name}.py"] += float(case.get("time") or 0)
    return dict(sorted(seconds.items(), key=lambda item: -item[1]))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    seconds = file_seconds(Path(argv[1]))
    if not seconds:
        print(f"no test cases in {argv[1]}", file=sys.stderr)
        return 1
    rounded = {name: round(value, 1) for name, value in seconds.items()}
    OUTPUT.write_text(json.dumps(rounded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(rounded)} files, {sum(rounded.values()):.0f} s in all -> {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
