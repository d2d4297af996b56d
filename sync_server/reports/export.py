"""A report's table as a download: CSV (UTF-8 with a byte-order mark, so a spreadsheet
opens Chinese names right) and XLSX (openpyxl: numbers stay numbers, a bold heading
row, the columns widened to their text).

A text cell that a spreadsheet would take for a formula — one starting with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return, which some skip first) — is kept as text: in
the CSV behind a leading apostrophe (OWASP's advice for "CSV injection"), in the XLSX as
a text cell marked with Excel's quote prefix. A category or a name typed as
``=HYPERLINK(...)`` never runs when a manager opens the download."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from sync_server.reports.tables import ReportTable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    return "'" + value if looks_like_formula(value) else value  # type: ignore[operator]


def table_csv(table: ReportTable) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in (table.columns, *table.rows):
        writer.writerow([_csv_cell(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(table: ReportTable) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    # A sheet's name: at most 31 characters, none of []:*?/\
    name = "".join(ch for ch in table.title if ch not in "[]:*?/\\")[:31]
    sheet.title = name or table.key
    sheet.append(table.columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([float(cell) if isinstance(cell, Decimal) else cell for cell in row])
    for line in sheet.iter_rows():
        for cell in line:
            if looks_like_formula(cell.value):  # openpyxl would write it as a formula
                cell.data_type = "s"
                cell.quotePrefix = True
    for index, heading in enumerate(table.columns, start=1):
        widest = max([len(heading)] + [len(str(row[index - 1] or "")) for row in table.rows])
        sheet.column_dimensions[get_column_letter(index)].width = min(60, widest + 2)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
