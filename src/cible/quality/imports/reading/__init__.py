"""Reading import files: a CSV or XLSX file becomes batches of text columns.

`open_table` checks the whole file before anything is imported, and names every problem a
person can fix (the line, row or column, and what to do): empty file, header only, binary data,
an endless line, too many columns, duplicate or missing header names, mixed encodings, rows with
more cells than the header, bad quotes, a damaged or password-protected workbook. `read_batches`
then streams the rows as polars frames of raw cell text, so a million-row file never sits in
memory whole.

CSV: the encoding (UTF-8, UTF-8 with BOM, Windows-1252, ISO-8859-1) is found in one pass over the
bytes, the delimiter (`,` `;` tab `|`) from the header and a sample, quotes respected. Polars only
reads UTF-8, so other encodings are transcoded to a temporary UTF-8 copy, chunk by chunk.

XLSX: read by polars' calamine engine (fastexcel), every cell as text. fastexcel writes a number
cell without a trailing ".0", never in scientific notation, and rounded to 9 decimals
(356000000 stays "356000000" whatever Excel shows of it, 35600000000048 stays whole, 0.1 + 0.2
is "0.3"), a boolean as "true"/"false", and a date as "2024-01-05 00:00:00": dates become ISO
text here ("2024-01-05", "2024-01-05T10:30:00", a time alone "10:30:00"). An Excel error cell
(#N/A, #DIV/0!) holds no value and reads as empty. The first visible sheet with data is read,
whole: calamine has no streaming reader, so a sheet of more than settings.IMPORT_MAX_XLSX_CELLS
cells is refused (from its <dimension>, before loading) with a request for a CSV export.

Row numbers: `_row` counts the records under the header from 1, as the rows of a spreadsheet
under its header line; blank rows keep their number but are not returned, nor counted in
`Table.rows`. Problems found in the raw bytes name the line of the file as a text editor shows
it, and the row when it is known.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
from django.utils.translation import gettext as _

from cible.quality.imports.reading import delimited, workbook
from cible.quality.imports.reading._base import (
    CSV_EXTENSIONS,
    DELIMITERS,
    ENCODING_LABELS,
    MAX_COLUMNS,
    MAX_LINE_BYTES,
    ROW,
    XLSX_EXTENSIONS,
    ImportFileError,
    Table,
    column_letter,
    max_file_bytes,
    max_xlsx_cells,
    megabytes,
)

__all__ = [
    "CSV_EXTENSIONS",
    "DELIMITERS",
    "ENCODING_LABELS",
    "MAX_COLUMNS",
    "MAX_LINE_BYTES",
    "ROW",
    "XLSX_EXTENSIONS",
    "ImportFileError",
    "Table",
    "column_letter",
    "max_file_bytes",
    "max_xlsx_cells",
    "open_table",
    "read_batches",
]


def open_table(path: Path, *, filename: str) -> Table:
    """Check the file at `path` (named `filename` by the person) and describe it.

    Raises ImportFileError naming the problem; reads the file through once (twice for a CSV
    file that is not UTF-8), never holding a CSV file in memory.
    """
    path = Path(path)
    extension = Path(filename).suffix.lower()
    if extension not in CSV_EXTENSIONS | XLSX_EXTENSIONS:
        if extension in (".xls", ".ods", ".numbers", ".xlsb"):
            raise ImportFileError(
                _(
                    "“%(name)s” is a spreadsheet format Cible does not read. Save it as an Excel "
                    "workbook (.xlsx) or as CSV and upload it again."
                )
                % {"name": filename}
            )
        raise ImportFileError(
            _(
                "“%(name)s” is neither a CSV file nor an Excel workbook (.xlsx). Export your data "
                "as CSV or XLSX and upload that file."
            )
            % {"name": filename}
        )
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(_("The file is empty."))
    limit = max_file_bytes()
    if size > limit:
        raise ImportFileError(
            _(
                "The file is %(size)s MB; the largest file accepted is %(limit)s MB. Split it "
                "into several files."
            )
            % {"size": megabytes(size), "limit": megabytes(limit)}
        )
    if extension in XLSX_EXTENSIONS:
        return workbook.open_xlsx(path)
    return delimited.open_csv(path)


def read_batches(
    table: Table, *, batch_size: int = 50_000, start_row: int = 1
) -> Iterator[pl.DataFrame]:
    """The data rows of `table` from `start_row` on, in frames of at most `batch_size` rows.

    Each frame has one pl.String column per header (raw cell text, empty cells null) and
    `_row` (pl.Int64), the row number under the header. Blank rows are skipped.
    """
    if table.format == "xlsx":
        return workbook.batches(table, batch_size=batch_size, start_row=start_row)
    return delimited.batches(table, batch_size=batch_size, start_row=start_row)
