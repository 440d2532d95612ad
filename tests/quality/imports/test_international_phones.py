"""The fast path for phone numbers written with "+" or "00": where it decides, it gives exactly
what `norm.phone` (that is, `phonenumbers`) gives; where `phonenumbers` would strip a national
prefix, or needs leading digits to choose a region, it leaves the number to `norm.phone`."""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from cible.core import normalisers as norm
from cible.quality.imports.columns import _text
from cible.quality.imports.columns.phones import calling_code, international_phones
from tests.quality.imports.column_strategies import PHONES, PROPERTY

# Calling codes of one region, of several (the first chosen without leading digits: +1, +44),
# and of several where leading digits choose (+7), with and without a national prefix.
CODES = [
    "44",
    "49",
    "32",
    "34",
    "39",
    "31",
    "41",
    "1",
    "7",
    "352",
    "353",
    "375",
    "590",
    "262",
    "33",
]


@st.composite
def foreign_phone(draw: Any) -> str:
    code = draw(st.sampled_from(CODES))
    rest = draw(st.from_regex(r"[0-9]{4,13}", fullmatch=True))
    lead = draw(st.sampled_from(["", "0", "8", "20", "30", "6", "7", "9", "3", "06"]))
    rest = (lead + rest)[: len(rest)]
    separator = draw(st.sampled_from(["", " ", ".", "-", "  "]))
    grouped = separator.join(rest[i : i + 2] for i in range(0, len(rest), 2))
    plus = draw(st.sampled_from(["+", "00", "+ ", "00 ", "+0", "(+"]))
    return plus + code + draw(st.sampled_from(["", " ", "-"])) + grouped


def _scalar(raw: str) -> str | None:
    try:
        return norm.phone(raw)
    except norm.NormalisationError:
        return None


def _fast(column: list[str]) -> list[str | None]:
    """What the fast path decides per cell: the value, or None where it leaves it to
    `norm.phone`."""
    text, safe = _text.tidy(pl.Series(column, dtype=pl.String))
    values, ok = international_phones(text)
    return [
        value if sure and is_safe else None
        for value, sure, is_safe in zip(values, ok, safe, strict=True)
    ]


@PROPERTY
@given(column=st.lists(st.one_of(foreign_phone(), PHONES), min_size=1, max_size=40))
def test_international_fast_path_agrees_with_phonenumbers(column: list[str]) -> None:
    for raw, value in zip(column, _fast(column), strict=True):
        if value is not None:
            assert value == _scalar(raw), raw


def test_the_common_foreign_shapes_are_decided_without_phonenumbers() -> None:
    shapes = [
        "+44 20 7946 0958",  # London, with the code of four regions (GB first)
        "+442079460958",
        "0044 20 7946 0958",
        "+49 30 1234567",  # Berlin
        "0049 30 12345678",
        "+49 151 23456789",  # a German mobile
        "+32 2 512 34 56",  # Brussels
        "+34 91 123 45 67",  # Madrid
        "+39 02 1234 5678",  # Milan: the leading 0 belongs to the number
        "+31 20 123 4567",  # Amsterdam
        "+41 22 123 45 67",  # Geneva
        "+1 415-555-2671",  # San Francisco, with the code of the United States and Canada
        "+ 352 26 12 34 56",  # Luxembourg
    ]
    decided = _fast(shapes)
    assert decided == [_scalar(shape) for shape in shapes]
    assert decided[0] == "+442079460958"
    assert decided[8] == "+390212345678"
    assert None not in decided


def test_prefixes_that_phonenumbers_strips_and_invalid_numbers_are_left_to_it() -> None:
    shapes = [
        "+375 8103188387",  # Belarus: valid as written, but phonenumbers strips the prefix 8
        "+44 020 7946 0958",  # the national prefix after the code
        "+44 (0)20 7946 0958",  # "(0)" after a foreign code
        "+7 495 123 45 67",  # Russia and Kazakhstan: leading digits choose the region
        "+44 20 7946 095",  # one digit short
        "+49 30 1234567 x12",  # an extension
        "+800 1234 5678",  # non-geographic
        "+999 123 456 789",  # no such code
    ]
    assert _fast(shapes) == [None] * len(shapes)
    # What phonenumbers makes of them: 10 31 88 38 7 is no Belarusian number.
    assert _scalar(shapes[0]) is None
    assert _scalar(shapes[1]) == "+442079460958"
    assert calling_code("7") is None
    assert calling_code("800") is None


def test_the_import_takes_foreign_numbers_in_a_french_column() -> None:
    """In the import's phone fast path, French shapes and foreign ones are both decided."""
    from cible.quality.imports.columns.kinds import fast_path_for

    path = fast_path_for(norm.phone)
    assert path is not None
    raw = pl.Series(["01 23 45 67 89", "+44 20 7946 0958", "+44 020 7946 0958", None])
    text, usable = _text.tidy(raw)
    values, ok = path.function(raw, text, usable)
    assert ok.to_list() == [True, True, False, False]
    assert values.to_list()[:2] == ["+33123456789", "+442079460958"]
