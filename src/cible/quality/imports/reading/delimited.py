"""CSV files: encoding and delimiter found, every line checked, rows streamed by polars."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.utils.translation import gettext as _

from cible.quality.imports.reading._base import (
    CHUNK_BYTES,
    DELIMITERS,
    MAX_LINE_BYTES,
    OLE_MAGIC,
    ROW,
    ZIP_MAGIC,
    ImportFileError,
    Table,
    check_header,
    first_line,
    megabytes,
)

_SAMPLE_BYTES = 256 * 1024  # read to find the delimiter
_BOM = codecs.BOM_UTF8
# Extra columns past the header: a row that fills one has more cells than the header.
_EXTRA = ("\x00extra1", "\x00extra2")
# A well-formed UTF-8 sequence of two to four bytes: its presence in a file that is not valid
# UTF-8 throughout means the file mixes two encodings (Windows-1252 text pasted into UTF-8).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_C1_BYTES = re.compile(rb"[\x80-\x9f]")  # printable in Windows-1252, control codes in ISO-8859-1
_NOT_IN_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


@dataclass
class _Scan:
    """What one pass over the raw bytes of a CSV file found."""

    eol: bytes = b"\n"
    bom: bool = False
    lines: int = 0
    utf8_evidence: bool = False  # a BOM or a valid multi-byte UTF-8 sequence somewhere
    first_non_utf8_line: int | None = None
    c1_bytes: bool = False
    not_cp1252: bool = False


def open_csv(path: Path) -> Table:
    scan = _scan_bytes(path)
    encoding = _encoding_of(path, scan)
    delimiter, header = _sniff(path, encoding, scan.eol)
    columns = check_header(header)
    table = Table(path, "csv", encoding, delimiter, columns, 0)
    with _utf8_source(table) as source:
        rows = _count_csv_rows(table, source)
    if rows == 0:
        raise ImportFileError(_("The file has a header line but no data rows."))
    return Table(path, "csv", encoding, delimiter, columns, rows)


def _scan_bytes(path: Path) -> _Scan:
    """One pass over the bytes, in chunks cut at line ends: binary data, endless lines, and
    the evidence for the encoding."""
    scan = _Scan()
    with path.open("rb") as file:
        data = file.read(CHUNK_BYTES)
        if data.startswith(ZIP_MAGIC) or data.startswith(OLE_MAGIC):
            raise ImportFileError(
                _(
                    "This file is an Excel workbook, not a CSV file. Upload it with its .xlsx "
                    "extension, or export it as CSV."
                )
            )
        if data.startswith(_BOM):
            scan.bom = scan.utf8_evidence = True
            data = data[len(_BOM) :]
        if not data.strip():
            raise ImportFileError(_("The file is empty."))
        scan.eol = eol = _eol_of(data)
        pending = b""
        while data:
            buffer = pending + data
            data = file.read(CHUNK_BYTES)
            if data:
                cut = buffer.rfind(eol) + 1
                chunk, pending = buffer[:cut], buffer[cut:]
                if len(pending) > MAX_LINE_BYTES:
                    _too_long(path, scan, scan.lines + chunk.count(eol) + 1)
            else:
                chunk, pending = buffer, b""
            if chunk:
                _scan_chunk(path, scan, chunk)
    return scan


def _eol_of(head: bytes) -> bytes:
    """b"\\r" for the line ends of classic Mac OS files, else b"\\n" (CRLF included)."""
    return b"\r" if b"\n" not in head and b"\r" in head else b"\n"


def _scan_chunk(path: Path, scan: _Scan, chunk: bytes) -> None:
    eol = scan.eol
    nul = chunk.find(b"\x00")
    if nul >= 0:
        line = scan.lines + chunk.count(eol, 0, nul) + 1
        raise ImportFileError(
            _(
                "This is not a text file: line %(line)s holds binary data. Export your data as "
                "CSV (or upload the .xlsx workbook itself)."
            )
            % {"line": line},
            row=_row_of_line(path, line, eol),
        )
    if len(chunk) > MAX_LINE_BYTES:
        lengths = list(map(len, chunk.split(eol)))
        if max(lengths) > MAX_LINE_BYTES:
            position = next(i for i, n in enumerate(lengths) if n > MAX_LINE_BYTES)
            _too_long(path, scan, scan.lines + position + 1)
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as error:
        if scan.first_non_utf8_line is None:
            scan.first_non_utf8_line = scan.lines + chunk.count(eol, 0, error.start) + 1
        if not scan.utf8_evidence and _UTF8_MULTIBYTE.search(chunk):
            scan.utf8_evidence = True
        if not scan.not_cp1252 and _C1_BYTES.search(chunk):
            scan.c1_bytes = True
            scan.not_cp1252 = _NOT_IN_CP1252.search(chunk) is not None
    else:
        if not scan.utf8_evidence and not chunk.isascii():
            scan.utf8_evidence = True
    scan.lines += chunk.count(eol)


def _too_long(path: Path, scan: _Scan, line: int) -> None:
    raise ImportFileError(
        _(
            "Line %(line)s of the file is longer than %(limit)s MB: this is not a usable CSV "
            "file (a quote may be missing, or the file is not CSV at all)."
        )
        % {"line": line, "limit": megabytes(MAX_LINE_BYTES)},
        row=_row_of_line(path, line, scan.eol),
    )


def _row_of_line(path: Path, line: int, eol: bytes) -> int | None:
    """The data row (1 = first under the header) that physical `line` belongs to, counting
    quoted line breaks; None for the header. Only called to word an error."""
    records = 0
    inside = False
    with path.open("rb") as file:
        for number, raw in enumerate(_lines(file, eol), start=1):
            if number == line:
                return records or None
            if raw.count(b'"') % 2:
                inside = not inside
            if not inside:
                records += 1
    return records or None


def _lines(file: io.BufferedIOBase, eol: bytes) -> Iterator[bytes]:
    """Physical lines, cut short at MAX_LINE_BYTES so that an endless line costs nothing."""
    pending = b""
    while data := file.read(CHUNK_BYTES):
        pending += data
        *complete, pending = pending.split(eol)
        yield from complete
        if len(pending) > MAX_LINE_BYTES:
            yield pending[:MAX_LINE_BYTES]
            return
    if pending:
        yield pending


def _encoding_of(path: Path, scan: _Scan) -> str:
    line = scan.first_non_utf8_line
    if line is None:
        return "utf-8-sig" if scan.bom else "utf-8"
    if scan.utf8_evidence:
        row = _row_of_line(path, line, scan.eol)
        where = (
            _("row %(row)s (line %(line)s of the file)") % {"row": row, "line": line}
            if row
            else _("the header line")
        )
        raise ImportFileError(
            _(
                "The file mixes two encodings: it is UTF-8, but %(where)s holds characters in "
                "another encoding (probably Windows-1252). Save the whole file as UTF-8 and "
                "upload it again."
            )
            % {"where": where},
            row=row,
        )
    return "cp1252" if scan.c1_bytes and not scan.not_cp1252 else "iso-8859-1"


def _sniff(path: Path, encoding: str, eol: bytes) -> tuple[str, list[str]]:
    """(delimiter, header cells) from the header and the rows that follow it in a sample."""
    with path.open("rb") as file:
        raw = file.read(_SAMPLE_BYTES + MAX_LINE_BYTES)
    complete = len(raw) < _SAMPLE_BYTES + MAX_LINE_BYTES
    if not complete:
        # Whole lines only: the header may be long (hundreds of columns), the sample is not.
        end = raw.rfind(eol, 0, max(_SAMPLE_BYTES, raw.find(eol) + 1)) + 1
        raw = raw[: end or len(raw)]
    text = raw.decode(encoding, errors="replace")
    _allow_long_fields()
    best: tuple[tuple[float, int, int], str, list[str]] | None = None
    for rank, delimiter in enumerate(DELIMITERS):
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
        if not records:
            continue
        if not complete and len(records) > 2:
            records = records[:-1]  # the last record of a cut sample may be cut too
        header, rows = records[0], records[1:]
        width = len(header)
        fitting = sum(1 for r in rows if len(r) == width) / len(rows) if rows else 1.0
        score = (fitting if width > 1 else 0.0, width, -rank)
        if best is None or score > best[0]:
            best = (score, delimiter, header)
    if best is None:
        raise ImportFileError(_("The file is empty."))
    return best[1], best[2]


def _allow_long_fields() -> None:
    """The csv module refuses cells over 128 KiB by default; ours may reach a line's limit."""
    if csv.field_size_limit() < 2 * MAX_LINE_BYTES:
        csv.field_size_limit(2 * MAX_LINE_BYTES)


