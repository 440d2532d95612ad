"""JSON → a checked, typed rule, or `RuleInvalid` naming every problem by its path.

Paths read like the JSON: `conditions.2.value`, `conditions.0.conditions.1.op`. A rule that parses
can be turned into SQL and evaluated in Python without any further error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core import normalisers as norm
from cible.core import values as core_values
from cible.core.errors import FieldError, ValidationFailed
from cible.core.values import is_id
from cible.segments.rules.fields import LEVELS, Level, RuleField, field_for, fields_for
from cible.segments.rules.fields import resolver_for as _resolver_for
from cible.segments.rules.operators import (
    MAX_DAYS,
    MAX_DEPTH,
    MAX_VALUES,
    OPERATORS,
    shape_of,
)
from cible.segments.rules.tree import Condition, Group, Node, Scalar, Value

MAX_TEXT = 255
MAX_CONDITIONS = 200

KIND_NAMES = {
    "text": gettext_lazy("text"),
    "number": gettext_lazy("a number"),
    "date": gettext_lazy("a date"),
    "datetime": gettext_lazy("a date"),
    "choice": gettext_lazy("a choice"),
    "boolean": gettext_lazy("yes or no"),
    "reference": gettext_lazy("a user id"),
    "list": gettext_lazy("a list"),
    "segment": gettext_lazy("segments"),
}


class RuleInvalid(ValidationFailed):
    """A rule that cannot be used; `errors` holds one FieldError per problem, by path."""


def _echo(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes/no")
    if isinstance(value, int | float | Decimal):
        return _("a number")
    if isinstance(value, str):
        return _("text")
    if isinstance(value, list | tuple):
        return _("a list")
    if isinstance(value, dict):
        return _("an object")
    return _("nothing")


class _Parser:
    def __init__(self, level: Level, resolve: bool) -> None:
        self.level = level
        self.resolve = resolve
        self.errors: list[FieldError] = []
        self.count = 0

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    # --- structure ----------------------------------------------------------------------------

    def group(self, data: Any, path: str, depth: int) -> Group | None:
        where = f"{path}." if path else ""
        if not isinstance(data, dict):
            self.fail(
                path,
                _("a group is an object with “match” (all or any) and “conditions”, not %(type)s")
                % {"type": _type_name(data)},
            )
            return None
        if depth > MAX_DEPTH:
            self.fail(path, _("groups nest at most %(max)s levels deep") % {"max": MAX_DEPTH})
            return None
        match = data.get("match", "all")
        if match not in ("all", "any"):
            self.fail(
                f"{where}match",
                _("“%(value)s” is not a way to combine conditions: use all or any")
                % {"value": _echo(match)},
            )
        items = data.get("conditions")
        if not isinstance(items, list):
            self.fail(
                f"{where}conditions",
                _("“conditions” must be a list of conditions and groups, not %(type)s")
                % {"type": _type_name(items)},
            )
            return None
        if not items:
            self.fail(
                f"{where}conditions",
                _("this group has no condition: add one or remove the group"),
            )
            return None
        nodes: list[Node] = []
        for index, item in enumerate(items):
            node = self.node(item, f"{where}conditions.{index}", depth)
            if node is not None:
                nodes.append(node)
        if len(nodes) != len(items):
            return None
        return Group(level=self.level, match=match, conditions=tuple(nodes))

    def node(self, data: Any, path: str, depth: int) -> Node | None:
        if isinstance(data, dict) and "conditions" in data:
            return self.group(data, path, depth + 1)
        if isinstance(data, dict) and "field" in data:
            self.count += 1
            if self.count > MAX_CONDITIONS:
                if self.count == MAX_CONDITIONS + 1:
                    self.fail(
                        path,
                        _("a rule has at most %(max)s conditions") % {"max": MAX_CONDITIONS},
                    )
                return None
            return self.condition(data, path)
        self.fail(
            path,
            _(
                "expected a condition (an object with “field”, “op” and “value”) or a group "
                "(“match” and “conditions”), not %(type)s"
            )
            % {"type": _type_name(data)},
        )
        return None

    def condition(self, data: dict[str, Any], path: str) -> Condition | None:
        name = data.get("field")
        rule_field = field_for(self.level, name) if isinstance(name, str) else None
        if rule_field is None:
            self.fail(f"{path}.field", self._unknown_field(name))
            return None
        op = data.get("op")
        allowed = OPERATORS[rule_field.kind]
        if op not in allowed:
            self.fail(
                f"{path}.op",
                _("“%(op)s” does not apply to %(field)s (%(kind)s): use %(ops)s")
                % {
                    "op": _echo(op),
                    "field": rule_field.label_text,
                    "kind": KIND_NAMES[rule_field.kind],
                    "ops": ", ".join(allowed),
                },
            )
            return None
        before = len(self.errors)
        value = self.value(rule_field, op, data.get("value"), f"{path}.value")
        if len(self.errors) != before:
            return None
        return Condition(field=rule_field, op=op, value=value)

    def _unknown_field(self, name: Any) -> str:
        if not isinstance(name, str) or not name:
            return _("every condition names a field")
        known = [f.name for f in fields_for(self.level)]
        close = difflib.get_close_matches(name, known, n=1)
        other = next((lv for lv in LEVELS if lv != self.level), None)
        if close:
            return _("unknown field “%(name)s”: did you mean %(close)s?") % {
                "name": _echo(name),
                "close": close[0],
            }
        if other is not None and field_for(other, name) is not None:
            return _("“%(name)s” is a field of the %(other)s, not of the %(level)s") % {
                "name": name,
                "other": _(other),
                "level": _(self.level),
            }
        return _("unknown field “%(name)s”") % {"name": _echo(name)}

    # --- values -------------------------------------------------------------------------------

    def value(self, f: RuleField, op: str, raw: Any, path: str) -> Value:
        shape = shape_of(op)
        if shape == "none":
            if raw not in (None, "", []):
                self.fail(
                    path,
                    _("“%(op)s” takes no value (got “%(value)s”)")
                    % {"op": op, "value": _echo(raw)},
                )
            return None
        if shape == "days":
            return self.days(raw, path)
        if shape == "many":
            items = raw if isinstance(raw, list) else [raw]
            if not items or all(item in (None, "") for item in items):
                self.fail(path, _("give at least one value"))
                return None
            if len(items) > MAX_VALUES:
                self.fail(path, _("at most %(max)s values") % {"max": MAX_VALUES})
                return None
            result: list[Scalar] = []
            for index, item in enumerate(items):
                scalar = self.scalar(f, op, item, f"{path}.{index}" if len(items) > 1 else path)
                if scalar is not None and scalar not in result:
                    result.append(scalar)
            if f.kind == "segment" and len(result) == len(items) and self.resolve:
                self.check_segments(result, path)
            return tuple(result)
        if shape == "pair":
            if not (isinstance(raw, list) and len(raw) == 2):
                self.fail(
                    path,
                    _("“between” takes two values, [low, high], not “%(value)s”")
                    % {"value": _echo(raw)},
                )
                return None
            low = self.scalar(f, op, raw[0], f"{path}.0")
            high = self.scalar(f, op, raw[1], f"{path}.1")
            if low is None or high is None:
                return None
            if low > high:  # type: ignore[operator]
                self.fail(
                    path,
                    _("the low end %(low)s is above the high end %(high)s")
                    % {"low": raw[0], "high": raw[1]},
                )
                return None
            return (low, high)
        return self.scalar(f, op, raw, path)

    def days(self, raw: Any, path: str) -> int | None:
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            self.fail(path, _("give a number of days, not %(type)s") % {"type": _type_name(raw)})
            return None
        try:
            days = int(str(raw).strip())
        except ValueError:
            self.fail(path, _("“%(value)s” is not a number of days") % {"value": _echo(raw)})
            return None
        if not 0 <= days <= MAX_DAYS:
            self.fail(
                path,
                _("a number of days from 0 to %(max)s, not %(value)s")
                % {"max": MAX_DAYS, "value": days},
            )
            return None
        return days

    def scalar(self, f: RuleField, op: str, raw: Any, path: str) -> Scalar | None:
        kind = f.kind
        if kind in ("text", "list", "choice"):
            return self.text(f, op, raw, path)
        if kind == "number":
            return self.number(f, raw, path)
        if kind in ("date", "datetime"):
            return self.date(f, raw, path)
        if kind in ("reference", "segment"):
            return self.identifier(f, raw, path)
        raise AssertionError(kind)  # booleans take no value

    def text(self, f: RuleField, op: str, raw: Any, path: str) -> str | None:
        if not isinstance(raw, str):
            self.fail(
                path,
                _("%(field)s is %(kind)s: “%(value)s” is %(type)s, give it as text")
                % {
                    "field": f.label_text,
                    "kind": KIND_NAMES[f.kind],
                    "value": _echo(raw),
                    "type": _type_name(raw),
                },
            )
            return None
        text = " ".join(raw.split())
        if not text:
            self.fail(path, _("the value is empty: to test for no value, use “is empty”"))
            return None
        if len(text) > MAX_TEXT:
            self.fail(path, _("at most %(max)s characters") % {"max": MAX_TEXT})
            return None
        if f.kind == "choice":
            return self.choice(f, text, path)
        if f.kind == "text" and f.mode == "exact":
            whole = op in ("equals", "not_equals", "in", "not_in")
            normalise = f.normalise if whole else f.fragment
            if normalise is not None:
                try:
                    text = normalise(text)
                except ValueError as error:  # NormalisationError, NaceCodeInvalid
                    message = str(error)
                    if f.label_text.lower() not in message.lower():
                        message = f"{f.label_text}: {message}"
                    self.fail(path, message)
                    return None
                if not text:
                    self.fail(path, _("“%(value)s” leaves nothing to compare") % {"value": raw})
                    return None
        return text

    def choice(self, f: RuleField, text: str, path: str) -> str | None:
        values = f.choice_values()
        if text in values:  # the fast path: stored rules hold stored values
            return text
        choices = f.choice_list()
        candidates = [text]
        if f.normalise is not None:
            with contextlib.suppress(ValueError):
                candidates.insert(0, f.normalise(text))
        for candidate in candidates:
            if candidate in values:
                return candidate
        key = norm.search_key(text)
        for value, label in choices:
            if key in (norm.search_key(value), norm.search_key(label)):
                return value
        shown = ", ".join(value for value, _label in choices[:12])
        if len(choices) > 12:
            shown += ", …"
        self.fail(
            path,
            _("“%(value)s” is not a choice of %(field)s (%(choices)s)")
            % {"value": _echo(text), "field": f.label_text, "choices": shown},
        )
        return None

    def number(self, f: RuleField, raw: Any, path: str) -> int | Decimal | None:
        number: Decimal | None = None
        if isinstance(raw, bool):
            number = None
        elif isinstance(raw, int):
            number = Decimal(raw)
        elif isinstance(raw, float) and math.isfinite(raw):
            number = Decimal(repr(raw))
        elif isinstance(raw, Decimal) and raw.is_finite():
            number = raw
        elif isinstance(raw, str):
            try:
                parsed = Decimal(raw.strip().replace(" ", "").replace("\u202f", ""))
            except InvalidOperation:
                parsed = None
            number = parsed if parsed is not None and parsed.is_finite() else None
        if number is None:
            self.fail(
                path,
                _("%(field)s is a number: “%(value)s” is %(type)s (text compared with a number)")
                % {"field": f.label_text, "value": _echo(raw), "type": _type_name(raw)}
                if isinstance(raw, str)
                else _("%(field)s is a number: “%(value)s” is %(type)s")
                % {"field": f.label_text, "value": _echo(raw), "type": _type_name(raw)},
            )
            return None
        exponent = number.normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if places > f.decimal_places:
            self.fail(
                path,
                _("%(field)s takes whole numbers: “%(value)s” is not one")
                % {"field": f.label_text, "value": _echo(raw)}
                if f.decimal_places == 0
                else _("%(field)s has at most %(places)s decimal places: “%(value)s”")
                % {"field": f.label_text, "places": f.decimal_places, "value": _echo(raw)},
            )
            return None
        if not f.minimum <= number <= f.maximum:
            self.fail(
                path,
                _("%(value)s is out of range for %(field)s (%(min)s to %(max)s)")
                % {"value": _echo(raw), "field": f.label_text, "min": f.minimum, "max": f.maximum},
            )
            return None
        return int(number) if f.decimal_places == 0 else number

    def date(self, f: RuleField, raw: Any, path: str) -> dt.date | None:
        if isinstance(raw, str):
            try:
                day = core_values.date(raw, field=f.name)
            except ValueError:
                day = None
            if day is not None and dt.date(1, 1, 2) <= day <= dt.date(9999, 12, 30):
                return day
        self.fail(
            path,
            _("%(field)s is a date: “%(value)s” is not one (use YYYY-MM-DD)")
            % {"field": f.label_text, "value": _echo(raw)},
        )
        return None

    def identifier(self, f: RuleField, raw: Any, path: str) -> int | None:
        number: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            number = raw
        elif isinstance(raw, str) and is_id(raw.strip()):
            number = int(raw.strip())
        if number is None or not 1 <= number <= 2**63 - 1:
            self.fail(
                path,
                _("%(field)s takes ids (whole numbers): “%(value)s” is not one")
                % {"field": f.label_text, "value": _echo(raw)},
            )
            return None
        return number

    def check_segments(self, ids: Sequence[Scalar], path: str) -> None:
        resolver = _resolver_for("segment")
        if resolver is None:
            return
        unknown = resolver.unknown([int(i) for i in ids])  # type: ignore[arg-type]
        if unknown:
            self.fail(
                path,
                _("no segment has the id %(ids)s") % {"ids": ", ".join(map(str, unknown))},
            )


def parse(data: Any, *, level: Level, resolve: bool = True) -> Group:
    """Check `data` (a rule group as JSON) at `level`; raise RuleInvalid naming each problem.

    `resolve=False` skips asking the resolvers whether referenced ids exist (for rules already
    stored, whose references were checked when they were saved)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    parser = _Parser(level, resolve)
    group = parser.group(data, "", 1)
    if parser.errors or group is None:
        raise RuleInvalid(errors=parser.errors)
    return group


def field_label(f: RuleField) -> str:
    return f.label_text


__all__ = ["KIND_NAMES", "RuleInvalid", "parse"]
