"""The columnar fast paths against the scalar normalisers on every character they trust, and the
shortcuts taken for speed (Luhn by matrix, URL parts without capture groups, tidy cells taken as
they are, number changes and postal codes by column) against what they replace."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from cible.core import normalisers as norm
from cible.people.normalise import CONTACT_SPECS, ORGANISATION_SPECS
from cible.quality.imports.columns import _text, clear_caches
from cible.quality.imports.columns.kinds import _URL, _url_split, fast_path_for, luhn_valid
from tests.quality.imports.column_strategies import (
    NAMES,
    ORGANISATIONS,
    PHONES,
    PROPERTY,
    WEBSITES,
    assert_same_as_rows,
    cells,
)


@pytest.fixture(autouse=True)
def fresh_memos() -> Any:
    clear_caches()
    yield
    clear_caches()


def _fast(spec: Any, column: list[str]) -> tuple[list[Any], list[bool]]:
    fast = fast_path_for(spec)
    assert fast is not None
    raw = pl.Series(column, dtype=pl.String)
    text, safe = _text.tidy(raw)
    values, ok = fast.function(raw, text, safe)
    return values.to_list(), ok.to_list()


def _shapes(char: str) -> list[str]:
    return [char, f"{char}a", f"{char}A", f"a{char}", f"A{char}", f"{char}{char} 12-{char}"]


@pytest.mark.parametrize(
    ("spec", "scalar"),
    [
        (ORGANISATION_SPECS["legal_name"], norm.organisation_name),
        (CONTACT_SPECS["last_name"], norm.person_name),
    ],
)
def test_name_fast_paths_agree_with_the_normalisers_on_every_safe_character(
    spec: Any, scalar: Any
) -> None:
    column = [shape for char in _text.visible_chars() for shape in _shapes(char)]
    values, ok = _fast(spec, column)
    for raw, value, sure in zip(column, values, ok, strict=True):
        if sure:
            assert value == scalar(raw), raw


def test_organisation_names_with_accented_capitals_or_small_letters_take_the_fast_path() -> None:
    column = ["Écolia 10", "ÉLECTRICITÉ DE FRANCE", "néolia 7 sa", "éco-systèmes 3", "ça"]
    values, ok = _fast(ORGANISATION_SPECS["legal_name"], column)
    assert all(ok)
    assert values == [
        "Écolia 10",
        "ÉLECTRICITÉ DE FRANCE",
        "Néolia 7 Sa",
        "Éco-Systèmes 3",
        "Ça",
    ]
    # Capitals of two letters, and small letters beside digits, are left to the normaliser.
    _values, ok = _fast(ORGANISATION_SPECS["legal_name"], ["ßtrasse", "néo2 sas"])
    assert not any(ok)


def test_luhn_check_on_a_column_of_mixed_cells() -> None:
    column = ["732829320", "732829321", None, "73282932", "7328293200", "abcdefghi", "356000000"]
    found = luhn_valid(pl.Series(column, dtype=pl.String), 9).to_list()
    expected = [
        luhn.is_valid(cell) if cell is not None and len(cell) == 9 and cell.isdigit() else None
        for cell in column
    ]
    assert found == expected == [True, False, None, None, None, None, True]


@PROPERTY
@given(column=cells(WEBSITES))
def test_url_parts_are_the_groups_of_the_url_pattern(column: list[str | None]) -> None:
    text, _safe = _text.tidy(pl.Series(column, dtype=pl.String))
    parts = _url_split(text)
    groups = text.str.extract_groups(_URL).struct.unnest()
    for name in ("scheme", "host", "path"):
        assert parts[name].to_list() == groups[name].to_list()


def test_numbers_read_as_typed_are_not_changes_and_rewritten_ones_are() -> None:
    batch = assert_same_as_rows(
        ORGANISATIONS,
        {
            "legal_name": ["ACME"] * 5,
            "headcount": ["12", " 12 ", "+12", "1 200", "012"],
            "annual_revenue": ["1234.50", "1234,5", "1 234 €", "1234.5", "0.5"],
        },
    )
    assert batch.changes["headcount"] == 1  # "1 200"
    assert batch.change_samples["headcount"] == ("1 200", "1200")
    assert batch.changes["annual_revenue"] == 2  # "1234,5", "1 234 €"
    assert batch.change_samples["annual_revenue"] == ("1234,5", "1234.50")


def test_postal_codes_of_every_shape_and_country_match_the_row_by_row_path() -> None:
    codes = ["75008", "75 008", "75.008", "7500", "20200", "97400", "98000", "SW1A 1AA", "1000"]
    countries = ["France", "FR", "fr", "Monaco", "MC", "Belgique", None, "Royaume-Uni"]
    pairs = [(code, country) for code in codes for country in countries]
    batch = assert_same_as_rows(
        ORGANISATIONS,
        {
            "legal_name": ["ACME"] * len(pairs),
            "postal_code": [code for code, _country in pairs],
            "country": [country for _code, country in pairs],
        },
    )
    assert batch.values[0]["postal_code"] == "75008"
    assert batch.values[0]["region"] == "FR-IDF"
    assert any(error.field == "postal_code" for found in batch.errors.values() for error in found)


@PROPERTY
@given(column=st.one_of(cells(NAMES), cells(WEBSITES), cells(PHONES)))
def test_tidy_cells_are_taken_as_they_are_and_the_others_tidied(column: list[str | None]) -> None:
    raw = pl.Series(column, dtype=pl.String)
    collapsed, text, safe = _text.tidied(raw)
    expected_text, expected_safe = _text.tidy(raw)
    assert collapsed.to_list() == _text.collapse(raw).to_list()
    assert text.to_list() == expected_text.to_list()
    assert safe.to_list() == expected_safe.to_list()
