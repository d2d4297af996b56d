"""The printable check-in sheet (接车单): a real server renders it from what a tablet
synced, in English and in Chinese, and the tablet renders the same sheet from its own
records (offline printing); the text is read back with pdftotext and the pages are
rendered with pdftoppm, as a printer would see them. The tablet's printer facade
(``lp`` or none) is checked with a stand-in ``lp``.

Set ``CHECKIN_SHEET_SCREENSHOTS=docs/screenshots`` to keep the first page of each
language as ``checkin-sheet-<lang>.png`` there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from live_server import LiveServer, live_server_fixture  # noqa: F401
from PIL import Image, ImageChops
from server_fixtures import Shop, bearer
from test_walkaround_server import (
    check_in,
    new_car,
    push_records,
    signed_walkaround,
    sync,
    walk_around,
)

from kiosk.services.local_store import LocalStore
from kiosk.services.printing import (
    LpPrinter,
    NoPrinter,
    PrintFailed,
    print_checkin_sheet,
    printer,
    render_tablet_sheet,
    sheet_labels,
)
from kiosk.services.walkaround import WalkaroundSheet
from shared.checkin_sheet import LABEL_KEYS, SheetContent, render_sheet_pdf
from shared.domain import Walkaround
from sync_server.sheets.checkin_sheet import sheet_labels as server_sheet_labels
from sync_server.walkarounds import STATE_TEXT

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils is not installed (scripts/setup.sh --test installs it)",
)


def fetch_pdf(server: LiveServer, token: str, visit_id: str, lang: str) -> bytes:
    response = requests.get(
        f"{server.url}/api/v1/visits/{visit_id}/checkin-sheet.pdf",
        params={"lang": lang},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    return response.content


def pdf_text(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def render_pages(path: Path, dpi: int = 80) -> list[Path]:
    prefix = path.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(path), str(prefix)], check=True, timeout=60
    )
    return sorted(path.parent.glob(f"{prefix.name}-*.png"))


def marks_section(text: str) -> list[str]:
    """The sheet's numbered list of damage marks, as printed (words, not layout)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return [line for line in lines if re.match(r"\d+\. [AUGYSMBO][123] ", line)]


def red_pixels(page: Path) -> int:
    """How many pixels of the page are clearly red (the damage marks' discs)."""
    with Image.open(page) as image:
        red, green, blue = image.convert("RGB").split()
    strong = red.point(lambda v: 255 if v > 170 else 0)
    weak_green = green.point(lambda v: 255 if v < 80 else 0)
    weak_blue = blue.point(lambda v: 255 if v < 80 else 0)
    reddish = ImageChops.multiply(ImageChops.multiply(strong, weak_green), weak_blue)
    count = reddish.histogram()[255]
    for band in (red, green, blue, strong, weak_green, weak_blue, reddish):
        band.close()
    return count


