"""A parsed rule tested on one record in Python — the same answer as `sql.to_q` gives in SQL.

A record is a mapping from field name to value:

- organisation level: its own fields (`"headcount": 42`, `"region": "FR-HDF"`, `"owner": 7`),
  lists for its to-many fields, one item per related row (`"contacts.function": ["sales", ""]`,
  `"opportunities.stage": ["won"]`, `"installed_products": ["Salesforce"]`), and `"segment"`: the
  ids of the segments it is in;
- contact level: its own fields, and `"organisation"`: its organisation's record (same shape as
  above) or None.

Missing keys count as missing values (None, or an empty list).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from cible.segments.rules import timeframe
from cible.segments.rules.fold import fold
from cible.segments.rules.operators import NEGATIONS
from cible.segments.rules.sql import replace_level
from cible.segments.rules.tree import Condition, Group


def matches(group: Group, record: Mapping[str, Any]) -> bool:
    """Does `record` pass the rule?"""
    results = (
        matches(node, record) if isinstance(node, Group) else _condition(node, record)
        for node in group.conditions
    )
    return all(results) if group.match == "all" else any(results)


def _condition(condition: Condition, record: Mapping[str, Any]) -> bool:
    f = condition.field
    if f.relation == "organisation":
        organisation = record.get("organisation")
        if not organisation:
            return False
        return _condition(replace_level(condition), organisation)
    if f.kind == "segment":
        held = set(record.get("segment") or ())
        found = bool(held.intersection(condition.value))  # type: ignore[arg-type]
        return found if condition.op == "in" else not found
    if f.kind == "list":
        items = [fold(v) for v in record.get(f.name) or () if v is not None]
        if condition.op in ("is_empty", "is_not_empty"):
            return (not items) == (condition.op == "is_empty")
        wanted = {fold(str(v)) for v in condition.value}  # type: ignore[union-attr]
        found = any(item in wanted for item in items)
        return found if condition.op == "any_of" else not found
    if f.many:
        return any(_value(condition, item) for item in record.get(f.name) or ())
    return _value(condition, record.get(f.name))


def value_matches(condition: Condition, value: Any) -> bool:
    """Does one value of the condition's own column pass it? (Fields of the level's own
    columns only: no relation, list or segment.)"""
    return _value(condition, value)


def _value(condition: Condition, value: Any) -> bool:
    f, op, wanted = condition.field, condition.op, condition.value
    if op in NEGATIONS:
        return not _value(Condition(f, NEGATIONS[op], wanted), value)
    kind = f.kind
    if kind == "text":
        return _text(f.mode, op, wanted, value)
    if op == "is_empty":
        return value is None or (kind == "choice" and value == "")
    if kind == "boolean":
        return value is (op == "is_true")
    if kind in ("choice", "reference"):
        return value is not None and value in wanted  # type: ignore[operator]
    if value is None:
        return False
    if kind == "number":
        return _number(op, wanted, value)
    if kind in ("date", "datetime"):
        return _moment(kind, op, wanted, value)
    raise AssertionError(f"{kind} {op}")


def _text(mode: str, op: str, wanted: Any, value: Any) -> bool:
    text = "" if value is None else str(value)
    if op == "is_empty":
        return text == ""
    if mode == "fold":
        text = fold(text)
        wanted = tuple(fold(v) for v in wanted) if isinstance(wanted, tuple) else fold(wanted)
    if op == "equals":
        return text == wanted
    if op == "in":
        return text in wanted
    if op == "contains":
        return wanted in text
    if op == "starts_with":
        return text.startswith(wanted)
    raise AssertionError(op)


def _number(op: str, wanted: Any, value: Any) -> bool:
    if op == "equals":
        return bool(value == wanted)
    if op == "lt":
        return bool(value < wanted)
    if op == "lte":
        return bool(value <= wanted)
    if op == "gt":
        return bool(value > wanted)
    if op == "gte":
        return bool(value >= wanted)
    if op == "between":
        low, high = wanted
        return bool(low <= value <= high)
    raise AssertionError(op)


def _moment(kind: str, op: str, wanted: Any, value: Any) -> bool:
    if kind == "date" and isinstance(value, dt.datetime):
        value = value.date()
    if op == "between":
        low, high = wanted
        start, end = timeframe.day_start(kind, low), timeframe.day_start(kind, _next(high))
    elif op == "before":
        start, end = None, timeframe.day_start(kind, wanted)
    elif op == "after":
        start, end = timeframe.day_start(kind, _next(wanted)), None
    elif op == "in_last_days":
        start, end = timeframe.last_days(kind, wanted)
    else:
        raise AssertionError(op)
    return (start is None or value >= start) and (end is None or value < end)


def _next(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1)
