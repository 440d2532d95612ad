"""Case- and accent-insensitive text comparison that SQLite, PostgreSQL and Python agree on.

Free-text fields (a city, a job title, a legal name) are compared through `fold`: ASCII capitals
become small letters, and the Latin letters with accents of Western European languages become
their plain small letter ("É" → "e", "ç" → "c", "Œ" → "œ"). Every other character stays as it is.

The mapping is one character to one character, so the database applies exactly the same table:
PostgreSQL with its built-in `translate(text, from, to)`, SQLite with the same Python function
registered on the connection (SQLite's `lower()` only knows ASCII and it has no `translate`).
Nothing depends on a collation, an ICU build or the `unaccent` extension, and the property tests
prove the three agree on random text.

Fields stored in a normalised form (country and region codes, postal codes, NAF codes, domains,
e-mail addresses, the name search key) are not folded: the rule's value goes through the same
normaliser when the rule is parsed and the comparison is exact, which keeps their indexes usable.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Any

from django.db import NotSupportedError
from django.db.models import Func, TextField


@cache
def _pairs() -> tuple[str, str]:
    """The characters `fold` changes, and what each becomes (two strings of equal length)."""
    source, target = [], []
    for code in range(ord("A"), ord("Z") + 1):
        source.append(chr(code))
        target.append(chr(code).lower())
    for code in range(0xC0, 0x250):  # Latin-1 Supplement, Latin Extended-A and -B
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            source.append(char)
            target.append(base.lower())
    for upper, lower in (("Œ", "œ"), ("Æ", "æ"), ("Ø", "o"), ("ø", "o")):
        source.append(upper)
        target.append(lower)
    return "".join(source), "".join(target)


@cache
def _table() -> dict[int, str]:
    source, target = _pairs()
    return {ord(s): t for s, t in zip(source, target, strict=True)}


def fold(text: str | None) -> str:
    """The comparison form of free text: "Île-de-France" → "ile-de-france"; None → ""."""
    if text is None:
        return ""
    return str(text).translate(_table())


SQLITE_FUNCTION = "cible_fold"


def _sqlite_fold(text: Any) -> Any:
    return None if text is None else str(text).translate(_table())


def install_sqlite_function(raw_connection: Any) -> None:
    """Register `cible_fold` on a sqlite3 connection (cheap; replacing it is harmless)."""
    raw_connection.create_function(SQLITE_FUNCTION, 1, _sqlite_fold, deterministic=True)


class Fold(Func):
    """SQL `fold(expression)`: the database side of `fold` (see the module docstring)."""

    arity = 1
    output_field = TextField()

    def as_sql(self, compiler: Any, connection: Any, *args: Any, **extra: Any) -> Any:  # type: ignore[override]
        raise NotSupportedError(
            f"text folding is written for SQLite and PostgreSQL, not {connection.vendor}"
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # The function lives on the raw connection: make sure this one has it.
        connection.ensure_connection()
        install_sqlite_function(connection.connection)
        return super().as_sql(compiler, connection, function=SQLITE_FUNCTION, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # `translate` walks its whole map for every character: most text is plain ASCII, whose
        # fold only lowers A–Z, so that case gets a 26-letter map (a condition of this shape
        # took 2.3 s instead of 8.1 s over a million rows). Same result either way, and no
        # locale involved (unlike `lower()`).
        sql, params = compiler.compile(self.source_expressions[0])
        source, target = _pairs()
        return (
            f"CASE WHEN {sql} ~ %s THEN translate({sql}, %s, %s) ELSE translate({sql}, %s, %s) END",
            (*params, _ASCII_ONLY, *params, _ASCII_UPPER, _ASCII_LOWER, *params, source, target),
        )


_ASCII_ONLY = f"^[{chr(1)}-{chr(127)}]*$"
_ASCII_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_LOWER = _ASCII_UPPER.lower()
