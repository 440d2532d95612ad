"""Reading import files: every encoding and delimiter, Excel's typed cells, and each kind of
bad file refused with a message that names the row or column and says what to do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cible.demo.import_files import write_frames_csv
from cible.quality.imports.reading import (
    ImportFileError,
    Table,
    column_letter,
    delimited,
    open_table,
    read_batches,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _open(tmp_path: Path, name: str, data: bytes) -> Table:
    return open_table(_file(tmp_path, name, data), filename=name)


def _refused(tmp_path: Path, name: str, data: bytes) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        _open(tmp_path, name, data)
    return caught.value


def _rows(table: Table, **options: Any) -> list[dict[str, Any]]:
    return [row for frame in read_batches(table, **options) for row in frame.iter_rows(named=True)]


# --- encodings, delimiters, line ends --------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "text", "detected"),
    [
        ("utf-8", "Crème brûlée SARL;Besançon;Œuvre €", "utf-8"),
        ("utf-8-sig", "Crème brûlée SARL;Besançon;Œuvre €", "utf-8-sig"),
        ("cp1252", "Crème brûlée SARL;Besançon;Œuvre € – “dit”", "cp1252"),
        ("iso-8859-1", "Crème brûlée SARL;Besançon;Ça coûte 5 ¤", "iso-8859-1"),
    ],
)
def test_each_encoding_is_detected_and_decoded(
    tmp_path: Path, encoding: str, text: str, detected: str
) -> None:
    data = f"Raison sociale;Ville;Note\r\n{text}\r\nACME;Paris;x\r\n".encode(encoding)
    table = _open(tmp_path, "societes.csv", data)
    assert (table.encoding, table.delimiter, table.rows) == (detected, ";", 2)
    assert table.columns == ["Raison sociale", "Ville", "Note"]
    first = _rows(table)[0]
    assert [first["Raison sociale"], first["Ville"], first["Note"]] == text.split(";")


def test_a_windows_1252_file_leaves_no_temporary_copy_behind(tmp_path: Path) -> None:
    table = _open(tmp_path, "f.csv", "nom;ville\nŒuvre;Nîmes\n".encode("cp1252"))
    assert _rows(table)[0]["nom"] == "Œuvre"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.csv"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected_with_quotes_respected(tmp_path: Path, delimiter: str) -> None:
    others = "".join(d for d in ",;\t|" if d != delimiter)
    cell = f'"Dupont{others} père ""et"" fils\nsecond line"'
    lines = [
        delimiter.join(["Raison sociale", "Chiffre d'affaires", "Ville"]),
        delimiter.join([cell, '"1 234,56"', "Paris"]),
        delimiter.join(["ACME", '"12,5"', '"Lyon"']),
    ]
    table = _open(tmp_path, "f.csv", ("\n".join(lines) + "\n").encode())
    assert (table.delimiter, table.rows) == (delimiter, 2)
    rows = _rows(table)
    assert rows[0]["Raison sociale"] == f'Dupont{others} père "et" fils\nsecond line'
    assert rows[0]["Chiffre d'affaires"] == "1 234,56"
    assert [rows[1]["Raison sociale"], rows[1]["Ville"]] == ["ACME", "Lyon"]


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_unix_windows_and_old_mac_line_ends(tmp_path: Path, eol: str) -> None:
    table = _open(tmp_path, "f.csv", eol.join(["a;b", "1;2", "3;4", ""]).encode())
    assert [(r["a"], r["b"]) for r in _rows(table)] == [("1", "2"), ("3", "4")]


def test_a_file_with_a_single_column_is_read(tmp_path: Path) -> None:
    table = _open(tmp_path, "emails.txt", b"Email\na@b.fr\nc@d.fr")
    assert (table.columns, table.rows) == (["Email"], 2)
    assert [r["Email"] for r in _rows(table)] == ["a@b.fr", "c@d.fr"]


def test_header_names_are_stripped(tmp_path: Path) -> None:
    table = _open(tmp_path, "f.csv", b'" Raison sociale ";  SIREN\t\nA;1\n')
    assert table.columns == ["Raison sociale", "SIREN"]


# --- batches ----------------------------------------------------------------------------------


def test_rows_are_numbered_under_the_header_and_blank_rows_skipped(tmp_path: Path) -> None:
    data = b'nom;ville\nA;Paris\n;\n\n"";""\nB;"multi\nligne"\nC; Lyon \n'
    table = _open(tmp_path, "f.csv", data)
    assert table.rows == 3
    rows = _rows(table)
    assert [(r["_row"], r["nom"], r["ville"]) for r in rows] == [
        (1, "A", "Paris"),
        (5, "B", "multi\nligne"),
        (6, "C", " Lyon "),  # raw text: the normalisers trim
    ]


def test_batches_have_text_columns_and_resume_at_a_row(tmp_path: Path) -> None:
    lines = ["siren;nom", *(f"{i:09d};N{i}" for i in range(1, 2501))]
    table = _open(tmp_path, "f.csv", ("\n".join(lines) + "\n").encode())
    frames = list(read_batches(table, batch_size=1000))
    assert [f.height for f in frames] == [1000, 1000, 500]
    assert frames[0].schema == pl.Schema({"_row": pl.Int64, "siren": pl.String, "nom": pl.String})
    assert frames[0]["siren"][0] == "000000001"  # leading zeros kept: nothing is cast
    resumed = [row["_row"] for row in _rows(table, batch_size=700, start_row=2001)]
    assert resumed == list(range(2001, 2501))


def test_windows_of_the_file_read_as_one_pass(tmp_path: Path) -> None:
    """A CSV file is read a window of batches at a time (memory): the rows, their numbers,
    blank lines and multi-line cells across a window's edge come out as from one pass."""
    lines = ["siren;nom"]
    for i in range(1, 40):
        if i % 7 == 0:
            lines.append(";")  # a blank row: numbered, never yielded
        elif i % 5 == 0:
            lines.append(f'{i:09d};"N{i}\nsuite"')  # a line break inside a quoted cell
        else:
            lines.append(f"{i:09d};N{i}")
    table = _open(tmp_path, "f.csv", ("\n".join(lines) + "\n").encode())
    window = delimited.WINDOW_BATCHES * 2
    frames = list(read_batches(table, batch_size=2))
    rows = [row for frame in frames for row in frame.iter_rows(named=True)]
    expected = [i for i in range(1, 40) if i % 7]
    assert [row["_row"] for row in rows] == expected
    assert [row["nom"] for row in rows if row["_row"] == 10] == ["N10\nsuite"]
    assert all(row["siren"] == f"{row['_row']:09d}" for row in rows)
    assert len(frames) > 39 // window  # several windows were read
    resumed = [row["_row"] for row in _rows(table, batch_size=2, start_row=window + 3)]
    assert resumed == [i for i in expected if i >= window + 3]


