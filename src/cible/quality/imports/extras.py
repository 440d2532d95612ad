"""Generic extensions of the engine for entities that keep more than their own columns.

- **Extra columns**: an entity may name a JSON field (`ImportableEntity.extras`, e.g. a lead's
  `properties`) to which any number of columns can be mapped; each row keeps those cells under
  their header, typed: numbers as numbers (French decimal commas read), yes/no as booleans, the
  rest as tidy text. Empty cells are left out, so a blank cell never erases a stored value;
  `merge` combines what a record holds with what a row brings, by the import's policy.
- **Blank literals**: a preset may say which literal means "not filled in" ("Select" in the
  X Education export); every mapped cell holding it is read as empty when the file's headers
  are recognised as that preset's, however the mapping was made (preset, memory, by hand).
- **After-write hook**: `Written` is what an entity's `after_write` receives inside the batch's
  transaction: the records created and updated, with the previous values of what changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db import models
from django.utils.translation import gettext as _

from cible.core.errors import FieldError
from cible.quality.imports.registry import ImportableEntity

MAX_TEXT = 1_000  # characters kept per extra cell; longer cells are refused, not cut
_TRUE = frozenset({"yes", "true", "oui", "vrai"})
_FALSE = frozenset({"no", "false", "non", "faux"})
# No leading zero (a code such as "007" or "06100" stays text), at most 15 digits (exact in JSON).
_NUMBER = re.compile(r"[+-]?(?:0|[1-9][0-9]{0,14})(?:[.,][0-9]{1,12})?")
_GROUPS = re.compile(r"[\s\u00a0\u202f]")


def typed(raw: Any) -> Any:
    """The JSON value of one cell: None when empty, else a bool, an int, a float or text."""
    if raw is None:
        return None
    text = " ".join(str(raw).split())
    if not text:
        return None
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    compact = _GROUPS.sub("", text)
    if _NUMBER.fullmatch(compact):
        if "." in compact or "," in compact:
            return float(compact.replace(",", "."))
        return int(compact)
    return text


def kind_of(value: Any) -> str:
    """ "boolean", "number" or "text": how a typed value is described to people and models."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "text"


def extra_columns(entity: ImportableEntity, mapping: Mapping[str, str | None]) -> list[str]:
    """The columns mapped to the entity's extras field, in file order."""
    if not entity.extras:
        return []
    return [column for column, target in mapping.items() if target == entity.extras]


def collect(
    frame: pl.DataFrame, columns: Sequence[str], name: str
) -> tuple[list[dict[str, Any]], dict[int, list[FieldError]]]:
    """Per row of `frame`, {header: typed value} of the non-empty cells of `columns`, and the
    rows refused (by position) with the reason. Each distinct cell is typed once."""
    size = frame.height
    rows: list[dict[str, Any]] = [{} for _index in range(size)]
    errors: dict[int, list[FieldError]] = {}
    for column in columns:
        raws = frame.get_column(column).cast(pl.String).to_list()
        memo = {raw: typed(raw) for raw in set(raws)}
        header = " ".join(column.split())
        for index, raw in enumerate(raws):
            value = memo[raw]
            if value is None:
                continue
            if isinstance(value, str) and len(value) > MAX_TEXT:
                message = _("“%(column)s” is too long (at most %(max)s characters)") % {
                    "column": header,
                    "max": MAX_TEXT,
                }
                errors.setdefault(index, []).append(FieldError(name, message))
                continue
            rows[index][header] = value
    return rows, errors


def merge(old: Any, new: Mapping[str, Any], *, overwrite: bool) -> dict[str, Any]:
    """What a record's extras become: the row's keys added (`overwrite`: replacing theirs too)."""
    stored = dict(old) if isinstance(old, Mapping) else {}
    if overwrite:
        return {**stored, **new}
    return {**new, **stored}


def blank_literals(entity: ImportableEntity, columns: list[str]) -> frozenset[str]:
    """The literals read as empty in a file with these headers (see the module docstring)."""
    from cible.quality.imports.mapping import detect_preset

    if not any(preset.blanks for preset in entity.presets):
        return frozenset()
    preset = detect_preset(entity, columns)
    return frozenset(preset.blanks) if preset is not None else frozenset()


def blank_out(frame: pl.DataFrame, columns: Sequence[str], blanks: frozenset[str]) -> pl.DataFrame:
    """`frame` with the cells of `columns` that hold one of `blanks` (trimmed) made empty."""
    if not blanks or not columns:
        return frame
    literals = sorted(blanks)
    return frame.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.strip_chars().is_in(literals))
        .then(None)
        .otherwise(pl.col(c))
        .alias(c)
        for c in columns
    )


def json_columns(model: type[models.Model], columns: Sequence[str]) -> list[int]:
    """Positions of JSON fields among `columns`: the raw bulk paths take them as JSON text."""
    return [
        index
        for index, name in enumerate(columns)
        if name != "id" and isinstance(model._meta.get_field(name), models.JSONField)
    ]


def as_json(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Written:
    """One committed-to-be batch, as an entity's `after_write` sees it."""

    run: Any  # the ImportRun
    actor: Any
    created: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (id, values)
    # (id, the changed columns' new values, their values before the batch)
    updated: list[tuple[int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
