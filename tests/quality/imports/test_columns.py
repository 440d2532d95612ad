"""Columnar normalisation of import batches: the same values, errors and changes as the
row-by-row path (`clean_fields` + `derive`), proved on realistic and hostile text."""

from __future__ import annotations

import sys
import unicodedata
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from cible.core import normalisers as norm
from cible.core.errors import FieldError
from cible.people.models import HeadcountBand, Organisation, SizeClass
from cible.people.normalise import CONTACT_SPECS, ORGANISATION_SPECS
from cible.quality.imports.columns import NormalisedBatch, _text, clear_caches, normalise_batch
from cible.quality.imports.columns.kinds import luhn_valid
from cible.quality.imports.columns.phones import french_phones
from cible.quality.imports.registry import ImportableEntity
from tests.quality.imports.column_strategies import (
    CONTACT_FIELDS,
    CONTACTS,
    LINK_FIELDS,
    NAMES,
    ORGANISATION_FIELDS,
    ORGANISATIONS,
    PHONES,
    PROPERTY,
    assert_same_as_rows,
    cells,
    make_entity,
    make_frame,
    table,
)

# --------------------------------------------------------------------------- properties


@pytest.fixture(autouse=True)
def fresh_memos() -> Any:
    clear_caches()
    yield
    clear_caches()


@pytest.mark.parametrize("name", sorted(ORGANISATION_FIELDS))
@PROPERTY
@given(data=st.data())
def test_each_organisation_field_matches_the_row_by_row_path(name: str, data: Any) -> None:
    column = data.draw(cells(ORGANISATION_FIELDS[name]))
    assert_same_as_rows(ORGANISATIONS, {name: column})


@pytest.mark.parametrize("name", sorted(CONTACT_FIELDS))
@PROPERTY
@given(data=st.data())
def test_each_contact_field_matches_the_row_by_row_path(name: str, data: Any) -> None:
    column = data.draw(cells(CONTACT_FIELDS[name]))
    assert_same_as_rows(CONTACTS, {name: column})


@pytest.mark.parametrize("name", sorted(LINK_FIELDS))
@PROPERTY
@given(data=st.data())
def test_each_link_field_matches_the_row_by_row_path(name: str, data: Any) -> None:
    column = data.draw(cells(LINK_FIELDS[name]))
    assert_same_as_rows(CONTACTS, {name: column, "last_name": ["Dupont"] * len(column)})


@PROPERTY
@given(
    data=st.data(),
    names=st.lists(
        st.sampled_from(sorted(ORGANISATION_FIELDS)), min_size=1, max_size=12, unique=True
    ),
)
def test_whole_organisation_rows_match_the_row_by_row_path(data: Any, names: list[str]) -> None:
    columns = data.draw(table(ORGANISATION_FIELDS, names))
    assert_same_as_rows(ORGANISATIONS, columns)


@PROPERTY
@given(
    data=st.data(),
    names=st.lists(st.sampled_from(sorted(CONTACT_FIELDS)), min_size=1, max_size=10, unique=True),
)
def test_whole_contact_rows_match_the_row_by_row_path(data: Any, names: list[str]) -> None:
    columns = data.draw(table(CONTACT_FIELDS, names))
    assert_same_as_rows(CONTACTS, columns)


@pytest.mark.parametrize("entity_name", ["organisations", "contacts"])
@PROPERTY
@given(data=st.data())
def test_registered_entities_match_the_row_by_row_path(entity_name: str, data: Any) -> None:
    from cible.quality.imports import registry

    entity = registry.get(entity_name)
    assert entity is not None
    known = {**ORGANISATION_FIELDS, **LINK_FIELDS} if entity_name == "organisations" else {
        **CONTACT_FIELDS, **LINK_FIELDS}  # fmt: skip
    names = data.draw(
        st.lists(
            st.sampled_from([f.name for f in entity.fields]), min_size=1, max_size=12, unique=True
        )
    )
    assert_same_as_rows(entity, data.draw(table(known, names)))


@PROPERTY
@given(column=cells(NAMES))
def test_search_keys_match_the_scalar_function(column: list[str | None]) -> None:
    key, ok = _text.search_key(pl.Series(column, dtype=pl.String), limit=255)
    for value, found, sure in zip(column, key.to_list(), ok.to_list(), strict=True):
        if sure:
            assert found == norm.search_key(value)[:255]


@PROPERTY
@given(column=st.lists(PHONES, min_size=1, max_size=30))
def test_french_phone_fast_path_agrees_with_phonenumbers(column: list[str]) -> None:
    text, safe = _text.tidy(pl.Series(column, dtype=pl.String))
    values, ok = french_phones(text)
    for raw, value, sure, is_safe in zip(column, values, ok, safe, strict=True):
        if sure and is_safe:
            assert value == norm.phone(raw)