def test_a_row_shorter_than_the_header_reads_as_empty_cells(tmp_path: Path) -> None:
    table = _open(tmp_path, "f.csv", b"a,b,c\n1,2\n4,5,6,\n")
    assert [(r["a"], r["b"], r["c"]) for r in _rows(table)] == [("1", "2", None), ("4", "5", "6")]


# --- bad files ---------------------------------------------------------------------------------


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    assert str(_refused(tmp_path, "f.csv", b"")) == "The file is empty."
    assert str(_refused(tmp_path, "f.csv", b" \r\n\n ")) == "The file is empty."
    assert str(_refused(tmp_path, "f.csv", b"\xef\xbb\xbf")) == "The file is empty."


def test_a_header_without_rows_is_refused(tmp_path: Path) -> None:
    message = "The file has a header line but no data rows."
    assert str(_refused(tmp_path, "f.csv", b"Raison sociale;SIREN\n")) == message
    assert str(_refused(tmp_path, "f.csv", b"Raison sociale;SIREN\n;\n;\n")) == message


def test_a_binary_file_named_csv_is_refused_naming_the_line(tmp_path: Path) -> None:
    error = _refused(tmp_path, "export.csv", b"nom;ville\nA;B\n\x89PNG\x00\x01\x02\n")
    assert str(error) == (
        "This is not a text file: line 3 holds binary data. Export your data as CSV (or upload "
        "the .xlsx workbook itself)."
    )
    assert error.row == 2


def test_an_excel_workbook_named_csv_is_refused(tmp_path: Path) -> None:
    workbook = _xlsx(tmp_path, [["nom"], ["A"]])
    error = _refused(tmp_path, "export.csv", workbook.read_bytes())
    assert "is an Excel workbook, not a CSV file" in str(error)


