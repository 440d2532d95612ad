"""XLSX workbooks: the first visible sheet with data, every cell as faithful text."""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cible.quality.imports.reading._base import (
    CHUNK_BYTES,
    OLE_MAGIC,
    ROW,
    ZIP_MAGIC,
    ImportFileError,
    Table,
    check_header,
    first_line,
    max_xlsx_cells,
)

_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")  # in a password-protected workbook


def open_xlsx(path: Path) -> Table:
    frame = _xlsx_sheet(path)
    if frame.height == 0 or frame.width == 0:
        raise ImportFileError(_("The workbook has no sheet with data."))
    header = ["" if cell is None else str(cell) for cell in frame.row(0)]
    columns = check_header(header)
    body = _xlsx_body(frame, columns)
    rows = body.select(_filled(columns).fill_null(False).sum()).item() if body.height else 0
    if rows == 0:
        raise ImportFileError(_("The sheet has a header line but no data rows."))
    return Table(path, "xlsx", None, None, columns, rows)


def _xlsx_sheet(path: Path) -> pl.DataFrame:
    """The first visible sheet holding data, every cell as text, the header in row 0."""
    import fastexcel

    with path.open("rb") as file:
        magic = file.read(8)
    if magic.startswith(OLE_MAGIC):
        if _holds(path, _ENCRYPTED_STREAM):
            raise ImportFileError(
                _(
                    "The workbook is protected by a password. Open it in Excel, remove the "
                    "password (File › Info › Protect Workbook) and upload it again."
                )
            )
        raise ImportFileError(
            _(
                "This is an old Excel 97–2003 workbook (.xls) named .xlsx. Save it as an Excel "
                "workbook (.xlsx) or as CSV and upload it again."
            )
        )
    if not magic.startswith(ZIP_MAGIC):
        raise ImportFileError(
            _("This file is not an Excel workbook (.xlsx): export your data as XLSX or CSV.")
        )
    sizes = _sheet_sizes(path)
    try:
        reader = fastexcel.read_excel(path)
        for index, name in enumerate(reader.sheet_names):
            _check_size(name, sizes.get(name))
            sheet = reader.load_sheet(index, header_row=None, dtypes="string")
            if sheet.visible == "visible" and sheet.height > 0:
                return sheet.to_polars()
    except fastexcel.FastExcelError as error:
        raise ImportFileError(
            _(
                "The workbook cannot be read: it is damaged or not really an .xlsx file "
                "(%(detail)s). Open it in Excel, save it again and upload the new file."
            )
            % {"detail": first_line(error)}
        ) from None
    except ImportFileError:
        raise
    except Exception as error:  # calamine panics surface as pyo3 exceptions
        raise ImportFileError(
            _(
                "The workbook cannot be read: it is damaged or not really an .xlsx file "
                "(%(detail)s). Open it in Excel, save it again and upload the new file."
            )
            % {"detail": first_line(error)}
        ) from None
    return pl.DataFrame()


def _sheet_sizes(path: Path) -> dict[str, tuple[int, int]]:
    """(rows, columns) of each sheet from its <dimension> element, read before loading it."""
    sizes: dict[str, tuple[int, int]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
            rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
            targets = dict(
                re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels)
            )
            targets |= {
                rid: target
                for target, rid in re.findall(
                    r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels
                )
            }
            for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
                name = re.search(r'\bname="([^"]*)"', tag)
                rid = re.search(r'\br:id="([^"]*)"', tag)
                if not (name and rid and rid.group(1) in targets):
                    continue
                target = targets[rid.group(1)].lstrip("/")
                member = target if target.startswith("xl/") else f"xl/{target}"
                if member not in names:
                    continue
                with archive.open(member) as sheet:
                    head = sheet.read(4096).decode("utf-8", "replace")
                size = re.search(
                    r'<(?:\w+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', head
                )
                if size:
                    first_col, first_row, last_col, last_row = size.groups()
                    rows = int(last_row or first_row) - int(first_row) + 1
                    columns = _column_number(last_col or first_col) - _column_number(first_col) + 1
                    sizes[html.unescape(name.group(1))] = (rows, columns)
    except (OSError, KeyError, zipfile.BadZipFile):
        return sizes  # calamine says what is wrong with the file
    return sizes


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _check_size(name: str, size: tuple[int, int] | None) -> None:
    if size is None:
        return
    rows, columns = size
    limit = max_xlsx_cells()
    if rows * columns > limit:
        raise ImportFileError(
            _(
                "The sheet “%(sheet)s” has %(rows)s rows and %(columns)s columns: more cells "
                "than can be read from an Excel workbook (%(limit)s). Save it as CSV, which has "
                "no such limit, and upload the CSV file."
            )
            % {
                "sheet": name,
                "rows": number_format(rows, force_grouping=True),
                "columns": number_format(columns, force_grouping=True),
                "limit": number_format(limit, force_grouping=True),
            }
        )


def _holds(path: Path, needle: bytes) -> bool:
    tail = b""
    with path.open("rb") as file:
        while data := file.read(CHUNK_BYTES):
            if needle in tail + data:
                return True
            tail = data[-len(needle) :]
    return False


_DATE = r"(\d{4}-\d{2}-\d{2})"
_TIME = r"(\d{2}:\d{2}:\d{2}(?:\.\d+)?)"


def _excel_text(column: pl.Expr) -> pl.Expr:
    """fastexcel's text of a cell, made faithful: ISO dates, no ".0" on whole numbers."""
    text = (
        column.str.replace(rf"^1899-12-3[01] {_TIME}$", "${1}")
        .str.replace(rf"^{_DATE} 00:00:00$", "${1}")
        .str.replace(rf"^{_DATE} {_TIME}$", "${1}T${2}")
        .str.replace(r"^(-?\d+)\.0$", "${1}")
    )
    return pl.when(text.str.len_bytes() > 0).then(text)


def _xlsx_body(sheet: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The rows under the header, named after it and numbered."""
    body = sheet.slice(1)
    body.columns = columns
    return body.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def _filled(columns: list[str]) -> pl.Expr:
    return pl.any_horizontal(pl.col(name).str.len_bytes() > 0 for name in columns)


def _xlsx_rows(body: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Rows of the body with faithful text, blank rows dropped."""
    return body.filter(_filled(columns).fill_null(False)).select(
        pl.col(ROW), *(_excel_text(pl.col(name)).alias(name) for name in columns)
    )


def batches(table: Table, *, batch_size: int, start_row: int) -> Iterator[pl.DataFrame]:
    """The data rows of the sheet, sliced into frames (see `read_batches`)."""
    body = _xlsx_body(_xlsx_sheet(table.path), table.columns)
    for offset in range(max(start_row - 1, 0), body.height, batch_size):
        frame = _xlsx_rows(body.slice(offset, batch_size), table.columns)
        if frame.height:
            yield frame
