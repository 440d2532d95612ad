"""Columnar normalisation of an import batch: `normalise_batch(entity, frame, mapping)`.

Every cell goes through the foundation's normalisers, with the result `clean_fields` followed by
`entity.derive` would give for that row (`normalise_row` is that row-by-row definition, used by
the tests and the benchmark). A million rows cannot afford a Python call per cell, so the work
is done per column:

- fast paths (`kinds.py`, `phones.py`): polars expressions for the common shapes — French phone
  numbers to E.164 checked against `phonenumbers`' own patterns, plain email addresses, websites
  and domains, SIREN/SIRET with a vectorised Luhn check, plain numbers and amounts, tidy text —
  each saying where it is sure;
- everything else (and every value a fast path is unsure of): the scalar normaliser once per
  distinct value, memoised across batches (`driver.py`) — cheap for cities, countries, NAF
  codes, statuses;
- derived values by column (`derive.py`).

Cells holding a spreadsheet formula, and SIREN/SIRET turned into scientific notation by Excel,
are rejected with a message saying what to do (`_text.guard_error`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import polars as pl
from django.utils.translation import gettext as _

from cible.core import normalisers as norm
from cible.core.cleaning import Change, clean_fields, significant_change
from cible.core.errors import FieldError
from cible.lib.memory import no_cyclic_gc
from cible.quality.imports import extras
from cible.quality.imports.columns import _text, derive, driver
from cible.quality.imports.columns.derive import columnar
from cible.quality.imports.columns.driver import ABSENT, FieldResult, Scalar, memo_for, run_field
from cible.quality.imports.columns.kinds import FastPath, fast_path_for
from cible.quality.imports.registry import ImportableEntity

__all__ = [
    "NormalisedBatch",
    "clear_caches",
    "link_normaliser",
    "normalise_batch",
    "normalise_row",
]


def clear_caches() -> None:
    """Forget the values normalised in earlier batches (tests; the caches are bounded)."""
    driver.clear_memos()
    derive.clear_caches()


@dataclass
class NormalisedBatch:
    rows: list[int]  # the "_row" of every row in the batch, in order
    values: list[dict[str, Any]]  # per row: model field -> value, derived fields, link fields
    errors: dict[int, list[FieldError]]  # by _row; a row with errors is rejected whole
    changes: Counter[str] = field(default_factory=Counter)  # field -> values rewritten
    change_samples: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> example


# --------------------------------------------------------------------------- link fields


def _organisation_key(raw: Any) -> str | None:
    """The organisation name a contact points to, as `Organisation.name_key` holds it."""
    return norm.search_key(raw)[:255] or None


def link_normaliser(name: str) -> Scalar:
    """How a link field's text is normalised before the engine resolves it (blank: None)."""
    if name.endswith("_email"):  # owner_email, contact_email
        return partial(norm.email, field=name)
    if name == "organisation_siren":
        return partial(norm.siren, field=name)
    if name == "organisation_domain":
        return partial(norm.domain, field=name)
    if name == "organisation_name":
        return _organisation_key
    return partial(norm.tidy_text, max_length=255, field=name)


def _organisation_key_path(
    raw: pl.Series, text: pl.Series, usable: pl.Series
) -> tuple[pl.Series, pl.Series]:
    key, ok = _text.search_key(raw, limit=255)
    key = pl.select(pl.when(key == "").then(None).otherwise(key)).to_series()
    return key, ok & usable


def _link_fast_path(name: str, spec: Scalar) -> FastPath | None:
    if spec is _organisation_key:
        return FastPath(_organisation_key_path, pl.String)
    return fast_path_for(spec)


# --------------------------------------------------------------------------- the row-by-row path


def _guard(name: str, spec: Scalar) -> Scalar:
    def guarded(raw: Any) -> Any:
        problem = _text.guard_error(name, raw)
        if problem is not None:
            raise problem
        return spec(raw)

    return guarded


def _is_link(entity: ImportableEntity, name: str) -> bool:
    return any(f.name == name and f.link for f in entity.fields)


def normalise_row(
    entity: ImportableEntity, data: Mapping[str, Any]
) -> tuple[dict[str, Any], list[FieldError], list[Change]]:
    """One row, field name -> raw cell: the values `normalise_batch` gives for it, by
    definition. Model fields go through `clean_fields` (formula and scientific-notation cells
    rejected first), then `entity.derive`; link fields through `link_normaliser`."""
    plain = {k: v for k, v in data.items() if not _is_link(entity, k)}
    specs = {name: _guard(name, spec) for name, spec in entity.specs.items()}
    cleaned = clean_fields(plain, specs, blank=entity.blanks)
    values = dict(cleaned.values)
    try:
        cleaned.add_errors(entity.derive(values))
    except norm.NormalisationError as error:  # a derived value could not be made: rejected
        cleaned.add_errors([FieldError(error.field, error.message)])
    for name, raw in data.items():
        if not _is_link(entity, name):
            continue
        try:
            values[name] = _guard(name, link_normaliser(name))(raw)
        except norm.NormalisationError as error:
            cleaned.errors.append(FieldError(name, error.message))
    return values, cleaned.errors, cleaned.changes