def test_a_50_megabyte_line_is_refused_naming_its_row(tmp_path: Path) -> None:
    data = b"nom;description\nA;courte\nB;" + b"x" * (50 * 1024 * 1024) + b"\nC;courte\n"
    error = _refused(tmp_path, "f.csv", data)
    assert str(error) == (
        "Line 3 of the file is longer than 1 MB: this is not a usable CSV file (a quote may be "
        "missing, or the file is not CSV at all)."
    )
    assert error.row == 2


def test_five_thousand_columns_are_refused(tmp_path: Path) -> None:
    header = ";".join(f"colonne {i}" for i in range(1, 5001))
    error = _refused(tmp_path, "f.csv", f"{header}\n{';' * 4999}x\n".encode())
    assert str(error) == (
        "The file has 5,000 columns; at most 500 are accepted. Remove the columns you do not "
        "want to import."
    )


def test_duplicate_headers_are_named(tmp_path: Path) -> None:
    error = _refused(tmp_path, "f.csv", b"Nom;Email;Ville;Email\nA;a@b.fr;Paris;c@d.fr\n")
    assert str(error) == (
        "The column “Email” appears 2 times in the header (columns 2, 4). Rename or remove the "
        "duplicates."
    )
    assert error.column == "Email"


def test_an_empty_header_name_is_named_by_its_position(tmp_path: Path) -> None:
    error = _refused(tmp_path, "f.csv", b"Nom;;Ville\nA;x;Paris\n")
    assert str(error) == (
        "Column 2 (B) has no name in the header line. Give every column a name, or delete the "
        "empty column."
    )
    assert error.column == "B"


def test_a_column_named_like_the_row_number_is_refused(tmp_path: Path) -> None:
    error = _refused(tmp_path, "f.csv", b"Nom;_row\nA;1\n")
    assert "“_row”, a name Cible keeps for itself" in str(error)


def test_mixed_encodings_name_the_first_bad_row(tmp_path: Path) -> None:
    data = (
        "Nom;Ville\nCrème;Besançon\nA;Paris\n".encode()
        + "Brûlé;Nîmes\n".encode("cp1252")
        + "Zoé;Orléans\n".encode()
    )
    error = _refused(tmp_path, "f.csv", data)
    assert str(error) == (
        "The file mixes two encodings: it is UTF-8, but row 3 (line 4 of the file) holds "
        "characters in another encoding (probably Windows-1252). Save the whole file as UTF-8 "
        "and upload it again."
    )
    assert error.row == 3


def test_row_numbers_count_quoted_line_breaks(tmp_path: Path) -> None:
    data = b'Nom;Note\n"A";"deux\nlignes"\nB;x\n' + "É;y\n".encode("cp1252")
    data = "é;".encode() + data[1:]  # a UTF-8 "é" in the header makes the file UTF-8
    error = _refused(tmp_path, "f.csv", data)
    assert "row 3 (line 5 of the file)" in str(error)


def test_a_row_with_more_cells_than_the_header_is_named(tmp_path: Path) -> None:
    error = _refused(tmp_path, "f.csv", b"Nom;Ville\nA;Paris\nB;Lyon;69000\nC;Nice\n")
    assert str(error) == (
        "Row 2 has more cells than the header has columns (2): check the separators (“;”) and "
        "quotes on that row."
    )
    assert error.row == 2


def test_a_badly_quoted_cell_is_named(tmp_path: Path) -> None:
    error = _refused(tmp_path, "f.csv", b'Nom;Ville\nA;Paris\nB;"Lyon\nC;Nice\n')
    assert str(error) == (
        'Row 2 (line 3 of the file) has a badly quoted cell: a quote (") opens a cell and is '
        "never closed, or a quote stands inside a cell that does not start with one. Fix the "
        "quotes on that row."
    )
    error = _refused(tmp_path, "f.csv", b'Nom;Ville\nA;Paris\nB;Lyon\nC;"Ni"ce\n')
    assert error.row == 3


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("clients.pdf", "“clients.pdf” is neither a CSV file nor an Excel workbook (.xlsx)."),
        ("clients", "“clients” is neither a CSV file nor an Excel workbook (.xlsx)."),
        ("clients.xls", "“clients.xls” is a spreadsheet format Cible does not read."),
        ("clients.ods", "“clients.ods” is a spreadsheet format Cible does not read."),
    ],
)
def test_an_unknown_extension_is_refused(tmp_path: Path, name: str, expected: str) -> None:
    assert str(_refused(tmp_path, name, b"nom\nA\n")).startswith(expected)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path, settings: Any) -> None:
    settings.IMPORT_MAX_FILE_BYTES = 3 * 1024 * 1024
    error = _refused(tmp_path, "f.csv", b"nom\n" + b"A\n" * (2 * 1024 * 1024))
    assert str(error) == (
        "The file is 4 MB; the largest file accepted is 3 MB. Split it into several files."
    )


