"""The demo's messy import files: read back whole, deterministic, realistic enough that every
good row passes the foundation's normalisers and every planted bad row does not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cible.core import normalisers as norm
from cible.core import values
from cible.core.errors import FieldError
from cible.demo import import_files
from cible.demo.import_files import (
    BAD_KINDS,
    CONTACT_HEADERS,
    FORMULA,
    ORGANISATION_HEADERS,
    WrittenFile,
    luhn_check_digits,
    write_contacts_csv,
    write_contacts_xlsx,
    write_organisations_csv,
    write_organisations_xlsx,
)
from cible.demo.people import luhn_digit, siren_for
from cible.people.normalise import (
    CONTACT_SPECS,
    ORGANISATION_SPECS,
    clean_contact,
    clean_organisation,
    derive_contact,
    derive_organisation,
)
from cible.quality.imports import registry
from cible.quality.imports.mapping import suggest
from cible.quality.imports.reading import Table, open_table, read_batches


def _read(written: WrittenFile) -> tuple[Table, list[dict[str, Any]]]:
    table = open_table(written.path, filename=written.path.name)
    rows = [r for frame in read_batches(table) for r in frame.iter_rows(named=True)]
    return table, rows


def _by_field(written: WrittenFile, row: dict[str, Any]) -> dict[str, Any]:
    return {written.fields[c]: v for c, v in row.items() if c != "_row"}


@pytest.mark.parametrize(
    ("dialect", "encoding", "delimiter", "detected"),
    [
        ("fr", None, None, ("utf-8-sig", ";")),
        ("fr", "cp1252", None, ("cp1252", ";")),  # "€" in the revenue column
        ("en", None, None, ("utf-8", ",")),
        ("en", "iso-8859-1", "\t", ("iso-8859-1", "\t")),
        ("fr", "utf-8", "|", ("utf-8", "|")),
    ],
)
def test_organisation_files_read_back_whole(
    tmp_path: Path, dialect: str, encoding: str | None, delimiter: str | None, detected: Any
) -> None:
    written = write_organisations_csv(
        tmp_path / "organisations.csv",
        700,
        seed=3,
        dialect=dialect,
        encoding=encoding,
        delimiter=delimiter,
        bad_rows=8,
    )
    table, rows = _read(written)
    assert (table.encoding, table.delimiter) == detected
    assert table.rows == written.rows == len(rows) == 700
    assert table.columns == written.columns == list(ORGANISATION_HEADERS[dialect].values())
    assert len(written.columns) == 15
    assert [r["_row"] for r in rows] == list(range(1, 701))


@pytest.mark.parametrize("dialect", ["fr", "en"])
def test_contact_files_read_back_whole(tmp_path: Path, dialect: str) -> None:
    written = write_contacts_csv(
        tmp_path / "contacts.csv", 900, seed=3, dialect=dialect, encoding="cp1252", bad_rows=4
    )
    table, rows = _read(written)
    assert table.rows == len(rows) == 900
    assert table.columns == list(CONTACT_HEADERS[dialect].values())


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    one = write_organisations_csv(tmp_path / "a.csv", 300, seed=9, bad_rows=4)
    two = write_organisations_csv(tmp_path / "b.csv", 300, seed=9, bad_rows=4)
    other = write_organisations_csv(tmp_path / "c.csv", 300, seed=10, bad_rows=4)
    assert one.path.read_bytes() == two.path.read_bytes() != other.path.read_bytes()


def test_a_small_file_is_the_start_of_a_bigger_one(tmp_path: Path) -> None:
    small = write_organisations_csv(tmp_path / "s.csv", 40, seed=9, messy=False)
    big = write_organisations_csv(tmp_path / "b.csv", 60_123, seed=9, messy=False)
    small_lines = small.path.read_bytes().splitlines()
    assert big.path.read_bytes().splitlines()[: len(small_lines)] == small_lines


def test_identifiers_stay_unique_across_chunks(tmp_path: Path) -> None:
    rows = import_files.CHUNK_ROWS + 1_500
    written = write_organisations_csv(tmp_path / "o.csv", rows, seed=4, messy=False)
    _table, data = _read(written)
    by_field = [_by_field(written, row) for row in data]
    for field in ("external_id", "website"):
        assert len({row[field] for row in by_field}) == rows, field
    sirens = [row["siren"] for row in by_field if row["siren"]]
    assert len(set(sirens)) == len(sirens) > rows * 0.7


def test_sirens_follow_the_demo_generator() -> None:
    indexes = [0, 1, 2, 999_999]
    numbers = [int(siren_for(i, 1234)[:8]) for i in indexes]
    assert [str(d) for d in luhn_check_digits(__import__("numpy").array(numbers), 8)] == [
        luhn_digit(str(n)) for n in numbers
    ]


def _clean_errors(
    row: dict[str, Any],
    specs: dict[str, Any],
    clean: Callable[[dict[str, Any]], Any],
    derive: Callable[[dict[str, Any]], list[FieldError]],
) -> list[FieldError]:
    data = {field: value for field, value in row.items() if field in specs}
    if data.get("last_verified_at"):
        # day-first dates: `values.moment` reads ISO only (see the module docstring)
        data["last_verified_at"] = values.date(data["last_verified_at"], field="x").isoformat()
    cleaned = clean(data)
    if cleaned.errors:
        return list(cleaned.errors)
    return derive(dict(cleaned.values))


def _link_errors(row: dict[str, Any]) -> list[str]:
    problems = []
    checks = {
        "owner_email": norm.email,
        "organisation_siren": norm.siren,
        "organisation_domain": norm.domain,
    }
    for field, check in checks.items():
        if row.get(field):
            try:
                check(row[field])
            except norm.NormalisationError as error:
                problems.append(f"{field}: {error}")
    return problems


@pytest.mark.parametrize("dialect", ["fr", "en"])
def test_good_organisation_rows_pass_the_normalisers_and_bad_ones_do_not(
    tmp_path: Path, dialect: str
) -> None:
    written = write_organisations_csv(
        tmp_path / "o.csv", 1_500, seed=21, dialect=dialect, bad_rows=20
    )
    assert sorted(written.bad_rows.values()) == sorted(BAD_KINDS * 5)
    _table, rows = _read(written)
    for row in rows:
        values_ = _by_field(written, row)
        errors = _clean_errors(values_, ORGANISATION_SPECS, clean_organisation, derive_organisation)
        kind = written.bad_rows.get(row["_row"])
        if kind is None:
            assert errors == [], (row, errors)
            assert _link_errors(values_) == [], row
        elif kind in ("siren_invalid", "siren_scientific"):
            assert [e.field for e in errors] == ["siren"], row
        elif kind == "email_invalid":
            assert values_["owner_email"] == "jean.dupont@"
            (problem,) = _link_errors(values_)
            assert problem.startswith("owner_email: “jean.dupont@” is not a valid email address")
        else:
            assert values_["legal_name"] == FORMULA


@pytest.mark.parametrize("dialect", ["fr", "en"])
def test_good_contact_rows_pass_the_normalisers_and_bad_ones_do_not(
    tmp_path: Path, dialect: str
) -> None:
    written = write_contacts_csv(tmp_path / "c.csv", 1_500, seed=21, dialect=dialect, bad_rows=8)
    _table, rows = _read(written)
    for row in rows:
        values_ = _by_field(written, row)
        errors = _clean_errors(values_, CONTACT_SPECS, clean_contact, derive_contact)
        kind = written.bad_rows.get(row["_row"])
        if kind is None:
            assert errors == [], (row, errors)
            assert _link_errors(values_) == [], row
        elif kind == "email_invalid":
            assert [e.field for e in errors] == ["email"]
        elif kind == "formula":
            assert values_["last_name"] == FORMULA
        else:
            assert values_["organisation_siren"] in ("356000001", "3.56E+08")
            assert _link_errors(values_)[0].startswith("organisation_siren: ")


def test_the_files_are_messy_the_way_real_exports_are(tmp_path: Path) -> None:
    written = write_organisations_csv(tmp_path / "o.csv", 3_000, seed=5, encoding="cp1252")
    _table, rows = _read(written)
    column = {
        field: [_by_field(written, r)[field] for r in rows] for field in written.fields.values()
    }
    phones = [p for p in column["phone"] if p]
    assert any(p.startswith("0") and p[2] == " " for p in phones)  # 01 40 12 34 56
    assert any(p[2:3] == "." for p in phones)  # 01.40.12.34.56
    assert any(p.startswith("+33 (0)") for p in phones)
    assert any(p.startswith("0033 ") for p in phones)
    assert any(p.startswith("+49 ") for p in phones)
    sites = [s for s in column["website"] if s]
    assert {s.split(":")[0] for s in sites if "://" in s} >= {"http", "https", "HTTPS"}
    assert any(s.startswith("www.") for s in sites)
    countries = set(column["country"])
    assert {"France", "FR", None, "Allemagne", "Germany", "DE"} <= countries
    revenues = [r for r in column["annual_revenue"] if r]
    assert any(r.endswith(" €") for r in revenues) and any(r.endswith(",00") for r in revenues)
    assert any("/" in d for d in column["last_verified_at"] if d)  # 25/12/2024
    assert any(n and "." not in n for n in column["naf_code"])  # 6201Z
    postal = {p for p in column["postal_code"] if p}
    assert "75008" in postal and any(p.startswith("0") for p in postal)


def test_contacts_work_at_the_organisations_of_the_same_seed(tmp_path: Path) -> None:
    companies = write_organisations_csv(tmp_path / "o.csv", 200, seed=8, messy=False)
    people = write_contacts_csv(tmp_path / "c.csv", 600, seed=8, organisations=200, messy=False)
    _t, org_rows = _read(companies)
    _t, contact_rows = _read(people)
    organisations = [_by_field(companies, r) for r in org_rows]
    by_id = {o["external_id"]: o for o in organisations}
    names = {o["legal_name"] for o in organisations}
    linked = 0
    for row in (_by_field(people, r) for r in contact_rows):
        assert row["organisation_name"] in names
        if row["organisation_external_id"]:
            company = by_id[row["organisation_external_id"]]
            assert company["legal_name"] == row["organisation_name"]
            assert row["email"].endswith("@" + company["website"].removeprefix("https://www."))
            linked += 1
    assert linked > 300
    emails = [_by_field(people, r)["email"] for r in contact_rows]
    assert len(set(emails)) == len(emails)


@pytest.mark.parametrize(
    ("entity", "headers"), [("organisations", ORGANISATION_HEADERS), ("contacts", CONTACT_HEADERS)]
)
@pytest.mark.parametrize("dialect", ["fr", "en"])
def test_the_suggested_mapping_of_the_files_is_right(
    entity: str, headers: dict[str, dict[str, str]], dialect: str
) -> None:
    importable = registry.get(entity)
    assert importable is not None
    columns = list(headers[dialect].values())
    assert suggest(importable, columns) == {h: f for f, h in headers[dialect].items()}


def test_xlsx_files_hold_numbers_and_dates_that_read_back_as_text(tmp_path: Path) -> None:
    csv = write_organisations_csv(tmp_path / "o.csv", 400, seed=6, bad_rows=4)
    xlsx = write_organisations_xlsx(tmp_path / "o.xlsx", 400, seed=6, bad_rows=4)
    table, rows = _read(xlsx)
    _t, csv_rows = _read(csv)
    assert (table.format, table.rows, table.columns) == ("xlsx", 400, csv.columns)
    assert xlsx.bad_rows == csv.bad_rows
    for from_xlsx, from_csv in zip(rows, csv_rows, strict=True):
        for column in ("SIREN", "N° SIRET", "Effectif", "Raison sociale", "Code postal"):
            assert from_xlsx[column] == from_csv[column], column
        day = from_csv["Dernière vérification"]
        if day:  # a date cell, read back as ISO text
            assert values.date(from_xlsx["Dernière vérification"], field="x") == values.date(
                day, field="x"
            )
            assert from_xlsx["Dernière vérification"].count("-") == 2


def test_contact_xlsx_reads_back_whole(tmp_path: Path) -> None:
    written = write_contacts_xlsx(tmp_path / "c.xlsx", 250, seed=6, dialect="en", typed=False)
    table, rows = _read(written)
    assert (table.rows, len(rows), table.columns) == (250, 250, written.columns)