def test_french_phone_fast_path_takes_the_common_shapes() -> None:
    shapes = [
        "01 23 45 67 89",
        "01.23.45.67.89",
        "01-23-45-67-89",
        "0123456789",
        "+33 1 23 45 67 89",
        "+33123456789",
        "0033123456789",
        "00 33 1 23 45 67 89",
        "+33 (0)1 23 45 67 89",
        "06 12 34 56 78",
        "07 81 23 45 67",
        "09 87 65 43 21",
        "08 00 12 34 56",
    ]
    values, ok = french_phones(pl.Series(shapes))
    assert ok.all()
    assert values.to_list() == [norm.phone(shape) for shape in shapes]
    # Overseas (0590: Guadeloupe), foreign and invalid numbers are left to phonenumbers.
    _values, ok = french_phones(pl.Series(["0590 12 34 56", "+44 20 7946 0958", "01 23 45 67"]))
    assert not ok.any()


@pytest.mark.parametrize(
    ("spec", "shapes"),
    [
        (
            CONTACT_SPECS["email"],
            ["jean.dupont@example.fr", "Jean.Dupont@Example.FR", "a+b@x-y.io"],
        ),
        (ORGANISATION_SPECS["website"], ["www.acme.fr", "https://Acme.fr/", "http://a.b.fr/x/y"]),
        (ORGANISATION_SPECS["domain"], ["acme.fr", "www.acme.fr", "jean@acme.fr"]),
        (ORGANISATION_SPECS["siren"], ["732 829 320", "732829320", "732.829.320"]),
        (ORGANISATION_SPECS["siret"], ["732 829 320 00074", "73282932000074"]),
        (ORGANISATION_SPECS["legal_name"], ["ACME SAS", "Société Générale", "L'Oréal"]),
        (CONTACT_SPECS["last_name"], ["Dupont", "de La Fontaine", "Le Hénaff"]),
        (ORGANISATION_SPECS["city"], ["  Paris ", "Saint-Étienne", "Lyon 2e"]),
        (ORGANISATION_SPECS["headcount"], ["12", "0", "+7"]),
        (ORGANISATION_SPECS["annual_revenue"], ["1234", "1234,5", "1234.56"]),
        (
            ORGANISATION_SPECS["description"],
            ["Client depuis 2019\nTrès actif", " x ", "Ligne 1\r\nLigne 2"],
        ),
    ],
)
def test_fast_paths_take_the_common_shapes(spec: Any, shapes: list[str]) -> None:
    from cible.quality.imports.columns.kinds import fast_path_for

    fast = fast_path_for(spec)
    assert fast is not None
    raw = pl.Series(shapes, dtype=pl.String)
    text, safe = _text.tidy(raw)
    values, ok = fast.function(raw, text, safe)
    assert ok.all()
    expected = [spec(shape) for shape in shapes]
    assert [str(v) for v in values.to_list()] == [str(v) for v in expected]


@PROPERTY
@given(body=st.from_regex(r"[0-9]{14}", fullmatch=True))
def test_vectorised_luhn_check(body: str) -> None:
    from stdnum import luhn

    assert luhn_valid(pl.Series([body]), 14).to_list() == [luhn.is_valid(body)]
    assert luhn_valid(pl.Series([body[:9]]), 9).to_list() == [luhn.is_valid(body[:9])]


# --------------------------------------------------------------------------- character sets


def test_whitespace_is_exactly_what_python_splits_on() -> None:
    spaces = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}
    assert set(_text.WHITESPACE) == spaces


def test_safe_characters_are_left_alone_by_tidy_text_and_nfc() -> None:
    visible = _text.visible_chars()
    for char in visible:
        assert norm.tidy_text(f"a{char}") == f"a{char}"
        assert unicodedata.category(char) not in ("Mn", "Mc", "Me", "Cc", "Cf", "Cs")
    pairs = [a + b for a in visible for b in visible]
    assert all(unicodedata.normalize("NFC", pair) == pair for pair in pairs)


def test_search_key_table_is_stable() -> None:
    chars, folded = _text._fold_table()
    for char, key in zip(chars, folded, strict=True):
        assert norm.search_key(f"x{char}y") == " ".join(f"x{key}y".split())
        assert norm.search_key(key.strip()) == key.strip()
        assert key.lower() == key


# --------------------------------------------------------------------------- examples


def _one(entity: ImportableEntity, **columns: list[str | None]) -> NormalisedBatch:
    return assert_same_as_rows(entity, columns)