# --- XLSX ----------------------------------------------------------------------------------------


def _xlsx(tmp_path: Path, rows: list[list[Any]], name: str = "f.xlsx", **options: Any) -> Path:
    path = tmp_path / name
    workbook = xlsxwriter.Workbook(str(path))
    if options.get("hidden_first"):
        hidden = workbook.add_worksheet("Paramètres")
        hidden.write_row(0, 0, ["clé", "valeur"])
        hidden.write_row(1, 0, ["a", "b"])
        hidden.hide()
    sheet = workbook.add_worksheet("Export")
    sheet.activate()
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    moment = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    clock = workbook.add_format({"num_format": "hh:mm"})
    scientific = workbook.add_format({"num_format": "0.00E+00"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, moment if value.hour else day)
            elif isinstance(value, dt.time):
                sheet.write_datetime(r, c, value, clock)
            elif isinstance(value, tuple):  # ("sci", number): shown as 3.56E+08 by Excel
                sheet.write_number(r, c, value[1], scientific)
            elif isinstance(value, str) and value.startswith("="):
                sheet.write_formula(r, c, value, None, "#DIV/0!")
            elif value is not None:
                sheet.write(r, c, value)
    workbook.close()
    return path


def test_excel_numbers_dates_and_booleans_read_as_faithful_text(tmp_path: Path) -> None:
    header = ["SIREN", "SIRET", "Effectif", "CA", "Créée le", "Vérifiée", "Heure", "Actif", "CP"]
    rows = [
        [356000000, 35600000000048, 250, 1234.5, dt.datetime(2024, 1, 5), None, None, True],
        [("sci", 356000000), None, -12.0, 0.1, None, dt.datetime(2024, 1, 5, 10, 30, 15)],
        [None, None, None, None, None, None, dt.time(10, 30), False, "06000"],
        [None, None, None, 0.1 + 0.2, None, None, None, None, None],
    ]
    table = open_table(_xlsx(tmp_path, [header, *rows]), filename="f.xlsx")
    assert (table.format, table.encoding, table.delimiter) == ("xlsx", None, None)
    assert (table.columns, table.rows) == (header, 4)
    got = _rows(table)
    assert got[0] | {"_row": 0} == {
        "_row": 0,
        "SIREN": "356000000",
        "SIRET": "35600000000048",
        "Effectif": "250",
        "CA": "1234.5",
        "Créée le": "2024-01-05",
        "Vérifiée": None,
        "Heure": None,
        "Actif": "true",
        "CP": None,
    }
    assert [got[1][c] for c in ("SIREN", "Effectif", "CA", "Vérifiée")] == [
        "356000000",  # the value, whatever Excel shows of it
        "-12",
        "0.1",
        "2024-01-05T10:30:15",
    ]
    assert [got[2][c] for c in ("Heure", "Actif", "CP")] == ["10:30:00", "false", "06000"]
    assert got[3]["CA"] == "0.3"  # not 0.30000000000000004


def test_an_excel_error_cell_reads_as_empty(tmp_path: Path) -> None:
    table = open_table(_xlsx(tmp_path, [["nom", "ratio"], ["A", "=1/0"]]), filename="f.xlsx")
    assert [(r["nom"], r["ratio"]) for r in _rows(table)] == [("A", None)]


def test_the_first_visible_sheet_is_read_with_blank_rows_skipped(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, [["Nom", "Ville"], ["A", "Paris"], [], ["B", "Lyon"]], hidden_first=True)
    table = open_table(path, filename="f.xlsx")
    assert (table.columns, table.rows) == (["Nom", "Ville"], 2)
    assert [(r["_row"], r["Nom"]) for r in _rows(table)] == [(1, "A"), (3, "B")]
    assert [r["_row"] for r in _rows(table, start_row=2)] == [3]


def test_excel_header_problems_are_named(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"The column “Nom” appears 2 times"):
        open_table(_xlsx(tmp_path, [["Nom", "Ville", "Nom"], ["a", "b", "c"]]), filename="f.xlsx")
    with pytest.raises(ImportFileError, match=r"Column 2 \(B\) has no name") as caught:
        open_table(_xlsx(tmp_path, [["Nom", None, "Ville"], ["a", "b", "c"]]), filename="f.xlsx")
    assert caught.value.column == "B"
    with pytest.raises(ImportFileError, match=r"The sheet has a header line but no data rows\."):
        open_table(_xlsx(tmp_path, [["Nom", "Ville"]]), filename="f.xlsx")
    with pytest.raises(ImportFileError, match=r"The workbook has no sheet with data\."):
        open_table(_xlsx(tmp_path, []), filename="f.xlsx")


def test_a_sheet_too_big_for_memory_is_refused_before_it_is_loaded(
    tmp_path: Path, settings: Any
) -> None:
    settings.IMPORT_MAX_XLSX_CELLS = 10
    path = _xlsx(tmp_path, [["Nom", "Ville"], *([["A", "Paris"]] * 5)])
    with pytest.raises(ImportFileError) as caught:
        open_table(path, filename="f.xlsx")
    assert str(caught.value) == (
        "The sheet “Export” has 6 rows and 2 columns: more cells than can be read from an Excel "
        "workbook (10). Save it as CSV, which has no such limit, and upload the CSV file."
    )
    settings.IMPORT_MAX_XLSX_CELLS = 12
    assert open_table(path, filename="f.xlsx").rows == 5


def test_a_password_protected_workbook_is_refused(tmp_path: Path) -> None:
    error = _refused(tmp_path, "clients.xlsx", (FIXTURES / "locked.xlsx").read_bytes())
    assert str(error) == (
        "The workbook is protected by a password. Open it in Excel, remove the password "
        "(File › Info › Protect Workbook) and upload it again."
    )


def test_a_damaged_workbook_is_refused(tmp_path: Path) -> None:
    whole = _xlsx(tmp_path, [["nom"], ["A"]]).read_bytes()
    error = _refused(tmp_path, "cut.xlsx", whole[: len(whole) // 2])
    assert str(error).startswith(
        "The workbook cannot be read: it is damaged or not really an .xlsx file ("
    )
    assert str(error).endswith("Open it in Excel, save it again and upload the new file.")
    error = _refused(tmp_path, "f.xlsx", b"nom;ville\nA;Paris\n")
    assert str(error) == (
        "This file is not an Excel workbook (.xlsx): export your data as XLSX or CSV."
    )


def test_column_letters() -> None:
    assert [column_letter(n) for n in (1, 2, 26, 27, 52, 703)] == ["A", "B", "Z", "AA", "AZ", "AAA"]


# --- round trip ------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\ufeff"),
    max_size=30,
)
# Windows-1252 text without its 0x80-0xBF characters: with them, a few sequences ("é€œ") are
# also valid UTF-8, and no reader can tell which the file meant.
_CP1252 = st.text(
    alphabet=st.sampled_from(
        list("abcXYZ 019;,|\t\n\"'@#=+-") + [chr(c) for c in range(0xC0, 0x100)]
    ),
    max_size=30,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_any_text_cell_survives_a_csv_round_trip(
    tmp_path: Path, data: Any, delimiter: str, encoding: str
) -> None:
    cells = _CP1252 if encoding == "cp1252" else _TEXT
    rows = data.draw(st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=8))
    wanted = [(i, *(cell or None for cell in row)) for i, row in enumerate(rows, 1) if any(row)]
    frame = pl.DataFrame(rows, schema=["Nom", "Ville", "Note"], orient="row")
    path = tmp_path / "round-trip.csv"
    write_frames_csv(path, iter([frame]), delimiter=delimiter, encoding=encoding)
    if not wanted:
        with pytest.raises(ImportFileError):
            open_table(path, filename=path.name)
        return
    table = open_table(path, filename=path.name)
    assert (table.delimiter, table.columns, table.rows) == (
        delimiter,
        ["Nom", "Ville", "Note"],
        len(wanted),
    )
    got = [(r["_row"], r["Nom"], r["Ville"], r["Note"]) for r in _rows(table)]
    assert got == wanted
