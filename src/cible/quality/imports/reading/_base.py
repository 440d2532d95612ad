"""What the CSV and XLSX readers share: the error, the table, the limits, the header check."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cible.core.errors import CibleError, FieldError

MAX_COLUMNS = 500
MAX_LINE_BYTES = 1024 * 1024  # one line (or one cell) of a CSV file
DEFAULT_MAX_FILE_BYTES = 1024 * 1024 * 1024  # overridden by settings.IMPORT_MAX_FILE_BYTES
# An XLSX sheet is read whole (calamine has no streaming reader): about 130 bytes per cell.
DEFAULT_MAX_XLSX_CELLS = 5_000_000  # overridden by settings.IMPORT_MAX_XLSX_CELLS
CSV_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})
XLSX_EXTENSIONS = frozenset({".xlsx", ".xlsm"})
DELIMITERS = (";", ",", "\t", "|")  # order breaks ties: French exports use ";"
ROW = "_row"

CHUNK_BYTES = 4 * 1024 * 1024  # files are read in chunks of this size
ZIP_MAGIC = b"PK\x03\x04"  # an XLSX file is a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, or an encrypted workbook
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "cp1252": "Windows-1252",
    "iso-8859-1": "ISO-8859-1",
}


class ImportFileError(CibleError):
    """A file that cannot be imported as it is; the message says where and what to do."""

    status_code = 422

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None) -> None:
        self.row = row
        self.column = column
        super().__init__(message, [FieldError("file", message)])


@dataclass(frozen=True)
class Table:
    path: Path
    format: str  # "csv" | "xlsx"
    encoding: str | None  # "utf-8", "utf-8-sig", "cp1252", "iso-8859-1" (None for xlsx)
    delimiter: str | None  # ",", ";", "\t", "|" (None for xlsx)
    columns: list[str]  # header names as in the file (stripped), unique
    rows: int  # data rows, header and blank rows excluded


def max_file_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES))


def max_xlsx_cells() -> int:
    return int(getattr(settings, "IMPORT_MAX_XLSX_CELLS", DEFAULT_MAX_XLSX_CELLS))


def column_letter(position: int) -> str:
    """Spreadsheet letters of a 1-based column position: 1 → A, 27 → AA."""
    letters = ""
    while position > 0:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def megabytes(size: int) -> str:
    megabytes = round(size / (1024 * 1024), 1)
    if megabytes.is_integer():
        return number_format(int(megabytes), force_grouping=True)
    return number_format(megabytes, decimal_pos=1, force_grouping=True)


def check_header(cells: list[str]) -> list[str]:
    names = [cell.strip().lstrip("\ufeff").strip() for cell in cells]
    if len(names) > MAX_COLUMNS:
        raise ImportFileError(
            _(
                "The file has %(count)s columns; at most %(limit)s are accepted. Remove the "
                "columns you do not want to import."
            )
            % {"count": number_format(len(names), force_grouping=True), "limit": MAX_COLUMNS}
        )
    if names and all(not name for name in names):
        raise ImportFileError(_("The first line of the file is empty: it must name the columns."))
    for position, name in enumerate(names, start=1):
        if not name:
            raise ImportFileError(
                _(
                    "Column %(position)s (%(letter)s) has no name in the header line. Give "
                    "every column a name, or delete the empty column."
                )
                % {"position": position, "letter": column_letter(position)},
                column=column_letter(position),
            )
        if name == ROW:
            raise ImportFileError(
                _("A column is named “%(name)s”, a name Cible keeps for itself: rename it.")
                % {"name": name},
                column=name,
            )
    counts = Counter(names)
    repeated = [name for name, count in counts.items() if count > 1]
    if repeated:
        name = repeated[0]
        positions = [str(i) for i, n in enumerate(names, start=1) if n == name]
        raise ImportFileError(
            _(
                "The column “%(name)s” appears %(count)s times in the header (columns "
                "%(positions)s). Rename or remove the duplicates."
            )
            % {"name": name, "count": counts[name], "positions": ", ".join(positions)},
            column=name,
        )
    return names


def first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__
