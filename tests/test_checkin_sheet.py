"""The printable check-in sheet (接车单): a real server renders it from what a tablet
synced, in English and in Chinese; its text is read back with pdftotext and its pages
are rendered with pdftoppm, as a printer would see them.

Set ``CHECKIN_SHEET_SCREENSHOTS=docs/screenshots`` to keep the first page of each
language as ``checkin-sheet-<lang>.png`` there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
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
from kiosk.services.walkaround import WalkaroundSheet

pytestmark = pytest.mark.skipif(
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
        path.write_bytes(fetch_pdf(live_server, device.token, visit.id, "zh_CN"))
        assert "客户签字后接车单已被修改" in pdf_text(path)


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
