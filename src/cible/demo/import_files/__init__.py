"""Realistic, messy import files: organisation and contact lists as people really send them.

French or English headers, `;` or `,`, UTF-8 (with or without BOM), Windows-1252 or ISO-8859-1,
phones in every common format, websites with and without "http"/"www", countries as names in
three languages or ISO codes, French decimal commas and day-first dates, some rows to reject.
The same seed and size give the same bytes.

Values are drawn from the demo dataset's own reference tables and name pools (`demo.reference`,
`demo.people.Pools`), column by column with numpy and polars: a million rows stream to disk in
seconds, CHUNK_ROWS at a time. XLSX files are written cell by cell (numbers, dates and text as
a spreadsheet holds them) and are meant for sizes a spreadsheet is used for.

Every good row passes the foundation's normalisers as they stand (tests/quality/imports check
it), except day-first dates ("25/12/2024"), which `core.values.moment` does not read yet: the
French files write `last_verified_at` that way, as French exports do.
"""

from __future__ import annotations

import codecs
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from cible.demo.import_files._columns import (
    BAD_KINDS,
    CHUNK_ROWS,
    DEFAULT_OWNERS,
    FORMULA,
    REFERENCE_DAY,
    bad_positions,
    luhn_check_digits,
)
from cible.demo.import_files.contacts import CONTACT_HEADERS, contact_frames
from cible.demo.import_files.organisations import (
    COUNTRY_NAMES,
    ORGANISATION_HEADERS,
    organisation_frames,
)

__all__ = [
    "BAD_KINDS",
    "CHUNK_ROWS",
    "CONTACT_HEADERS",
    "COUNTRY_NAMES",
    "DEFAULT_OWNERS",
    "FORMULA",
    "ORGANISATION_HEADERS",
    "REFERENCE_DAY",
    "WrittenFile",
    "contact_frames",
    "luhn_check_digits",
    "organisation_frames",
    "write_contacts_csv",
    "write_contacts_xlsx",
    "write_frames_csv",
    "write_frames_xlsx",
    "write_organisations_csv",
    "write_organisations_xlsx",
]


@dataclass(frozen=True)
class WrittenFile:
    path: Path
    rows: int
    columns: list[str]
    fields: dict[str, str]  # column -> field, the mapping a person would choose
    bad_rows: dict[int, str]  # row number under the header -> kind of defect (BAD_KINDS)


def write_frames_csv(
    path: Path,
    frames: Iterator[pl.DataFrame],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    line_terminator: str = "\n",
    quote_all: bool = False,
) -> tuple[list[str], int]:
    """Stream `frames` (same columns) to a CSV file; returns (header, data rows).

    Characters the encoding lacks become "?" (as Excel does when it saves in Windows-1252).
    """
    columns: list[str] = []
    rows = 0
    options: dict[str, Any] = {
        "separator": delimiter,
        "line_terminator": line_terminator,
        "quote_style": "always" if quote_all else "necessary",
    }
    with Path(path).open("wb") as out:
        if encoding == "utf-8-sig":
            out.write(codecs.BOM_UTF8)
        for frame in frames:
            first = not columns
            columns = columns or frame.columns
            text = frame.write_csv(None, include_header=first, **options)
            out.write(text.encode(encoding.replace("-sig", ""), errors="replace"))
            rows += frame.height
    return columns, rows


def _csv_defaults(dialect: str, encoding: str | None, delimiter: str | None) -> dict[str, str]:
    french = dialect == "fr"
    return {
        "encoding": encoding or ("utf-8-sig" if french else "utf-8"),
        "delimiter": delimiter or (";" if french else ","),
        "line_terminator": "\r\n" if french else "\n",
    }


def _written(
    path: Path, columns: list[str], rows: int, headers: dict[str, str], bad: dict[int, str]
) -> WrittenFile:
    fields = {header: field for field, header in headers.items()}
    return WrittenFile(
        Path(path),
        rows,
        columns,
        {c: fields[c] for c in columns},
        {i + 1: k for i, k in bad.items()},
    )


