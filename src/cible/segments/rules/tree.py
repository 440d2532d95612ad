"""A parsed rule: groups of conditions whose fields and values have been checked and typed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from cible.segments.rules.fields import Level, RuleField

Match = Literal["all", "any"]
Scalar = str | int | Decimal | dt.date
Value = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True)
class Condition:
    """`field op value`; `value` is typed by the field's kind: text (already normalised or as
    typed for folded fields), int or Decimal, date, a tuple for lists and `between`, an int of
    days for `in_last_days`, None for operators without a value."""

    field: RuleField
    op: str
    value: Value = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"field": self.field.name, "op": self.op}
        if self.value is not None:
            data["value"] = _json_value(self.value)
        return data


@dataclass(frozen=True)
class Group:
    level: Level
    match: Match
    conditions: tuple[Node, ...]

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON of the rule (normalised values), as stored."""
        return {"match": self.match, "conditions": [c.to_json() for c in self.conditions]}

    def walk(self) -> Iterator[Condition]:
        """Every condition, depth first."""
        for node in self.conditions:
            if isinstance(node, Group):
                yield from node.walk()
            else:
                yield node

    def segment_ids(self) -> set[int]:
        """Segments the rule refers to (through the `segment` pseudo-field)."""
        ids: set[int] = set()
        for condition in self.walk():
            if condition.field.kind == "segment" and isinstance(condition.value, tuple):
                ids.update(int(v) for v in condition.value)  # type: ignore[arg-type]
        return ids

    def fields(self) -> set[RuleField]:
        return {condition.field for condition in self.walk()}


Node = Group | Condition


def _json_scalar(value: Scalar) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def _json_value(value: Value) -> Any:
    if isinstance(value, tuple):
        return [_json_scalar(v) for v in value]
    assert value is not None
    return _json_scalar(value)
