"""The error file: fixed in a spreadsheet and imported again as it is, its rows go in."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from cible.people.models import Organisation
from cible.quality.imports import services
from tests.quality.imports.engine_support import csv_bytes, imported, upload, var_dir  # noqa: F401

pytestmark = pytest.mark.django_db

MARTIN, ACME, DURAND = "356000000", "552100554", "732829320"
HEADER = ["Raison sociale", "SIREN", "Téléphone", "Ville", "Commentaire"]
MAPPING = {
    "Raison sociale": "legal_name",
    "SIREN": "siren",
    "Téléphone": "phone",
    "Ville": "city",
    "Commentaire": "description",
}


def read_error_file(content: bytes, delimiter: str) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel reads the accents
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_error_file_round_trip(cast: Any) -> None:
    rows = [
        HEADER,
        ["Boulangerie Martin", "356 000 001", "+33 1 42 68 53 00", "Paris", "client fidèle"],
        ["Acme", ACME, "04 72 00 00 00", "Lyon", ""],
        ["", DURAND, "", "Lille", '=HYPERLINK("http://x")'],
    ]
    run = imported(cast.ae, rows, key="siren", mapping=MAPPING, source="Salon 2026")
    assert run.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 2}

    filename, content = services.error_file(run, dry_run=False)
    assert filename == "file-errors.csv"
    table = read_error_file(content, ";")
    assert table[0] == [*HEADER, "error"]
    assert table[1][:5] == [
        "Boulangerie Martin",
        "356 000 001",
        "'+33 1 42 68 53 00",
        "Paris",
        "client fidèle",
    ]
    assert table[1][5].startswith("SIREN: ")
    assert table[2][:4] == ["", DURAND, "", "Lille"]
    assert table[2][4] == '\'=HYPERLINK("http://x")'  # never run by a spreadsheet
    assert "Raison sociale: is required" in table[2][5]
    assert "Commentaire: " in table[2][5]

    # A person fixes the cells in a spreadsheet and saves; the error column stays.
    table[1][1] = MARTIN
    table[2][0] = "Durand Frères"
    table[2][4] = "rappeler en mars"
    fixed = csv_bytes(table, delimiter=";")
    again = upload(cast.ae, b"\xef\xbb\xbf" + fixed, source="Salon 2026", filename=filename)
    assert "error" not in again.mapping  # the error column is never mapped
    assert again.mapping == MAPPING  # remembered for the source
    services.configure(
        again, actor=cast.ae, mapping=again.mapping, key="siren", policy="fill_empty"
    )
    again = services.start(again, actor=cast.ae)

    assert again.counts == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    martin = Organisation.objects.get(siren=MARTIN)
    assert (martin.phone, martin.description) == ("+33142685300", "client fidèle")
    assert Organisation.objects.get(siren=DURAND).legal_name == "Durand Frères"
    assert Organisation.objects.count() == 3


def test_error_file_keeps_a_tab_delimiter_and_the_dry_run_rows(cast: Any) -> None:
    content = csv_bytes([HEADER, ["Martin", "123", "", "", ""]], delimiter="\t")
    run = imported(cast.ae, content, key="siren", mapping=MAPPING, dry_run=True, filename="a.tsv")
    _name, errors = services.error_file(run, dry_run=True)
    table = read_error_file(errors, "\t")
    assert table[1][:2] == ["Martin", "123"]
    assert (
        services.error_file(run, dry_run=False)[1]
        == ("\ufeff" + "\t".join([*HEADER, "error"]) + "\r\n").encode()
    )


def test_error_file_of_a_workbook_is_csv_for_the_users_language(cast: Any, tmp_path: Path) -> None:
    path = tmp_path / "comptes.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    for r, row in enumerate([HEADER, ["Martin", "999", "", "", ""]]):
        sheet.write_row(r, 0, row)
    book.close()
    run = imported(
        cast.ae, path.read_bytes(), key="siren", mapping=MAPPING, filename="comptes.xlsx"
    )
    name, errors = services.error_file(run, dry_run=False)
    assert name == "comptes-errors.csv"
    table = read_error_file(errors, ",")  # English (tests); French users get ";"
    assert table[1][:2] == ["Martin", "999"]
