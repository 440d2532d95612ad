"""Phone numbers to E.164 without calling `phonenumbers` once per row.

French numbers. The shapes people type for them ("01 23 45 67 89", "01.23.45.67.89",
"0123456789", "+33 1 23 45 67 89", "+33 (0)1 23 45 67 89", "0033 1 23 45 67 89") all come down
to a 9-digit national significant number. `phonenumbers` calls a number valid when that number
matches the general pattern of France's metadata and the pattern of one of its number types:
those very patterns, read from the library's metadata, are checked here as one regular
expression on the column. The result is then "+33" and the 9 digits, which is what
`norm.phone` returns for such a number.

International numbers ("+44 20 7946 0958", "0049 30 1234567", "+3491…"). `phonenumbers` takes
the calling code off the front (the codes are prefix-free), strips a national prefix if the
rest starts with one, and calls the number valid when the main region of that code finds it of
a known type: the general pattern and one type's pattern, each with its possible lengths. The
same checks run here per calling code and length of the rest, on the rows of each pair; a rest
that starts with the national prefix ("+44 020…"), a code whose main region needs leading
digits to tell it from the others (+7), and anything that is not digits and separators after
"+" or "00" go to `norm.phone`.

Anything else (extensions, "tel:", "(0)" after a foreign code, French overseas numbers, invalid
ones for the error message) goes to `norm.phone`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import phonenumbers
import polars as pl

# Optional "+33" / "0033" (and "(0)") then digits, each pair separated by at most one of " .-".
_INTERNATIONAL = r"^(?:\+|00) ?33[ .\-]?(?:\(0\)[ .\-]?)?[0-9](?:[ .\-]?[0-9])*$"
_NATIONAL = r"^[0-9](?:[ .\-]?[0-9])*$"

_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


@cache
def valid_french_pattern() -> tuple[str, str]:
    """One anchored pattern for the 9-digit national numbers `phonenumbers` finds valid in FR:
    the general description and any number type, from the library's own metadata."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("FR")
    assert metadata is not None
    general = metadata.general_desc
    assert general is not None and general.national_number_pattern
    assert 9 in general.possible_length
    kinds = []
    for name in _TYPES:
        desc = getattr(metadata, name, None)
        if desc is None or not desc.national_number_pattern:
            continue
        if desc.possible_length and 9 not in desc.possible_length:
            continue
        kinds.append(f"(?:{desc.national_number_pattern})")
    return f"^(?:{general.national_number_pattern})$", "^(?:" + "|".join(kinds) + ")$"


