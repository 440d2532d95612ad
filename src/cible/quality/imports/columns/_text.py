"""Vectorised text plumbing: the character sets the fast paths trust, `tidy_text` and
`search_key` as polars expressions, and the formula / scientific-notation guards.

A fast path only ever handles text made of *safe* characters: printable ASCII, Latin-1 and
Latin Extended-A letters and a few typographic marks (’ « » – — … €), plus whitespace. On such
text, `core.normalisers.tidy_text` is exactly "whitespace runs to one space, stripped": no
invisible or control character to drop, nothing for NFC to compose. Anything else goes to the
foundation's scalar normaliser (`tests/quality/imports/test_columns.py` proves the sets right
over every code point).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import polars as pl
from django.utils.translation import gettext as _

from cible.core import normalisers as norm
from cible.core.normalisers import ECHO_LIMIT, NormalisationError

# Every character Python's str.isspace() accepts (what tidy_text and str.split() treat as space).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Visible characters that NFC leaves alone, one by one and side by side, and that tidy_text keeps.
VISIBLE_RANGES = ((0x21, 0x7E), (0xA1, 0xAC), (0xAE, 0x17F))
VISIBLE_EXTRA = "\u2018\u2019\u201a\u201c\u201d\u201e\u2013\u2014\u2026\u20ac\u2122"


def _class_items(chars: str) -> str:
    return "".join(f"\\x{{{ord(c):X}}}" for c in chars)


_VISIBLE_CLASS = "".join(
    f"\\x{{{low:X}}}-\\x{{{high:X}}}" for low, high in VISIBLE_RANGES
) + _class_items(VISIBLE_EXTRA)
WHITESPACE_CLASS = _class_items(WHITESPACE)  # to put inside [...] of a polars pattern
SAFE_PATTERN = f"^[{_VISIBLE_CLASS}{WHITESPACE_CLASS}]*$"
WHITESPACE_RUN = f"[{WHITESPACE_CLASS}]+"


def visible_chars() -> str:
    """The safe visible characters, as a string (for the tests)."""
    chars = [chr(c) for low, high in VISIBLE_RANGES for c in range(low, high + 1)]
    return "".join(chars) + VISIBLE_EXTRA


def _cased_class(lower: bool) -> str:
    """The safe characters Python counts as upper case (or, `lower`: lower case) when it
    decides `str.isupper()` / `str.islower()`; title-case letters count as both."""
    chars = visible_chars()
    return _class_items(
        "".join(
            c
            for c in chars
            if (c.islower() if lower else c.isupper()) or unicodedata.category(c) == "Lt"
        )
    )


UPPER_CLASS = _cased_class(lower=False)  # to put inside [...] of a polars pattern
LOWER_CLASS = _cased_class(lower=True)
# Small letters whose capital is another single character ("é" -> "É"; not "ß" -> "SS", not
# "ª"): where polars' title case and `organisation_name`'s agree letter for letter.
CAPITALISABLE_CLASS = _class_items(
    "".join(c for c in visible_chars() if c.islower() and len(c.upper()) == 1 and c.upper() != c)
)

_NEEDS_COLLAPSE = f"[{WHITESPACE_CLASS}]{{2}}|[{_class_items(WHITESPACE.replace(' ', ''))}]|^ | $"


def collapse(series: pl.Series) -> pl.Series:
    """`" ".join(text.split())` on every value (nulls stay null). Only the values with
    whitespace to collapse are rewritten (most are not)."""
    positions = series.str.contains(_NEEDS_COLLAPSE).fill_null(False).arg_true()
    if positions.len() == 0:
        return series
    fixed = series.gather(positions).str.replace_all(WHITESPACE_RUN, " ").str.strip_chars(" ")
    return series.clone().scatter(positions, fixed) if positions.len() < series.len() else fixed


def tidy(raw: pl.Series, collapsed: pl.Series | None = None) -> tuple[pl.Series, pl.Series]:
    """(tidied text, safe): where `safe` is true the text equals `tidy_text(raw)` (null for
    blank); elsewhere it means nothing and the value needs the scalar normaliser.
    `collapsed` is `collapse(raw)` if the caller has it already."""
    safe = raw.str.contains(SAFE_PATTERN).fill_null(False)
    text = collapse(raw) if collapsed is None else collapsed
    text = pl.select(pl.when(text.str.len_bytes() > 0).then(text).otherwise(None)).to_series()
    return text, safe


# Text that is tidy already: safe visible characters, words parted by single spaces.
TIDY_PATTERN = f"^[{_VISIBLE_CLASS}]+(?: [{_VISIBLE_CLASS}]+)*$"


def tidied(raw: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series]:
    """`(collapse(raw), *tidy(raw))`, with one scan of the column for the cells that are tidy
    already (most of them: the text is the cell) and the others only scanned again."""
    done = raw.str.contains(TIDY_PATTERN).fill_null(False)
    rest = (~done).arg_true()
    if rest.len() == 0:
        return raw, raw, done
    others = raw.gather(rest)
    collapsed = collapse(others)
    text, safe = tidy(others, collapsed)
    return (
        raw.clone().scatter(rest, collapsed),
        raw.clone().scatter(rest, text),
        done.scatter(rest, safe),
    )


# ------------------------------------------------------------------------------ guards

# Text (already tidied) a spreadsheet would evaluate: "=" and anything, or + - @ followed by a
# function call ("@SUM(A1)", "-HYPERLINK("), a cell reference ("+A1", "-$B$2") or a DDE
# command ("+cmd|' /C calc'!A0"). "-", "-12" and "+33 1 23 45 67 89" are values.
FORMULA_PATTERN = (
    r"^(?:=.|[+\-@] ?(?:[A-Za-z_][A-Za-z0-9_.]* ?\(|\$?[A-Za-z]{1,3}\$?[0-9]+(?:[^A-Za-z0-9]|$)"
    r"|[A-Za-z0-9_]+\|))"
)
# A number as Excel shows it in scientific notation: "3.56E+08", "3,56E+08", "7.3283E13".
SCIENTIFIC_PATTERN = r"^[0-9]+(?:[.,][0-9]+)? ?[eE] ?[+\-]?[0-9]+$"
_FORMULA_RE = re.compile(FORMULA_PATTERN)
_SCIENTIFIC_RE = re.compile(SCIENTIFIC_PATTERN)
# Fields holding an identifier Excel turns into a rounded number.
SCIENTIFIC_FIELDS = frozenset({"siren", "siret", "organisation_siren"})


def _shown(text: str) -> str:
    if len(text) > ECHO_LIMIT:
        return text[: ECHO_LIMIT - 1] + "\N{HORIZONTAL ELLIPSIS}"
    return text


def guard_error(field: str, raw: object) -> NormalisationError | None:
    """The problem with a cell that is a formula, or an identifier in scientific notation."""
    text = norm.tidy_text(raw if raw is None or isinstance(raw, str) else str(raw))
    if text is None:
        return None
    if _FORMULA_RE.match(text):
        return NormalisationError(
            field,
            _(
                "“%(value)s” is a spreadsheet formula, not a value: replace it by its result "
                "in the file (copy the column, then paste it as values)"
            )
            % {"value": _shown(text)},
        )
    if field in SCIENTIFIC_FIELDS and _SCIENTIFIC_RE.match(text):
        return NormalisationError(
            field,
            _(
                "“%(value)s” is a number in scientific notation: the spreadsheet has rounded "
                "it. Format the column as text in the spreadsheet, type the full numbers again "
                "and export the file again"
            )
            % {"value": _shown(text)},
        )
    return None


def guarded(tidied: pl.Series, field: str) -> pl.Series:
    """True where the tidied text trips `guard_error` (nulls: false)."""
    hit = tidied.str.contains(FORMULA_PATTERN)
    if field in SCIENTIFIC_FIELDS:
        hit = hit | tidied.str.contains(SCIENTIFIC_PATTERN)
    return hit.fill_null(False)


# ------------------------------------------------------------------------------ search key


@cache
def _fold_table() -> tuple[list[str], list[str]]:
    """Every safe non-ASCII character (whitespace included) and what `search_key` makes of it
    in a word ("É" -> "e", "ß" -> "ss", "’" -> " ")."""
    chars = [c for c in visible_chars() + WHITESPACE if not c.isascii()]
    # Between two letters, so that a mark folding to a space keeps it ("a–a" -> "a a").
    folded = [norm.search_key(f"a{char}a")[1:-1] for char in chars]
    return chars, folded


_NOT_KEY_RUN = r"[\x00-\x2F\x3A-\x60\x7B-\x7F]+"  # ASCII other than a-z 0-9 (after lowering)


def search_key(text: pl.Series, *, limit: int | None = None) -> tuple[pl.Series, pl.Series]:
    """(key, ok): `norm.search_key(value)[:limit]` where ok (nulls give ""), per character
    through a table built from the scalar function itself; values with other characters are
    not ok (the caller runs the scalar function on them)."""
    ok = text.str.contains(SAFE_PATTERN).fill_null(True)
    chars, folded = _fold_table()
    key = (
        text.fill_null("")
        .str.replace_many(chars, folded)
        .str.to_lowercase()
        .str.replace_all(_NOT_KEY_RUN, " ")
        .str.strip_chars(" ")
    )
    if limit is not None:
        key = key.str.slice(0, limit)
    return key, ok
