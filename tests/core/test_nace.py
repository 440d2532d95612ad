"""NACE Rev. 2 / NAF rév. 2 data and code parsing (pure Python, no database)."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cible.core import nace
from cible.core.nace import (
    DIVISIONS,
    SECTIONS,
    NaceCodeInvalid,
    NafCode,
    division_for,
    parse_naf,
    section_for,
    sector_label,
)

EXPECTED_DIVISIONS = (
    ["01", "02", "03"]
    + [f"{n:02d}" for n in range(5, 10)]
    + [str(n) for n in range(10, 34)]
    + ["35", "36", "37", "38", "39", "41", "42", "43", "45", "46", "47"]
    + ["49", "50", "51", "52", "53", "55", "56", "58", "59", "60", "61", "62", "63"]
    + ["64", "65", "66", "68", "69", "70", "71", "72", "73", "74", "75"]
    + ["77", "78", "79", "80", "81", "82", "84", "85", "86", "87", "88"]
    + ["90", "91", "92", "93", "94", "95", "96", "97", "98", "99"]
)

# Division ranges of each section, as published by Eurostat.
SECTION_RANGES = {
    "A": (1, 3),
    "B": (5, 9),
    "C": (10, 33),
    "D": (35, 35),
    "E": (36, 39),
    "F": (41, 43),
    "G": (45, 47),
    "H": (49, 53),
    "I": (55, 56),
    "J": (58, 63),
    "K": (64, 66),
    "L": (68, 68),
    "M": (69, 75),
    "N": (77, 82),
    "O": (84, 84),
    "P": (85, 85),
    "Q": (86, 88),
    "R": (90, 93),
    "S": (94, 96),
    "T": (97, 98),
    "U": (99, 99),
}

# --------------------------------------------------------------------------- data


def test_exactly_21_sections_a_to_u() -> None:
    assert len(SECTIONS) == 21
    assert list(SECTIONS) == [chr(c) for c in range(ord("A"), ord("U") + 1)]


def test_exactly_the_88_divisions() -> None:
    assert len(DIVISIONS) == 88
    assert list(DIVISIONS) == EXPECTED_DIVISIONS


@pytest.mark.parametrize("code", EXPECTED_DIVISIONS)
def test_division_lies_in_its_section_range(code: str) -> None:
    division = DIVISIONS[code]
    low, high = SECTION_RANGES[division.section]
    assert low <= int(code) <= high
    assert division.code == code


def test_every_section_has_divisions() -> None:
    assert {d.section for d in DIVISIONS.values()} == set(SECTIONS)
    assert [d.code for d in nace.divisions_in("j")] == ["58", "59", "60", "61", "62", "63"]
    assert nace.divisions_in("Z") == []


@pytest.mark.parametrize("entry", [*SECTIONS.values(), *DIVISIONS.values()], ids=repr)
def test_labels_are_clean(entry: nace.Section | nace.Division) -> None:
    for label in (entry.label_fr, entry.label_en):
        assert label
        assert label == label.strip()
        assert "  " not in label
        assert label[0].isupper()


@pytest.mark.parametrize(
    ("code", "label_fr", "label_en"),
    [
        (
            "62",
            "Programmation, conseil et autres activités informatiques",
            "Computer programming, consultancy and related activities",
        ),
        (
            "01",
            "Culture et production animale, chasse et services annexes",
            "Crop and animal production, hunting and related service activities",
        ),
        (
            "47",
            "Commerce de détail, à l'exception des automobiles et des motocycles",
            "Retail trade, except of motor vehicles and motorcycles",
        ),
        (
            "70",
            "Activités des sièges sociaux ; conseil de gestion",
            "Activities of head offices; management consultancy activities",
        ),
        (
            "99",
            "Activités des organisations et organismes extraterritoriaux",
            "Activities of extraterritorial organisations and bodies",
        ),
    ],
)
def test_known_division_labels(code: str, label_fr: str, label_en: str) -> None:
    assert DIVISIONS[code].label_fr == label_fr
    assert DIVISIONS[code].label_en == label_en


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "Information et communication"),
        ("fr-fr", "Information et communication"),
        ("FR_CA", "Information et communication"),
        ("en", "Information and communication"),
        ("de", "Information and communication"),
        ("", "Information and communication"),
        (None, "Information and communication"),
    ],
)
def test_section_label_by_language(language: str | None, expected: str) -> None:
    assert SECTIONS["J"].label(language) == expected


def test_division_label_by_language() -> None:
    assert DIVISIONS["41"].label("fr-be") == "Construction de bâtiments"
    assert DIVISIONS["41"].label("en-gb") == "Construction of buildings"


def test_entries_are_frozen() -> None:
    with pytest.raises(AttributeError):
        SECTIONS["A"].code = "Z"  # type: ignore[misc]


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("raw", "canonical", "level"),
    [
        ("62.01Z", "62.01Z", "subclass"),
        ("6201Z", "62.01Z", "subclass"),
        ("62.01z", "62.01Z", "subclass"),
        (" 62 01 Z ", "62.01Z", "subclass"),
        ("\t62.01\u00a0Z\n", "62.01Z", "subclass"),
        ("01.11Z", "01.11Z", "subclass"),
        ("47.11F", "47.11F", "subclass"),
        ("62.01", "62.01", "class"),
        ("6201", "62.01", "class"),
        ("62.0", "62.0", "group"),
        ("620", "62.0", "group"),
        ("62", "62", "division"),
        ("05", "05", "division"),
    ],
)
def test_parse_naf_accepts_usual_spellings(raw: str, canonical: str, level: str) -> None:
    parsed = parse_naf(raw)
    assert parsed == NafCode(code=canonical, division=canonical[:2], section=parsed.section)
    assert parsed.level == level
    assert str(parsed) == canonical


def test_parse_naf_finds_section() -> None:
    assert parse_naf("6201Z").section == "J"
    assert parse_naf("01.11Z").section == "A"
    assert parse_naf("99.00Z").section == "U"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("00.00Z", "division 00 does not exist"),
        ("04.10Z", "division 04 does not exist"),
        ("34", "division 34 does not exist"),
        ("40.11", "division 40 does not exist"),
        ("76", "division 76 does not exist"),
        ("83.00Z", "division 83 does not exist"),
        ("89", "division 89 does not exist"),
        ("6", "expected a division"),
        ("62.01ZZ", "expected a division"),
        ("62.012", "expected a division"),
        ("62.0Z", "expected a division"),
        ("62Z", "expected a division"),
        ("J", "expected a division"),
        ("62.01.Z", "expected a division"),
        ("abc", "expected a division"),
        ("\uff16\uff12", "expected a division"),  # fullwidth digits
        ("\u0666\u0662", "expected a division"),  # Arabic-Indic digits
        ("", "a code such as 62.01Z is expected"),
        ("   ", "a code such as 62.01Z is expected"),
    ],
)
def test_parse_naf_rejects(raw: str, fragment: str) -> None:
    with pytest.raises(NaceCodeInvalid) as caught:
        parse_naf(raw)
    assert fragment in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_invalid_message_names_the_value() -> None:
    with pytest.raises(NaceCodeInvalid, match=re.escape("“00.00Z” is not a NAF/NACE code")):
        parse_naf("00.00Z")


def test_invalid_message_truncates_long_values() -> None:
    with pytest.raises(NaceCodeInvalid) as caught:
        parse_naf("9" * 500)
    assert len(str(caught.value)) < 200


def test_parse_naf_rejects_non_text() -> None:
    with pytest.raises(NaceCodeInvalid):
        parse_naf(6201)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("code", "division", "section"),
    [("62.01Z", "62", "J"), ("6201", "62", "J"), ("10.71C", "10", "C"), ("84", "84", "O")],
)
def test_division_and_section_for(code: str, division: str, section: str) -> None:
    assert division_for(code) == division
    assert section_for(code) == section
    assert division_for(parse_naf(code)) == division
    assert section_for(parse_naf(code)) == section


def test_section_for_a_section_letter() -> None:
    assert section_for("j") == "J"


def test_helpers_reject_bad_codes() -> None:
    with pytest.raises(NaceCodeInvalid):
        division_for("00")
    with pytest.raises(NaceCodeInvalid):
        section_for("Z")
    with pytest.raises(NaceCodeInvalid):
        sector_label("nope", "fr")


def test_sector_label() -> None:
    assert sector_label("62.01Z", "fr") == (
        "62 \N{EN DASH} Programmation, conseil et autres activités informatiques"
    )
    assert sector_label("6201", "en") == (
        "62 \N{EN DASH} Computer programming, consultancy and related activities"
    )
    assert parse_naf("62.01Z").label("fr") == DIVISIONS["62"].label_fr


def test_choices() -> None:
    sections = nace.section_choices("en")
    divisions = nace.division_choices("fr")
    assert len(sections) == 21
    assert len(divisions) == 88
    assert sections[0] == ("A", "A \N{EN DASH} Agriculture, forestry and fishing")
    assert divisions[-1][0] == "99"


# --------------------------------------------------------------------------- properties

naf_codes = st.tuples(
    st.sampled_from(sorted(DIVISIONS)),
    st.integers(0, 9),
    st.integers(0, 9),
    st.sampled_from("ABCDEFGHJKZ"),
    st.sampled_from(["division", "group", "class", "subclass"]),
)


def _render(division: str, group: int, cls: int, letter: str, level: str) -> str:
    if level == "division":
        return division
    if level == "group":
        return f"{division}.{group}"
    if level == "class":
        return f"{division}.{group}{cls}"
    return f"{division}.{group}{cls}{letter}"


@settings(max_examples=200, deadline=None)
@given(naf_codes, st.sampled_from(["", " ", "  "]), st.booleans(), st.booleans())
def test_canonical_form_round_trips(
    parts: tuple[str, int, int, str, str], pad: str, drop_dot: bool, lower: bool
) -> None:
    canonical = _render(*parts)
    typed = canonical.replace(".", "") if drop_dot else canonical
    typed = pad + (typed.lower() if lower else typed) + pad
    parsed = parse_naf(typed)
    assert parsed.code == canonical
    assert parse_naf(parsed.code) == parsed
    assert re.fullmatch(r"\d{2}(\.\d(\d[A-Z]?)?)?", parsed.code)
    assert parsed.section == DIVISIONS[parsed.division].section


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=50))
def test_parse_naf_raises_only_nace_code_invalid(raw: str) -> None:
    try:
        parsed = parse_naf(raw)
    except NaceCodeInvalid:
        return
    assert parsed.division in DIVISIONS
    assert parse_naf(parsed.code) == parsed
