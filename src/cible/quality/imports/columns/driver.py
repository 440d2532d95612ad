"""One field of a batch: the fast path where it is sure, the scalar normaliser once per distinct
value elsewhere (memoised across batches), and the bookkeeping of absent values and errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl
from django.utils.translation import get_language

from cible.core.normalisers import NormalisationError
from cible.quality.imports.columns import _text
from cible.quality.imports.columns.kinds import FastPath


class _Absent:
    """Marks a field missing from a row's values (its normaliser failed, or derive left it)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Failure:
    message: str


Scalar = Callable[[Any], Any]  # raw -> value; raises NormalisationError


@dataclass
class FieldResult:
    name: str
    raw: pl.Series
    values: list[Any]  # per row; ABSENT where the normaliser failed
    errors: dict[int, str] = field(default_factory=dict)  # row index -> message
    text_only: bool = False  # every present value is a str or None
    has_text: bool = True  # some present value is a str
    collapsed: pl.Series | None = None  # `" ".join(raw.split())`, when computed
    # The fast path's values and where they are the row's value (numbers only; else None).
    fast_values: pl.Series | None = None
    fast_ok: pl.Series | None = None
    _series: pl.Series | None = None

    def series(self) -> pl.Series:
        """The values as a polars column (null where absent or None); str or int values only."""
        if self._series is None:
            plain = [None if value is ABSENT else value for value in self.values]
            self._series = pl.Series(self.name, plain, dtype=pl.String if self.text_only else None)
        return self._series


# Memo of scalar results, per normaliser, field and language (messages and choice labels are
# translated): imports of a million rows meet the same cities, countries and codes again.
_MEMO_LIMIT = 50_000
_MEMO_TEXT_LIMIT = 200  # longer cells (descriptions) are normalised again, not kept
_MEMOS: dict[tuple[Any, str, str], dict[Any, Any]] = {}


def memo_for(scalar_key: Any, name: str) -> dict[Any, Any]:
    key = (scalar_key, name, get_language() or "")
    memo = _MEMOS.get(key)
    if memo is None or len(memo) > _MEMO_LIMIT:
        memo = _MEMOS[key] = {}
    return memo


def clear_memos() -> None:
    _MEMOS.clear()


def apply(scalar: Scalar, raw: Any) -> Any:
    try:
        return scalar(raw)
    except NormalisationError as error:
        return Failure(error.message)


def _resolve(memo: dict[Any, Any], scalar: Scalar, raws: list[Any]) -> dict[Any, Any]:
    """The result of every distinct raw value, from the memo or computed (and memoised)."""
    found: dict[Any, Any] = {}
    for raw in set(raws):
        if raw in memo:
            found[raw] = memo[raw]
            continue
        found[raw] = value = apply(scalar, raw)
        if raw is None or len(raw) <= _MEMO_TEXT_LIMIT:
            memo[raw] = value
    return found


def _collect(result: FieldResult, positions: list[int] | None) -> None:
    """Move failures out of the values into the errors (positions: where to look; None: all)."""
    values = result.values
    for index in range(len(values)) if positions is None else positions:
        value = values[index]
        if value.__class__ is Failure:
            result.errors[index] = value.message
            values[index] = ABSENT


def _python_values(column: pl.Series) -> list[Any]:
    """`column.to_list()`; decimals made from their text, in half the time polars takes (it
    calls a Python function per value)."""
    if column.dtype != pl.Decimal:
        return column.to_list()
    return [None if text is None else Decimal(text) for text in column.cast(pl.String).to_list()]


def _text_column(raw: pl.Series, found: dict[Any, Any]) -> pl.Series:
    """`found[cell]` for every cell, as a text column (null for None and failures): what
    `FieldResult.series` makes of the values, by column."""
    texts = {cell: value if isinstance(value, str) else None for cell, value in found.items()}
    blank = texts.pop(None, None)
    column = raw.replace_strict(
        list(texts), list(texts.values()), default=None, return_dtype=pl.String
    )
    if blank is not None:
        column = pl.select(pl.when(raw.is_null()).then(pl.lit(blank)).otherwise(column)).to_series()
    return column


def run_field(
    name: str,
    raw: pl.Series,
    scalar: Scalar,
    memo: dict[Any, Any],
    fast: FastPath | None,
) -> FieldResult:
    """Normalise one column. `scalar` is the guarded normaliser with blanks applied."""
    if fast is None:
        raws = raw.to_list()
        found = _resolve(memo, scalar, raws)
        distinct = list(found.values())
        values = list(map(found.__getitem__, raws))
        result = FieldResult(name, raw, values)
        if any(value.__class__ is Failure for value in distinct):
            _collect(result, None)
        present = [value for value in distinct if value.__class__ is not Failure]
        result.text_only = all(value is None or isinstance(value, str) for value in present)
        result.has_text = any(isinstance(value, str) for value in present)
        if result.text_only:
            result._series = _text_column(raw, found)
        return result

    collapsed: pl.Series | None = None
    if fast.tidied:
        collapsed, text, safe = _text.tidied(raw)
        usable = safe & ~_text.guarded(text, name)
        values_s, ok = fast.function(raw, text, usable)
    else:
        values_s, ok = fast.function(raw, raw, raw.is_not_null())
    blank = memo.get(None)
    if blank is None and None not in memo:
        blank = memo[None] = apply(scalar, None)
    nulls = raw.is_null()
    if blank is None or (isinstance(blank, str) and fast.dtype == pl.String):
        if blank is not None:
            values_s = pl.select(pl.when(nulls).then(pl.lit(blank)).otherwise(values_s)).to_series()
        ok = ok | nulls
    values = _python_values(values_s)
    positions = (~ok).arg_true().to_list()
    raws = raw.gather(positions).to_list() if positions else []
    found = _resolve(memo, scalar, raws)
    for index, value in zip(positions, raws, strict=True):
        values[index] = found[value]
    result = FieldResult(name, raw, values)
    if positions:
        _collect(result, positions)
    fallback = [value for value in found.values() if value.__class__ is not Failure]
    text_from_fallback = any(isinstance(value, str) for value in fallback)
    if fast.dtype == pl.String:
        result.text_only = all(value is None or isinstance(value, str) for value in fallback)
        result.has_text = True
        if result.text_only:  # the column `series()` would build from the values, by column
            fixes = [None if values[index] is ABSENT else values[index] for index in positions]
            result._series = values_s.clone().scatter(positions, pl.Series(fixes, dtype=pl.String))
    else:
        result.has_text = text_from_fallback
    result.collapsed = collapsed
    if fast.dtype != pl.String:  # kept for the changes of numbers (`_typed_changes`)
        result.fast_values, result.fast_ok = values_s, ok
    return result