# --------------------------------------------------------------------------- by column


def _with_blank(spec: Scalar, blank: Any) -> Scalar:
    def run(raw: Any) -> Any:
        value = spec(raw)
        return blank if value is None else value

    return run


def _model_field(entity: ImportableEntity, name: str, raw: pl.Series) -> FieldResult:
    spec = entity.specs[name]
    blank = entity.blanks.get(name)
    scalar = _with_blank(_guard(name, spec), blank)
    return run_field(name, raw, scalar, memo_for((spec, blank), name), fast_path_for(spec))


def _link_field(name: str, raw: pl.Series) -> FieldResult:
    spec = link_normaliser(name)
    memo = memo_for(("link", name), name)
    return run_field(name, raw, _guard(name, spec), memo, _link_fast_path(name, spec))


def _changes(result: FieldResult, accepted: pl.Series) -> tuple[int, tuple[str, str] | None]:
    """How many accepted rows `clean_fields` would report a change for, and the first one."""
    raw = result.raw
    given = (raw.is_not_null() & (raw != "")).fill_null(False) & accepted
    if result.text_only:
        series = result.series()
        collapsed = result.collapsed if result.collapsed is not None else _text.collapse(raw)
        changed = given & (series.is_null() | (collapsed != series)).fill_null(True)
    else:
        changed = _typed_changes(result, given)
    positions = changed.arg_true()
    if positions.len() == 0:
        return 0, None
    first = positions[0]
    after = result.values[first]
    return positions.len(), (raw[first], "" if after is None else str(after))


# Characters that never survive in a number `Decimal()` reads (once the ends are stripped).
_NOT_DECIMAL = f"[,'€$£{_text.WHITESPACE_CLASS}]"


def _typed_changes(result: FieldResult, given: pl.Series) -> pl.Series:
    """`significant_change(raw, value)` on the given rows of a column of numbers, dates or
    values of mixed types. Numbers the fast path read are decided by column: the stripped cell
    spelling the value exactly reads as it (no change); one holding a grouping space, a comma or
    a currency is no number for `Decimal()` (a change). The rest, one by one."""
    decided_same = decided_changed = pl.Series([False] * given.len(), dtype=pl.Boolean)
    fast, sure = result.fast_values, result.fast_ok
    if fast is not None and sure is not None and fast.dtype in (pl.Int64, pl.Decimal):
        sure = given & sure
        stripped = result.raw.str.strip_chars(_text.WHITESPACE)
        decided_same = sure & (stripped == fast.cast(pl.String)).fill_null(False)
        decided_changed = sure & stripped.str.contains(_NOT_DECIMAL).fill_null(False)
    positions = (given & ~decided_same & ~decided_changed).arg_true().to_list()
    if not positions:
        return decided_changed
    raws = result.raw.gather(positions).to_list()
    values = result.values
    flags = [significant_change(raw, values[i]) for i, raw in zip(positions, raws, strict=True)]
    return decided_changed.scatter(positions, pl.Series(flags, dtype=pl.Boolean))


def _columns(
    frame: pl.DataFrame, mapping: Mapping[str, str | None], extras: str = ""
) -> list[tuple[str, str]]:
    """(column, field) of the mapped columns but those of the extras field (`extras.py`)."""
    pairs = [(column, name) for column, name in mapping.items() if name and name != extras]
    names = [name for _column, name in pairs]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"several columns are mapped to {', '.join(duplicated)}")
    missing = [column for column, _name in pairs if column not in frame.columns]
    if missing:
        raise ValueError(f"the batch has no column {', '.join(missing)}")
    return pairs


def normalise_batch(
    entity: ImportableEntity, frame: pl.DataFrame, mapping: Mapping[str, str | None]
) -> NormalisedBatch:
    """Normalise a batch read by `reading.read_batches` (text columns and "_row").

    `mapping`: column -> field name (unmapped columns absent or None). Values, errors and
    changes are those of `normalise_row` on every row; link fields are passed through
    normalised under their own names (None when blank)."""
    with no_cyclic_gc():
        return _normalise_batch(entity, frame, mapping)