@needs_poppler
def test_the_sheet_prints_in_both_languages_with_marks_photos_and_the_signature_check(
    live_server: LiveServer, tmp_path: Path
) -> None:
    device = live_server.pair_device("tablet")
    with LocalStore(tmp_path / "tablet", device.device_id) as store:
        car = new_car(store)
        earlier = check_in(store, car, ticket="T-003")
        earlier_sheet = WalkaroundSheet.open(store, earlier.id)
        earlier_sheet.add_mark("right", 0.62, 0.45, "S", 1)
        earlier_sheet.save()
        visit = check_in(store, car)
        sheet = walk_around(store, visit)
        sync(store, live_server, device.token)

        texts = {}
        for lang in ("en", "zh_CN"):
            path = tmp_path / f"sheet-{lang}.pdf"
            path.write_bytes(fetch_pdf(live_server, device.token, visit.id, lang))
            texts[lang] = pdf_text(path)
            pages = render_pages(path)
            assert 1 <= len(pages) <= 2
            with Image.open(pages[0]) as first:
                assert first.width < first.height  # A4 portrait
            assert red_pixels(pages[0]) > 50, "the damage marks are drawn in red"
            keep = os.environ.get("CHECKIN_SHEET_SCREENSHOTS")
            if keep:
                for number, page in enumerate(pages, start=1):
                    suffix = "" if number == 1 else f"-page{number}"
                    shutil.copy(page, Path(keep) / f"checkin-sheet-{lang}{suffix}.png")

        # The tablet prints the same sheet from its own records, without the server.
        for lang in ("en", "zh_CN"):
            path = tmp_path / f"tablet-{lang}.pdf"
            path.write_bytes(render_tablet_sheet(store, visit.id, lang, "Bright Auto"))
            listed = marks_section(texts[lang])
            assert len(listed) == 3, listed  # A2, U1, G1 (not the one taken back)
            assert marks_section(pdf_text(path)) == listed
            tablet_text = " ".join(pdf_text(path).split())
            for expected in ("LVGBM51K0PG012345", "雨伞 umbrella", sheet.report_sha256()):
                assert expected in tablet_text, expected
            assert STATE_TEXT["signed_unchanged"].render(lang) in tablet_text
            pages = render_pages(path)
            assert red_pixels(pages[0]) > 50

        # Lines wrap where the page ends them: compare with runs of spaces made one.
        english, chinese = (" ".join(texts[lang].split()) for lang in ("en", "zh_CN"))
        for expected in (
            "Vehicle check-in sheet",
            "T-012",
            "王芳",
            "粤B·D12345",
            "Toyota Camry 2021",
            "LVGBM51K0PG012345",
            "squeal from the front brakes",
            "A2",
            "U1",
            "G1",
            "driver's door",
            "3/8",
            "Spare wheel",
            "雨伞 umbrella",
            "Tyre pressure",
            "Signed by the customer; the sheet is unchanged since it was signed.",
            sheet.report_sha256(),
        ):
            assert expected in english, expected
        assert "S3" not in english  # the mark taken back before signing
        assert "S1" in english  # the earlier visit's rust, drawn in grey
        for expected in (
            "接车单",
            "车况（环车检查）",
            "备胎",
            "客户签字",
            "签字后接车单未被改动",
            "A2",
        ):
            assert expected in chinese, expected

        # Edited after signing: the printed sheet says so, in both languages.
        sheet.set_fuel(4)
        sheet.save()
        sync(store, live_server, device.token)
        path = tmp_path / "changed.pdf"
        path.write_bytes(fetch_pdf(live_server, device.token, visit.id, "en"))
        assert "Changed after the customer signed" in pdf_text(path)
        path.write_bytes(render_tablet_sheet(store, visit.id, "en", "Bright Auto"))
        assert "Changed after the customer signed" in pdf_text(path)  # on the tablet too
        path.write_bytes(fetch_pdf(live_server, device.token, visit.id, "zh_CN"))
        assert "客户签字后接车单已被修改" in pdf_text(path)


@needs_poppler
def test_a_visit_without_walkaround_prints_an_empty_unsigned_sheet(
    live_server: LiveServer, tmp_path: Path
) -> None:
    device = live_server.pair_device("tablet")
    with LocalStore(tmp_path / "tablet", device.device_id) as store:
        visit = check_in(store, new_car(store))
        sync(store, live_server, device.token)
    path = tmp_path / "empty.pdf"
    path.write_bytes(fetch_pdf(live_server, device.token, visit.id, "en"))
    text = pdf_text(path)
    assert "The walk-around has not been recorded yet." in text
    assert "Not signed by the customer yet." in text
    missing = requests.get(
        f"{live_server.url}/api/v1/visits/{'0' * 8}-0000-4000-8000-{'0' * 12}/checkin-sheet.pdf",
        headers={"Authorization": f"Bearer {device.token}"},
        timeout=10,
    )
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/problem+json")


@needs_poppler
def test_a_photo_still_uploading_prints_as_a_placeholder(
    app: Flask, client: FlaskClient, shop: Shop, tmp_path: Path
) -> None:
    token = shop.device_token("tablet")
    records, walkaround, _ = signed_walkaround()
    push_records(client, token, records, at=1_700_000_000_000)
    for lang, expected in (("en", "Photo not received yet"), ("zh_CN", "照片尚未上传")):
        answer = client.get(
            f"/api/v1/visits/{walkaround.visit_id}/checkin-sheet.pdf?lang={lang}",
            headers=bearer(token),
        )
        assert answer.status_code == 200
        path = tmp_path / f"pending-{lang}.pdf"
        path.write_bytes(answer.data)
        text = " ".join(pdf_text(path).split())
        assert expected in text
        assert "U2" in text and "A1" in text


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_tablets_sheet_has_the_servers_words(lang: str) -> None:
    # One definition (shared.checkin_words) prints both sheets.
    assert sheet_labels is server_sheet_labels
    assert sheet_labels(lang).keys() == LABEL_KEYS
    if lang == "zh_CN":
        assert sheet_labels(lang)["title"] == "接车单"
        assert sheet_labels(lang)["page"] == "第 {number} 页"