def test_an_organisation_row_normalised_with_its_derived_values() -> None:
    batch = _one(
        ORGANISATIONS,
        legal_name=["ACME Conseil SAS"],
        phone=["+33 (0)1 23 45 67 89"],
        website=["WWW.Acme-Conseil.fr/contact"],
        siret=["732 829 320 00074"],
        postal_code=["75 008"],
        country=["France"],
        naf_code=["6201z"],
        headcount=["12"],
        annual_revenue=["1 234 567,5 €"],
        owner_email=["Alice.Martin@Cible.example"],
        external_id=["  SF-0001 "],
    )
    assert batch.errors == {}
    assert batch.values == [
        {
            "legal_name": "ACME Conseil SAS",
            "phone": "+33123456789",
            "website": "https://www.acme-conseil.fr/contact",
            "siret": "73282932000074",
            "postal_code": "75008",
            "country": "FR",
            "naf_code": "62.01Z",
            "headcount": 12,
            "annual_revenue": Decimal("1234567.50"),
            "name_key": "acme conseil sas",
            "domain": "acme-conseil.fr",
            "headcount_band": HeadcountBand.B10_49,
            "size_class": SizeClass.PME,
            "naf_division": "62",
            "naf_section": "J",
            "region": "FR-IDF",
            "siren": "732829320",
            "owner_email": "alice.martin@cible.example",
            "external_id": "SF-0001",
        }
    ]
    assert batch.changes["phone"] == 1
    assert batch.change_samples["phone"] == ("+33 (0)1 23 45 67 89", "+33123456789")
    assert batch.change_samples["country"] == ("France", "FR")
    assert "legal_name" not in batch.changes


def test_phones_in_every_common_format_become_e164() -> None:
    formats = [
        "01 23 45 67 89",
        "01.23.45.67.89",
        "+33 1 23 45 67 89",
        "0033123456789",
        "+33 (0)1 23 45 67 89",
        "\u00a001\u00a023 45 67 89 ",
    ]
    batch = _one(ORGANISATIONS, legal_name=["ACME"] * 6, phone=formats)
    assert [row["phone"] for row in batch.values] == ["+33123456789"] * 6
    assert batch.changes["phone"] == 6


def test_bad_values_are_rejected_with_the_normalisers_messages_by_row() -> None:
    batch = _one(
        ORGANISATIONS,
        legal_name=["ACME", "Bolt", "Cirrus", None],
        phone=["01 23 45 67 89", "12", None, "01 23 45 67 89"],
        siren=[None, None, "732 829 321", None],
    )
    assert batch.errors == {
        2: [FieldError("phone", norm_message(norm.phone, "12"))],
        3: [FieldError("siren", norm_message(norm.siren, "732 829 321"))],
        4: [FieldError("legal_name", "is required")],
    }
    # A rejected row keeps its other values; the failed field is absent.
    assert "phone" not in batch.values[1]
    assert batch.values[1]["legal_name"] == "Bolt"


def norm_message(normaliser: Any, raw: str) -> str:
    with pytest.raises(norm.NormalisationError) as caught:
        normaliser(raw)
    return caught.value.message


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://evil.example","clic")', "=1+2", "@SUM(A1)", "+A1*2", "-cmd|' /C calc'!A0"],
)
def test_formulas_are_rejected_in_any_field(cell: str) -> None:
    batch = _one(ORGANISATIONS, legal_name=[cell], city=[cell], phone=[cell])
    messages = {error.field: error.message for error in batch.errors[1]}
    assert set(messages) == {"legal_name", "city", "phone"}
    assert all("is a spreadsheet formula" in message for message in messages.values())
    assert "replace it by its result" in messages["city"]


@pytest.mark.parametrize("cell", ["-", "-12", "+33 1 23 45 67 89", "- nouveau client", "@home"])
def test_values_that_only_look_like_formulas_are_kept(cell: str) -> None:
    batch = _one(ORGANISATIONS, legal_name=["ACME"], street=[cell])
    assert batch.errors == {}
    assert batch.values[0]["street"] == cell


@pytest.mark.parametrize("cell", ["3.56E+08", "3,56E+08", "7.32829E+13", "3,56E8"])
def test_identifiers_in_scientific_notation_tell_how_to_fix_the_spreadsheet(cell: str) -> None:
    batch = _one(ORGANISATIONS, legal_name=["ACME"], siren=[cell], siret=[cell])
    for error in batch.errors[1]:
        assert error.field in ("siren", "siret")
        assert f"“{cell}” is a number in scientific notation" in error.message
        assert "Format the column as text in the spreadsheet" in error.message