def french_phones(text: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(E.164, ok) for tidied text; ok is false where `norm.phone` must decide."""
    general, kinds = valid_french_pattern()
    frame = pl.DataFrame({"text": text})
    digits = pl.col("text").str.replace_all(r"[^0-9]", "")
    international = pl.col("text").str.contains(_INTERNATIONAL)
    national = pl.col("text").str.contains(_NATIONAL) & ~pl.col("text").str.starts_with("00")
    rest = (
        pl.when(international & pl.col("text").str.starts_with("+"))
        .then(pl.col("digits").str.slice(2))
        .when(international)
        .then(pl.col("digits").str.slice(4))
        .when(national)
        .then(pl.col("digits"))
        .otherwise(None)
    )
    nsn = (
        pl.when((pl.col("rest").str.len_bytes() == 10) & pl.col("rest").str.starts_with("0"))
        .then(pl.col("rest").str.slice(1))
        .when((pl.col("rest").str.len_bytes() == 9) & ~pl.col("rest").str.starts_with("0"))
        .then(pl.col("rest"))
        .otherwise(None)
    )
    result = (
        frame.lazy()
        .with_columns(digits=digits)
        .with_columns(rest=rest)
        .with_columns(nsn=nsn)
        .select(
            value=pl.lit("+33") + pl.col("nsn"),
            ok=(pl.col("nsn").str.contains(general) & pl.col("nsn").str.contains(kinds)).fill_null(
                False
            ),
        )
        .collect()
    )
    return result["value"], result["ok"]


# --------------------------------------------------------------------------- international

# "+" or "00", then a calling code (never 0) and digits, each separated by at most one of " .-".
_PLUS_FORM = r"^(?:\+|00) ?[1-9](?:[ .\-]?[0-9])*$"
_NON_GEOGRAPHIC = "001"
_E164_DIGITS = (8, 15)  # what `norm.phone` accepts as E.164 ("+" and 8 to 15 digits)


@dataclass(frozen=True)
class CallingCode:
    """What `phonenumbers` checks for a number of this calling code, as anchored patterns."""

    national_prefix: str | None  # a rest it matches may be stripped: left to `norm.phone`
    lengths: dict[int, tuple[str, str]]  # length of the rest -> (general, any type) patterns


def _compiles(pattern: str) -> bool:
    """Whether polars' regular expressions read the pattern (written for Python's `re`)."""
    try:
        pl.Series([""]).str.contains(pattern)
    except Exception:  # polars raises ComputeError for a syntax it lacks
        return False
    return True


@cache
def calling_code(digits: str) -> CallingCode | None:
    """The checks for a calling code ("44"), or None where the fast path does not decide."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits))
    if not regions or regions[0] == _NON_GEOGRAPHIC:
        return None
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(regions[0])
    # With several regions, the first is chosen only if it needs no leading digits.
    if metadata is None or (len(regions) > 1 and metadata.leading_digits is not None):
        return None
    general = metadata.general_desc
    if general is None or not general.national_number_pattern:
        return None
    lengths = {}
    for length in general.possible_length:
        if not _E164_DIGITS[0] <= len(digits) + length <= _E164_DIGITS[1]:
            continue
        kinds = [
            f"(?:{desc.national_number_pattern})"
            for desc in (getattr(metadata, name, None) for name in _TYPES)
            if desc is not None
            and desc.national_number_pattern
            and (not desc.possible_length or length in desc.possible_length)
        ]
        if kinds:
            lengths[length] = (
                f"^(?:{general.national_number_pattern})$",
                "^(?:" + "|".join(kinds) + ")$",
            )
    prefix = metadata.national_prefix_for_parsing
    national_prefix = f"^(?:{prefix})" if prefix else None
    patterns = [national_prefix or ""] + [p for pair in lengths.values() for p in pair]
    if not lengths or not all(_compiles(pattern) for pattern in patterns):
        return None
    return CallingCode(national_prefix=national_prefix, lengths=lengths)


@cache
def _codes_by_width() -> dict[int, list[str]]:
    codes = [str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE]
    return {width: [code for code in codes if len(code) == width] for width in (1, 2, 3)}


def international_phones(text: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(E.164, ok) for tidied text written with "+" or "00"; ok is false where `norm.phone`
    must decide."""
    digits = pl.col("text").str.replace_all(r"[^0-9]", "")
    digits = (
        pl.when(pl.col("text").str.starts_with("00")).then(digits.str.slice(2)).otherwise(digits)
    )
    code = pl.coalesce(
        pl.when(pl.col("digits").str.slice(0, width).is_in(listed)).then(
            pl.col("digits").str.slice(0, width)
        )
        for width, listed in _codes_by_width().items()
    )
    candidates = (
        pl.DataFrame({"text": text})
        .with_row_index("row")
        .lazy()
        .filter(pl.col("text").str.contains(_PLUS_FORM))
        .with_columns(digits=digits)
        .with_columns(code=code)
        .drop_nulls("code")
        .with_columns(rest=pl.col("digits").str.slice(pl.col("code").str.len_bytes()))
        .with_columns(length=pl.col("rest").str.len_bytes())
        .select("row", "code", "rest", "length")
        .collect()
    )
    found = []
    for part in candidates.partition_by("code", "length"):
        digits_of_code, length = part["code"][0], part["length"][0]
        checks = calling_code(digits_of_code)
        patterns = None if checks is None else checks.lengths.get(length)
        if checks is None or patterns is None:
            continue
        rest = pl.col("rest")
        valid = rest.str.contains(patterns[0]) & rest.str.contains(patterns[1])
        if checks.national_prefix is not None:
            valid = valid & ~rest.str.contains(checks.national_prefix)
        found.append(part.lazy().filter(valid).select("row", value="+" + digits_of_code + rest))
    values = pl.repeat(None, text.len(), dtype=pl.String, eager=True)
    ok = pl.repeat(False, text.len(), dtype=pl.Boolean, eager=True)
    decided = pl.concat(found).collect() if found else None
    if decided is not None and decided.height:
        values = values.scatter(decided["row"], decided["value"])
        ok = ok.scatter(decided["row"], True)
    return values, ok