@contextlib.contextmanager
def _utf8_source(table: Table) -> Iterator[Path]:
    """The file itself when it is UTF-8, else a temporary UTF-8 copy, removed afterwards."""
    if table.encoding in ("utf-8", "utf-8-sig", None):
        yield table.path
        return
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - removed in `finally`
            dir=table.path.parent, prefix=f".{table.path.name}.", suffix=".utf8", delete=False
        )
    except OSError:
        handle = tempfile.NamedTemporaryFile(suffix=".utf8", delete=False)  # noqa: SIM115
    target = Path(handle.name)
    try:
        with handle, table.path.open("rb") as source:
            while data := source.read(CHUNK_BYTES):
                handle.write(data.decode(table.encoding).encode("utf-8"))
        yield target
    finally:
        with contextlib.suppress(OSError):
            os.unlink(target)


def _scan(table: Table, source: Path) -> pl.LazyFrame:
    names = [*table.columns, *_EXTRA]
    with source.open("rb") as file:
        eol = _eol_of(file.read(_SAMPLE_BYTES))
    return pl.scan_csv(
        source,
        separator=table.delimiter or ",",
        has_header=False,
        skip_rows=1,
        schema=dict.fromkeys(names, pl.String),
        missing_columns="insert",
        truncate_ragged_lines=True,
        quote_char='"',
        eol_char=eol.decode(),
    )


