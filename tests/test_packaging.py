"""The wheel carries what the code reads: from an installed wheel, outside the checkout,
the check-in sheet prints in Chinese with the car drawing on it.

Builds the project's wheel, installs it (without dependencies) into a folder of its own
and runs Python there with no site-packages processing, so the checkout's editable
install cannot stand in for the wheel; the dependencies come from this environment.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from test_checkin_sheet import pdf_text, red_pixels, render_pages

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

SCRIPT = """
import json, sys
target, site, out = sys.argv[1:4]
sys.path[:0] = [target]
sys.path.append(site)
import assets
from shared import checkin_sheet
from shared.domain import DamageMark, DamageType, DiagramView, Walkaround
from shared.resources import cjk_font, diagram_dir
from sync_server.sheets.checkin_sheet import sheet_labels

walkaround = Walkaround(visit_id="v-1", odometer_km=86500, fuel_eighths=4)
walkaround.marks.append(
    DamageMark(walkaround_id=walkaround.id, view=DiagramView.top, x=0.5, y=0.5,
               damage_type=DamageType.dent, severity=3)
)
content = checkin_sheet.SheetContent(
    shop_name="安心汽修", ticket_number="K1-007", customer_name="张伟", plate="京A·12345",
    car="别克 英朗", walkaround=walkaround,
)
pdf = checkin_sheet.render_sheet_pdf(content, sheet_labels("zh_CN"), "zh_CN")
open(out, "wb").write(pdf)
print(json.dumps({
    "assets": assets.__file__, "sheet": checkin_sheet.__file__, "font": str(cjk_font()),
    "svg": (diagram_dir() / "top.svg").read_text(encoding="utf-8")[:2000],
}))
"""


def source_copy(destination: Path) -> Path:
    """The checkout's files as git sees them (no build/ left over from an earlier build)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def test_an_installed_wheel_prints_the_chinese_sheet_with_its_drawings(tmp_path: Path) -> None:
    source = source_copy(tmp_path / "source")
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = wheels.glob("*.whl")
    target = tmp_path / "installed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    out = tmp_path / "sheet.pdf"
    done = subprocess.run(
        [
            sys.executable,
            "-S",
            "-c",
            SCRIPT,
            str(target),
            sysconfig.get_paths()["purelib"],
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    for key in ("assets", "sheet", "font"):
        assert found[key].startswith(str(target)), (key, found[key])
    assert "<svg" in found["svg"]
    text = pdf_text(out)
    assert "张伟" in text and "京A·12345" in text
    (first_page, *_) = render_pages(out)
    # The severe dent's red badge sits on the car drawing of the first page.
    assert red_pixels(first_page) > 0
