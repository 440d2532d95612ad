"""French phone numbers to E.164 without calling `phonenumbers` once per row.

The shapes people type for French numbers ("01 23 45 67 89", "01.23.45.67.89", "0123456789",
"+33 1 23 45 67 89", "+33 (0)1 23 45 67 89", "0033 1 23 45 67 89") all come down to a
9-digit national significant number. `phonenumbers` calls a number valid when that number
matches the general pattern of France's metadata and the pattern of one of its number types:
those very patterns, read from the library's metadata, are checked here as one regular
expression on the column. The result is then "+33" and the 9 digits, which is what
`norm.phone` returns for such a number. Anything else (foreign numbers, extensions, "tel:",
French overseas numbers, invalid ones for the error message) goes to `norm.phone`.
"""

from __future__ import annotations

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