def write_organisations_csv(
    path: Path,
    rows: int,
    *,
    seed: int,
    dialect: str = "fr",
    encoding: str | None = None,
    delimiter: str | None = None,
    messy: bool = True,
    bad_rows: int = 0,
    owners: Sequence[str] | None = None,
    quote_all: bool = False,
) -> WrittenFile:
    """An organisation file of `rows` rows (15 columns); see the module docstring."""
    frames = organisation_frames(
        rows, seed=seed, dialect=dialect, messy=messy, bad_rows=bad_rows, owners=owners
    )
    columns, written = write_frames_csv(
        path, frames, quote_all=quote_all, **_csv_defaults(dialect, encoding, delimiter)
    )
    headers = ORGANISATION_HEADERS[dialect]
    return _written(path, columns, written, headers, bad_positions(rows, bad_rows))


def write_contacts_csv(
    path: Path,
    rows: int,
    *,
    seed: int,
    organisations: int | None = None,
    dialect: str = "fr",
    encoding: str | None = None,
    delimiter: str | None = None,
    messy: bool = True,
    bad_rows: int = 0,
    owners: Sequence[str] | None = None,
    quote_all: bool = False,
) -> WrittenFile:
    """A contact file of `rows` rows, linked to the organisation file of the same seed."""
    frames = contact_frames(
        rows,
        seed=seed,
        organisations=organisations,
        dialect=dialect,
        messy=messy,
        bad_rows=bad_rows,
        owners=owners,
    )
    columns, written = write_frames_csv(
        path, frames, quote_all=quote_all, **_csv_defaults(dialect, encoding, delimiter)
    )
    headers = CONTACT_HEADERS[dialect]
    return _written(path, columns, written, headers, bad_positions(rows, bad_rows))


_NUMBER_FIELDS = frozenset({"siren", "siret", "headcount", "annual_revenue", "organisation_siren"})


def _cell(field: str, text: str | None) -> Any:
    """The value a spreadsheet would hold for a cell: numbers and dates typed, the rest text."""
    if text is None:
        return None
    if field in _NUMBER_FIELDS and text.isdigit():
        return int(text)
    if field == "last_verified_at":
        for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
            try:
                return dt.datetime.strptime(text, pattern)
            except ValueError:
                continue
    return text


def write_frames_xlsx(
    path: Path, frames: Iterator[pl.DataFrame], fields: dict[str, str], *, typed: bool = True
) -> tuple[list[str], int]:
    """Write `frames` to the first sheet of a workbook, cell by cell; numbers and dates as
    numbers and dates when `typed` (what Excel makes of them). Returns (header, data rows)."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("Export")
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    columns: list[str] = []
    row = 0
    for frame in frames:
        if not columns:
            columns = frame.columns
            sheet.write_row(0, 0, columns)
        kinds = [fields.get(c, "") for c in columns]
        for values in frame.iter_rows():
            row += 1
            for position, (kind, text) in enumerate(zip(kinds, values, strict=True)):
                value = _cell(kind, text) if typed else text
                if value is None:
                    continue
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(row, position, value, day)
                elif isinstance(value, int):
                    sheet.write_number(row, position, value)
                else:
                    sheet.write_string(row, position, value)
    workbook.close()
    return columns, row


def write_organisations_xlsx(
    path: Path,
    rows: int,
    *,
    seed: int,
    dialect: str = "fr",
    messy: bool = True,
    bad_rows: int = 0,
    owners: Sequence[str] | None = None,
    typed: bool = True,
) -> WrittenFile:
    """The organisation file as an Excel workbook: SIRENs, headcounts and dates typed."""
    headers = ORGANISATION_HEADERS[dialect]
    fields = {header: field for field, header in headers.items()}
    frames = organisation_frames(
        rows, seed=seed, dialect=dialect, messy=messy, bad_rows=bad_rows, owners=owners
    )
    columns, written = write_frames_xlsx(path, frames, fields, typed=typed)
    return _written(path, columns, written, headers, bad_positions(rows, bad_rows))


def write_contacts_xlsx(
    path: Path,
    rows: int,
    *,
    seed: int,
    organisations: int | None = None,
    dialect: str = "fr",
    messy: bool = True,
    bad_rows: int = 0,
    owners: Sequence[str] | None = None,
    typed: bool = True,
) -> WrittenFile:
    """The contact file as an Excel workbook."""
    headers = CONTACT_HEADERS[dialect]
    fields = {header: field for field, header in headers.items()}
    frames = contact_frames(
        rows,
        seed=seed,
        organisations=organisations,
        dialect=dialect,
        messy=messy,
        bad_rows=bad_rows,
        owners=owners,
    )
    columns, written = write_frames_xlsx(path, frames, fields, typed=typed)
    return _written(path, columns, written, headers, bad_positions(rows, bad_rows))