def _with_rows(query: pl.LazyFrame, columns: list[str], *, first: int = 1) -> pl.LazyFrame:
    """Number the records from `first` and turn empty cells (quoted "" included) into nulls."""
    return query.with_row_index(ROW, offset=first).select(
        pl.col(ROW).cast(pl.Int64),
        *(
            pl.when(pl.col(name).str.len_bytes() > 0).then(pl.col(name)).alias(name)
            for name in columns
        ),
    )


def _count_csv_rows(table: Table, source: Path) -> int:
    columns = table.columns
    longest = pl.max_horizontal(pl.col(name).str.len_bytes() for name in columns).fill_null(0)
    filled = pl.any_horizontal(pl.col(name).str.len_bytes() > 0 for name in columns)
    query = (
        _scan(table, source)
        .with_row_index(ROW, offset=1)
        .select(
            filled.fill_null(False).sum().alias("rows"),
            pl.col(ROW)
            .filter(pl.any_horizontal(pl.col(_EXTRA).is_not_null()))
            .first()
            .alias("ragged"),
            pl.col(ROW).filter(longest > MAX_LINE_BYTES).first().alias("huge"),
        )
    )
    try:
        stats = query.collect(engine="streaming").row(0, named=True)
    except pl.exceptions.PolarsError as error:
        raise _parse_error(source, table, error) from None
    if stats["ragged"] is not None:
        row = int(stats["ragged"])
        raise ImportFileError(
            _(
                "Row %(row)s has more cells than the header has columns (%(columns)s): check "
                "the separators (“%(delimiter)s”) and quotes on that row."
            )
            % {"row": row, "columns": len(columns), "delimiter": _shown_delimiter(table)},
            row=row,
        )
    if stats["huge"] is not None:
        row = int(stats["huge"])
        raise ImportFileError(
            _(
                'Row %(row)s holds a cell longer than %(limit)s MB: a quote (") is probably '
                "opened and never closed on that row."
            )
            % {"row": row, "limit": megabytes(MAX_LINE_BYTES)},
            row=row,
        )
    return int(stats["rows"])


def _shown_delimiter(table: Table) -> str:
    return {"\t": _("tab")}.get(table.delimiter or ",", table.delimiter or ",")


def _parse_error(source: Path, table: Table, error: Exception) -> ImportFileError:
    """Locate a record polars refused (bad quotes, as a rule) with the csv module."""
    delimiter = table.delimiter or ","
    _allow_long_fields()
    with source.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file, delimiter=delimiter, strict=True)
        record = -1  # the header is record 0
        start = 1
        try:
            for _cells in reader:
                record += 1
                start = reader.line_num + 1
        except csv.Error:
            row = record + 1
            return ImportFileError(
                _(
                    "Row %(row)s (line %(line)s of the file) has a badly quoted cell: a quote "
                    '(") opens a cell and is never closed, or a quote stands inside a cell '
                    "that does not start with one. Fix the quotes on that row."
                )
                % {"row": row, "line": start},
                row=row,
            )
    return ImportFileError(
        _("The file cannot be read as CSV: %(detail)s") % {"detail": first_line(error)}
    )


# polars' streaming engine decodes a file ahead of a slow consumer (its sources ignore the
# consumer's pace: pola-rs/polars#28569): a whole 1M-row file, ~200 MB of frames, waited in
# memory for the import to take it. The file is therefore read in windows of this many
# batches, each a query of its own: a window skips the records before it (~0.6 s per million
# on the bench machine), and at most one window waits in memory.
WINDOW_BATCHES = 4


def batches(table: Table, *, batch_size: int, start_row: int) -> Iterator[pl.DataFrame]:
    """The data rows of a CSV table, streamed by polars (see `read_batches`)."""
    window = batch_size * WINDOW_BATCHES
    with _utf8_source(table) as source:
        records = _scan(table, source).select(*table.columns)
        offset = start_row - 1  # records before the window (blank ones included)
        while True:
            query = _with_rows(records.slice(offset, window), table.columns, first=offset + 1)
            seen = 0
            try:
                for frame in query.collect_batches(chunk_size=batch_size):
                    seen += frame.height
                    filled = frame.filter(pl.any_horizontal(pl.col(table.columns).is_not_null()))
                    if filled.height:
                        yield filled
            except pl.exceptions.PolarsError as error:  # the file changed since open_table
                raise ImportFileError(
                    _("The file cannot be read as CSV: %(detail)s") % {"detail": first_line(error)}
                ) from None
            if seen < window:
                return
            offset += window