def _normalise_batch(
    entity: ImportableEntity, frame: pl.DataFrame, mapping: Mapping[str, str | None]
) -> NormalisedBatch:
    pairs = _columns(frame, mapping, entity.extras)
    size = frame.height
    model: dict[str, FieldResult] = {}
    links: dict[str, FieldResult] = {}
    for column, name in pairs:  # a name neither link nor spec: an error on every row, below
        raw = frame.get_column(column).cast(pl.String)
        if _is_link(entity, name):
            links[name] = _link_field(name, raw)
        elif name in entity.specs:
            model[name] = _model_field(entity, name, raw)

    errors: dict[int, list[FieldError]] = {}
    for name in (n for _c, n in pairs if not _is_link(entity, n)):
        if name in model:
            for index, message in model[name].errors.items():
                errors.setdefault(index, []).append(FieldError(name, message))
        else:
            problem = FieldError(name, _("is not a field that can be set"))
            for index in range(size):
                errors.setdefault(index, []).append(problem)

    derived = columnar(entity.derive, model, size)
    # field -> (values, positions where ABSENT, or None: to be found)
    lists: dict[str, tuple[list[Any], list[int] | None]] = {
        name: (result.values, sorted(result.errors)) for name, result in model.items()
    }
    if derived is not None:
        derived_values, derived_errors = derived
        for name, values in derived_values.items():
            lists[name] = (values, None)
        for index, found in derived_errors.items():
            _add_errors(errors.setdefault(index, []), found)
    if derived is None:
        rows = _rows(lists, size)
        for index, row in enumerate(rows):
            try:
                found = entity.derive(row)
            except norm.NormalisationError as error:
                found = [FieldError(error.field, error.message)]
            if found:
                _add_errors(errors.setdefault(index, []), found)
        lists = {}
    for name, result in links.items():
        lists[name] = (result.values, sorted(result.errors))
    if derived is None:
        _add_to_rows(rows, lists)
    else:
        rows = _rows(lists, size)
    for name in (n for _c, n in pairs if n in links):
        for index, message in links[name].errors.items():
            errors.setdefault(index, []).append(FieldError(name, message))
    kept = extras.extra_columns(entity, mapping)
    if kept:
        collected, refused = extras.collect(frame, kept, entity.extras)
        for row, kept_values in zip(rows, collected, strict=True):
            row[entity.extras] = kept_values
        for index, problems in refused.items():
            errors.setdefault(index, []).extend(problems)

    errors = {index: found for index, found in errors.items() if found}
    accepted = pl.Series([True] * size, dtype=pl.Boolean)
    if errors:
        accepted = accepted.scatter(sorted(errors), False)
    changes: Counter[str] = Counter()
    samples: dict[str, tuple[str, str]] = {}
    for name, result in model.items():
        count, sample = _changes(result, accepted)
        if count:
            changes[name] = count
            assert sample is not None
            samples[name] = sample
    row_numbers = frame.get_column("_row").to_list()
    return NormalisedBatch(
        rows=row_numbers,
        values=rows,
        errors={row_numbers[index]: found for index, found in sorted(errors.items())},
        changes=changes,
        change_samples=samples,
    )


def _rows(lists: dict[str, tuple[list[Any], list[int] | None]], size: int) -> list[dict[str, Any]]:
    """One dict per row from the value lists (field -> values, positions of ABSENT or None
    to find them), without the ABSENT values."""
    dense: list[tuple[str, list[Any], list[int]]] = []
    sparse: list[tuple[str, list[Any]]] = []
    for name, (values, absent) in lists.items():
        if absent is None:
            absent = [index for index, value in enumerate(values) if value is ABSENT]
        if len(absent) <= size // 2:
            dense.append((name, values, absent))
        else:
            sparse.append((name, values))
    # The hot loop, column by column: copies of a dict that holds every key already, each value
    # then put in place. No dict grows and no tuple is made per row: half the time of a
    # dict(zip(names, values)) per row.
    copy = dict.fromkeys(name for name, _values, _absent in dense).copy
    rows = [copy() for _index in range(size)]
    for name, values, _absent in dense:
        for row, value in zip(rows, values, strict=True):
            row[name] = value
    for name, _values, absent in dense:
        for index in absent:
            del rows[index][name]
    for name, values in sparse:  # mostly absent: add the few present values
        for index, value in enumerate(values):
            if value is not ABSENT:
                rows[index][name] = value
    return rows


def _add_to_rows(
    rows: list[dict[str, Any]], lists: dict[str, tuple[list[Any], list[int] | None]]
) -> None:
    for row, extra in zip(rows, _rows(lists, len(rows)), strict=True):
        row.update(extra)


def _add_errors(current: list[FieldError], found: list[FieldError]) -> None:
    """`Cleaned.add_errors`: keep the first problem named per field."""
    named = {error.field for error in current}
    current.extend(error for error in found if error.field not in named)
