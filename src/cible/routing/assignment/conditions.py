"""A routing rule's conditions: checked JSON → a predicate over one lead's values. No database.

The shape is the segments' rule language (`{"match": "all"|"any", "conditions": [...]}` nesting
groups of `{"field", "op", "value"}`), with its operators (`segments.rules.operators`), at the
level of a lead: its source, campaign, stage, grade, scores and predicted probability, its
organisation's country and region, the targets its contact or organisation is in and the
segments of its organisation. An empty rule matches every lead (a catch-all, usually last).

`parse` names every problem by its path (`conditions.1.value`); `compile_rule` turns a parsed
rule into nested closures over a `LeadFacts`, so deciding a lead costs microseconds: the engine
reads every value in one query per batch (engine.py), never per condition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core.errors import FieldError, ValidationFailed
from cible.core.normalisers import country_choices, french_region_choices
from cible.lifecycle.leads.models import Stage
from cible.people.models import Source
from cible.segments.rules.operators import MAX_DEPTH, MAX_VALUES, NEGATIONS, operator_label

GRADES = tuple(p + e for p in "ABCD" for e in "1234")
MAX_CONDITIONS = 50


@dataclass(frozen=True)
class LeadFacts:
    """What conditions may test of one lead, read in bulk (selectors.lead_facts)."""

    id: int
    source: str = ""
    campaign: int | None = None
    stage: str = ""
    grade: str = ""
    profile_score: int | None = None
    engagement_score: int | None = None
    probability: float | None = None  # percent, 0–100
    country: str = ""
    region: str = ""
    targets: frozenset[int] = field(default_factory=frozenset)
    segments: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class LeadField:
    name: str
    label: Any
    kind: str  # choice, number, reference, membership
    choices: Callable[[], Sequence[tuple[str, Any]]] | None = None
    maximum: int = 100

    def choice_values(self) -> list[str]:
        return [str(v) for v, _label in (self.choices() if self.choices else ())]


OPERATORS: dict[str, tuple[str, ...]] = {
    "choice": ("in", "not_in", "is_empty", "is_not_empty"),
    "number": ("gte", "lte", "gt", "lt", "equals", "between", "is_empty", "is_not_empty"),
    "reference": ("in", "not_in", "is_empty", "is_not_empty"),
    "membership": ("in", "not_in"),
}
_MANY = {"in", "not_in"}


def _stage_choices() -> Sequence[tuple[str, Any]]:
    return Stage.choices


def _source_choices() -> Sequence[tuple[str, Any]]:
    return Source.choices


def _grade_choices() -> Sequence[tuple[str, Any]]:
    return [(g, g) for g in GRADES]


FIELDS: dict[str, LeadField] = {
    f.name: f
    for f in (
        LeadField("source", gettext_lazy("source"), "choice", _source_choices),
        LeadField("campaign", gettext_lazy("campaign"), "reference"),
        LeadField("stage", gettext_lazy("stage"), "choice", _stage_choices),
        LeadField("grade", gettext_lazy("grade"), "choice", _grade_choices),
        LeadField("profile_score", gettext_lazy("profile score"), "number"),
        LeadField("engagement_score", gettext_lazy("engagement score"), "number"),
        LeadField("probability", gettext_lazy("predicted probability (%)"), "number"),
        LeadField("country", gettext_lazy("country"), "choice", country_choices),
        LeadField("region", gettext_lazy("region"), "choice", french_region_choices),
        LeadField("target", gettext_lazy("target"), "membership"),
        LeadField("segment", gettext_lazy("segment"), "membership"),
    )
}

Predicate = Callable[[LeadFacts], bool]


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class Group:
    match: str
    conditions: tuple[Condition | Group, ...]

    def walk(self) -> list[Condition]:
        found: list[Condition] = []
        for node in self.conditions:
            found.extend(node.walk() if isinstance(node, Group) else [node])
        return found

    def ids_of(self, name: str) -> set[int]:
        """Targets ("target") or segments ("segment") the rule refers to."""
        return {int(v) for c in self.walk() if c.field == name for v in c.value or ()}

    def to_json(self) -> dict[str, Any]:
        def node(n: Condition | Group) -> dict[str, Any]:
            if isinstance(n, Group):
                return n.to_json()
            data: dict[str, Any] = {"field": n.field, "op": n.op}
            if n.value is not None:
                data["value"] = list(n.value) if isinstance(n.value, tuple) else n.value
            return data

        return {"match": self.match, "conditions": [node(c) for c in self.conditions]}


EVERY_LEAD = Group("all", ())


class ConditionsInvalid(ValidationFailed):
    """Conditions that cannot be used; one FieldError per problem, by path."""


class _Parser:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.errors: list[FieldError] = []
        self.count = 0

    def fail(self, path: str, message: str) -> None:
        where = ".".join(p for p in (self.prefix, path) if p)
        self.errors.append(FieldError(where, message))

    def group(self, data: Any, path: str, depth: int) -> Group | None:
        at = f"{path}." if path else ""
        if not isinstance(data, dict):
            self.fail(path, _("a group is an object with “match” and “conditions”"))
            return None
        if depth > MAX_DEPTH:
            self.fail(path, _("groups nest at most %(max)s levels deep") % {"max": MAX_DEPTH})
            return None
        match = data.get("match", "all")
        if match not in ("all", "any"):
            self.fail(f"{at}match", _("use all or any, not “%(v)s”") % {"v": str(match)[:40]})
        items = data.get("conditions", [])
        if not isinstance(items, list):
            self.fail(f"{at}conditions", _("“conditions” must be a list"))
            return None
        if not items and depth > 1:
            self.fail(f"{at}conditions", _("this group has no condition: add one or remove it"))
            return None
        nodes: list[Condition | Group] = []
        for index, item in enumerate(items):
            where = f"{at}conditions.{index}"
            node: Condition | Group | None
            if isinstance(item, dict) and "conditions" in item:
                node = self.group(item, where, depth + 1)
            else:
                node = self.condition(item, where)
            if node is not None:
                nodes.append(node)
        return Group(match=match, conditions=tuple(nodes))

    def condition(self, data: Any, path: str) -> Condition | None:
        self.count += 1
        if self.count == MAX_CONDITIONS + 1:
            self.fail(path, _("a rule has at most %(max)s conditions") % {"max": MAX_CONDITIONS})
        if not isinstance(data, dict):
            self.fail(path, _("expected a condition: an object with “field”, “op” and “value”"))
            return None
        name = data.get("field")
        f = FIELDS.get(name) if isinstance(name, str) else None
        if f is None:
            self.fail(
                f"{path}.field",
                _("unknown field “%(name)s”: use %(known)s")
                % {"name": str(name)[:40], "known": ", ".join(FIELDS)},
            )
            return None
        op = data.get("op")
        if op not in OPERATORS[f.kind]:
            self.fail(
                f"{path}.op",
                _("“%(op)s” does not apply to %(field)s: use %(ops)s")
                % {"op": str(op)[:40], "field": f.label, "ops": ", ".join(OPERATORS[f.kind])},
            )
            return None
        raw = data.get("value")
        if op in ("is_empty", "is_not_empty"):
            return Condition(f.name, op)
        before = len(self.errors)
        value = self.value(f, op, raw, f"{path}.value")
        if len(self.errors) != before:
            return None
        return Condition(f.name, op, value)

    def value(self, f: LeadField, op: str, raw: Any, path: str) -> Any:
        if op in _MANY:
            items = raw if isinstance(raw, list) else [raw]
            items = [i for i in items if i not in (None, "")]
            if not items:
                self.fail(path, _("give at least one value"))
                return None
            if len(items) > MAX_VALUES:
                self.fail(path, _("at most %(max)s values") % {"max": MAX_VALUES})
                return None
            if f.kind == "choice":
                return tuple(self.choice(f, i, path) for i in items)
            return tuple(self.identifier(f, i, path) for i in items)
        if op == "between":
            if not (isinstance(raw, list) and len(raw) == 2):
                self.fail(path, _("“between” takes two values, [low, high]"))
                return None
            low, high = self.number(f, raw[0], f"{path}.0"), self.number(f, raw[1], f"{path}.1")
            if low is not None and high is not None and low > high:
                self.fail(path, _("the low end %(low)s is above the high end") % {"low": low})
            return (low, high)
        return self.number(f, raw, path)

    def choice(self, f: LeadField, raw: Any, path: str) -> str:
        text = str(raw).strip()
        values = f.choice_values()
        if text in values:
            return text
        for value, label in f.choices() if f.choices else ():
            if text.casefold() in (str(value).casefold(), str(label).casefold()):
                return str(value)
        shown = ", ".join(values[:12]) + (", …" if len(values) > 12 else "")
        self.fail(
            path,
            _("“%(value)s” is not a %(field)s (%(choices)s)")
            % {"value": text[:40], "field": f.label, "choices": shown},
        )
        return text

    def identifier(self, f: LeadField, raw: Any, path: str) -> int:
        if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw < 2**63:
            return raw
        if isinstance(raw, str) and raw.strip().isdigit() and 1 <= int(raw) < 2**63:
            return int(raw)
        self.fail(
            path,
            _("%(field)s takes ids (whole numbers): “%(value)s” is not one")
            % {"field": f.label, "value": str(raw)[:40]},
        )
        return 0

    def number(self, f: LeadField, raw: Any, path: str) -> float | None:
        number: Decimal | None = None
        if isinstance(raw, int | float | str) and not isinstance(raw, bool):
            try:
                number = Decimal(str(raw).strip().replace(",", "."))
            except InvalidOperation:
                number = None
        if number is None or not number.is_finite():
            self.fail(
                path,
                _("%(field)s is a number: “%(value)s” is not one")
                % {"field": f.label, "value": str(raw)[:40]},
            )
            return None
        if not 0 <= number <= f.maximum:
            self.fail(
                path,
                _("%(field)s runs from 0 to %(max)s, not %(value)s")
                % {"field": f.label, "max": f.maximum, "value": number},
            )
            return None
        return float(number)


def parse(data: Any, *, prefix: str = "conditions") -> Group:
    """Check `data`; raise ConditionsInvalid naming each problem by its path under `prefix`."""
    if data in (None, "", {}, []):
        return EVERY_LEAD
    parser = _Parser(prefix)
    group = parser.group(data, "", 1)
    if parser.errors or group is None:
        raise ConditionsInvalid(errors=parser.errors)
    return group


# --- compiling ----------------------------------------------------------------------------------


def compile_rule(group: Group) -> Predicate:
    """`group` as one closure over LeadFacts (the same answer as `matches`, much faster)."""
    parts = [compile_rule(n) if isinstance(n, Group) else _compile(n) for n in group.conditions]
    if not parts:
        return lambda facts: True
    if len(parts) == 1:
        return parts[0]
    if group.match == "all":
        return lambda facts: all(p(facts) for p in parts)
    return lambda facts: any(p(facts) for p in parts)


def _attr(name: str) -> str:
    return {"target": "targets", "segment": "segments"}.get(name, name)


def _compile(c: Condition) -> Predicate:
    if c.op in NEGATIONS:
        positive = _compile(Condition(c.field, NEGATIONS[c.op], c.value))
        return lambda facts: not positive(facts)
    attr = _attr(c.field)
    kind = FIELDS[c.field].kind
    if kind == "membership":
        wanted_ids = frozenset(c.value)
        return lambda facts: not wanted_ids.isdisjoint(getattr(facts, attr))
    if c.op == "is_empty":
        return lambda facts: getattr(facts, attr) in (None, "")
    if c.op == "in":
        wanted = frozenset(c.value)
        return lambda facts: getattr(facts, attr) in wanted
    limit = c.value
    number_tests: dict[str, Callable[[float], bool]] = {
        "gte": lambda v: v >= limit,
        "lte": lambda v: v <= limit,
        "gt": lambda v: v > limit,
        "lt": lambda v: v < limit,
        "equals": lambda v: v == limit,
        "between": lambda v: limit[0] <= v <= limit[1],
    }
    test = number_tests[c.op]

    def number(facts: LeadFacts) -> bool:
        value = getattr(facts, attr)
        return value is not None and test(value)

    return number


def describe(group: Group, *, names: dict[tuple[str, int], str] | None = None) -> str:
    """The rule in words, e.g. "source is one of Website and grade is one of A1, A2"."""
    names = names or {}
    if not group.conditions:
        return _("every lead")
    joiner = _(" and ") if group.match == "all" else _(" or ")
    words: list[str] = []
    for node in group.conditions:
        if isinstance(node, Group):
            words.append(f"({describe(node, names=names)})")
            continue
        f = FIELDS[node.field]
        text = f"{f.label} {operator_label(node.op)}"
        if isinstance(node.value, tuple) and node.op in _MANY:
            labels = dict(f.choices()) if f.choices else {}
            shown = [
                str(labels.get(v, names.get((node.field, v), v)))
                for v in node.value  # type: ignore[call-overload]
            ]
            text += " " + ", ".join(shown)
        elif isinstance(node.value, tuple):
            text += f" {node.value[0]:g}–{node.value[1]:g}"
        elif node.value is not None:
            text += f" {node.value:g}"
        words.append(text)
    return joiner.join(words)