# Figures as a sheet's notes carry them (each with its unit), and the words around them.
SHEET_FIGURES = {
    "en": (
        "odometer 123,456 km at reception, fuel 3/8, tread 6.5 mm, a 12 cm scratch on the "
        "door, about ¥1,280 to fix, a hum from 80 km/h.",
        ["123,456 km", "3/8", "6.5 mm", "12 cm", "¥1,280", "80 km/h"],
    ),
    "zh_CN": (
        "接车时里程表读数123,456公里，油量3/8，胎纹6.5毫米，车门有12厘米划痕，"
        "修复约¥1,280，时速80 km/h以上有异响。",
        ["123,456公里", "3/8", "6.5毫米", "12厘米", "¥1,280", "80km/h"],
    ),
}


@needs_poppler
@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_sheet_never_splits_a_figure_from_its_unit(lang: str, tmp_path: Path) -> None:
    """Notes of every length put each figure at a line's end somewhere: none is split
    between number and unit (or inside the number), in either language."""
    body, figures = SHEET_FIGURES[lang]
    # Each note's first word is two letters longer than the one before, so the line's end
    # sweeps across every figure.
    notes = "\n".join(f"{k + 1:02d}{'x' * (2 * k)} {body}" for k in range(48))
    visit_id = str(uuid.uuid4())
    walkaround = Walkaround(
        visit_id=visit_id, odometer_km=123456, fuel_eighths=3, exterior_notes=notes
    )
    content = SheetContent(
        shop_name="Bright Auto", ticket_number="T-042", concern_text=body, walkaround=walkaround
    )
    path = tmp_path / f"figures-{lang}.pdf"
    path.write_bytes(render_sheet_pdf(content, server_sheet_labels(lang), lang))
    # One line of words each (Chinese: its characters, whatever spaces pdftotext puts).
    gap = "" if lang == "zh_CN" else " "
    lines = [gap.join(line.split()) for line in pdf_text(path).splitlines()]
    joined = gap.join(lines)
    for figure in figures:
        whole = sum(line.count(figure) for line in lines)
        assert whole == joined.count(figure) >= 49, (figure, whole, joined.count(figure))


FAKE_LP = """
import shutil, sys
args = sys.argv[1:]
shutil.copy(args[-1], sys.argv[0] + ".printed.pdf")
print("request id is Office-7 (1 file(s))", " ".join(args[:-2]))
"""


def test_the_tablet_prints_through_lp_and_keeps_the_sheet_without_a_printer(
    tmp_path: Path,
) -> None:
    script = tmp_path / "lp.py"
    script.write_text(FAKE_LP, encoding="utf-8")
    device = "5c3a1e0b-7d2f-4c6a-9b8e-1f0a2d3c4b5a"
    with LocalStore(tmp_path / "tablet", device) as store:
        visit = check_in(store, new_car(store))
        walk_around(store, visit)
        lp = LpPrinter([sys.executable, str(script)], destination="Front-desk")
        outcome = print_checkin_sheet(
            store, visit.id, "zh_CN", shop_name="Bright Auto", folder=tmp_path / "sheets",
            device_printer=lp,
        )  # fmt: skip
        assert outcome.printed and outcome.path.name == "checkin-sheet-T-012-zh_CN.pdf"
        assert outcome.job == "request id is Office-7 (1 file(s)) -d Front-desk -t 接车单 T-012"
        printed = tmp_path / "lp.py.printed.pdf"
        assert printed.read_bytes() == outcome.path.read_bytes()
        assert printed.read_bytes().startswith(b"%PDF-")

        kept = print_checkin_sheet(
            store, visit.id, "en", shop_name="Bright Auto", folder=tmp_path / "sheets",
            device_printer=NoPrinter(),
        )  # fmt: skip
        assert not kept.printed and not kept.error
        assert kept.path.read_bytes().startswith(b"%PDF-")

        script.write_text("import sys\nsys.exit('lp: no default destination')\n")
        refused = print_checkin_sheet(
            store, visit.id, "en", shop_name="Bright Auto", folder=tmp_path / "sheets",
            device_printer=lp,
        )  # fmt: skip
        assert not refused.printed and refused.error == "lp: no default destination"
        assert refused.path.exists()  # kept all the same
        assert sorted(p.name for p in (tmp_path / "sheets").iterdir()) == [
            "checkin-sheet-T-012-en.pdf",
            "checkin-sheet-T-012-zh_CN.pdf",
        ]  # no temporary file left behind
    with pytest.raises(PrintFailed):
        NoPrinter().print_file(outcome.path)


def test_the_printer_backend_is_lp_where_cups_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert isinstance(printer(), NoPrinter) and not printer().has_printer
    lp = tmp_path / "lp"
    lp.write_text("#!/bin/sh\necho request id is x-1\n", encoding="utf-8")
    lp.chmod(0o755)
    found = printer("Front-desk")
    assert isinstance(found, LpPrinter) and found.has_printer
    assert found.command == [str(lp)] and found.destination == "Front-desk"