def test_messages_follow_the_active_language() -> None:
    with translation.override("fr"):
        batch = _one(ORGANISATIONS, legal_name=["=1+2", None], phone=["0123", "0123"])
    assert batch.errors[2][0].field == "phone"
    assert "n'est pas un numéro de téléphone valide" in batch.errors[2][0].message


def test_contacts_link_fields_are_passed_through_normalised() -> None:
    batch = _one(
        CONTACTS,
        last_name=["DUPONT", "Martin"],
        first_name=["jean-pierre", "Anne"],
        email=["Jean.Pierre@Example.FR", None],
        organisation_siren=["732 829 320", "3.56E+08"],
        organisation_domain=["https://www.acme.fr/equipe", "acme.fr"],
        organisation_name=["Société Générale S.A.", "   "],
        organisation_external_id=[" 0015 ", None],
    )
    first, second = batch.values
    assert first["last_name"] == "Dupont"
    assert first["first_name"] == "Jean-Pierre"
    assert first["name_key"] == "dupont jean pierre"
    assert first["email_key"] == "jean.pierre@example.fr"
    assert first["organisation_siren"] == "732829320"
    assert first["organisation_domain"] == "acme.fr"
    assert first["organisation_name"] == "societe generale s a"
    assert first["organisation_external_id"] == "0015"
    assert second["organisation_name"] is None
    assert second["organisation_external_id"] is None
    assert [error.field for error in batch.errors[2]] == ["organisation_siren"]


def test_blank_cells_store_the_blank_of_each_field() -> None:
    batch = _one(CONTACTS, last_name=["Dupont"], phone=[None], email_opt_out=[" "], has_left=[None])
    values = batch.values[0]
    assert values["phone"] == ""
    assert values["email_opt_out"] is False
    assert values["has_left"] is False


def test_unknown_fields_reject_every_row() -> None:
    batch = _one(ORGANISATIONS, legal_name=["ACME", "Bolt"], favourite_colour=["red", None])
    assert batch.errors == {
        1: [FieldError("favourite_colour", "is not a field that can be set")],
        2: [FieldError("favourite_colour", "is not a field that can be set")],
    }


def test_another_entity_derive_is_called_row_by_row() -> None:
    def derive(values: dict[str, Any]) -> list[FieldError]:
        values["shout"] = (values.get("city") or "").upper()
        return [] if values.get("city") else [FieldError("city", "is required")]

    entity = make_entity(
        "places", Organisation, {"city": ORGANISATION_SPECS["city"]}, {"city": ""}, derive, ()
    )
    batch = _one(entity, city=[" Lyon ", None])
    assert batch.values == [{"city": "Lyon", "shout": "LYON"}, {"city": "", "shout": ""}]
    assert batch.errors == {2: [FieldError("city", "is required")]}


def test_rows_are_reported_by_their_file_row_number() -> None:
    frame = pl.DataFrame({"Nom": ["ACME", None], "_row": pl.Series([41, 42], dtype=pl.Int64)})
    batch = normalise_batch(ORGANISATIONS, frame, {"Nom": "legal_name"})
    assert batch.rows == [41, 42]
    assert list(batch.errors) == [42]


def test_a_mapping_naming_a_field_twice_is_refused() -> None:
    frame = make_frame({"A": ["x"], "B": ["y"]})
    with pytest.raises(ValueError, match="several columns are mapped to city"):
        normalise_batch(ORGANISATIONS, frame, {"A": "city", "B": "city"})


def test_many_rows_with_few_distinct_values() -> None:
    size = 3_000
    batch = _one(
        ORGANISATIONS,
        legal_name=[f"Société {i}" for i in range(size)],
        city=["Paris", " Lyon", "MARSEILLE", None] * (size // 4),
        country=["France", "fr", "Belgique", None] * (size // 4),
        status=["prospect", "Client", "customer", None] * (size // 4),
        phone=[f"01 23 45 {i % 100:02d} {i % 97:02d}" for i in range(size)],
    )
    assert len(batch.errors) == size // 4  # "Client" is not a status
    assert batch.changes["country"] == size // 4 * 2  # "France" and "Belgique", rows accepted
    assert "city" not in batch.changes  # trimming spaces is not reported as a change


def test_a_website_longer_than_its_column_is_rejected_not_crashed() -> None:
    # A valid address of 1,995 characters cannot be stored (255 at most): the row is refused
    # on the website column, as the form and the API refuse it.
    website = "acme.fr/" + "x" * 1_987
    batch = _one(ORGANISATIONS, legal_name=["ACME"], website=[website])
    assert [error.field for error in batch.errors[1]] == ["website"]
    assert "at most 255" in batch.errors[1][0].message
