"""What the rule builder's templates draw: field groups, groups and conditions with their inputs.

`group_view` turns a draft into a tree of `GroupView`s and `ConditionView`s, each with its errors;
a condition's view says which operators its field offers and which value input to draw (none,
text, number, date, days, a select or a free list) with its current values and, for selects, its
options (`Choices`: users, segments and known values, read once per render). `field_groups` lists
the fields a rule may test, grouped as the field select shows them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from cible.segments import rules
from cible.segments.axes.builder_drafts import Draft, default_op
from cible.segments.rules.operators import MAX_DEPTH, shape_of

# --- what the template shows ----------------------------------------------------------------------


@dataclass
class FieldOption:
    name: str
    label: str


@dataclass
class FieldGroup:
    label: str
    options: list[FieldOption]


@dataclass
class ConditionView:
    key: str
    field: str
    op: str
    ops: list[tuple[str, str]]
    input: str  # none | text | number | date | days | select | list
    values: list[str]
    choices: list[tuple[str, str]]
    step: str = "1"
    help: str = ""
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return False

    @property
    def dom(self) -> str:
        """The node's key as an id fragment ("0.1" → "0-1")."""
        return self.key.replace(".", "-")

    @property
    def pair(self) -> bool:
        return len(self.values) == 2 and self.input in ("number", "date") and self.op == "between"

    @property
    def first(self) -> str:
        return self.values[0] if self.values else ""

    @property
    def second(self) -> str:
        return self.values[1] if len(self.values) > 1 else ""

    @property
    def joined(self) -> str:
        return ", ".join(self.values)


@dataclass
class GroupView:
    key: str
    match: str
    children: list[ConditionView | GroupView]
    depth: int
    errors: list[str] = dataclasses.field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return True

    @property
    def dom(self) -> str:
        return self.key.replace(".", "-") or "root"

    @property
    def can_nest(self) -> bool:
        return self.depth < MAX_DEPTH


def _group_label(name: str, level: rules.Level) -> str:
    if name == "segment":
        return _("Segments")
    prefix = name.split(".", 1)[0] if "." in name else ""
    if prefix == "contacts":
        return _("Its contacts (at least one)")
    if prefix == "opportunities":
        return _("Its opportunities (at least one)")
    if prefix == "organisation":
        return _("Their organisation")
    return _("The organisation") if level == "organisation" else _("The contact")


def field_groups(level: rules.Level) -> list[FieldGroup]:
    groups: dict[str, FieldGroup] = {}
    for rule_field in rules.fields_for(level):
        label = _group_label(rule_field.name, level)
        groups.setdefault(label, FieldGroup(label, [])).options.append(
            FieldOption(rule_field.name, rule_field.label_text)
        )
    return list(groups.values())


class Choices:
    """Option lists read once per render (users, segments, known values of list fields)."""

    def __init__(self) -> None:
        self._cache: dict[str, list[tuple[str, str]]] = {}

    def users(self) -> list[tuple[str, str]]:
        if "users" not in self._cache:
            from cible.people.selectors import user_choices

            self._cache["users"] = [(str(pk), name) for pk, name in user_choices()]
        return self._cache["users"]

    def segments(self) -> list[tuple[str, str]]:
        if "segments" not in self._cache:
            from cible.segments.axes.models import Segment

            self._cache["segments"] = [
                (str(s.pk), f"{s.axis.display_name} › {s.display_name}")
                for s in Segment.objects.select_related("axis").order_by(
                    "axis__position", "axis_id", "position", "pk"
                )
            ]
        return self._cache["segments"]

    def known_values(self, rule_field: rules.RuleField) -> list[tuple[str, str]]:
        """Values a list field holds today (installed products and their categories)."""
        key = f"list:{rule_field.level}:{rule_field.name}"
        if key not in self._cache:
            from cible.segments.rules.sql import relation_path

            try:
                model, _back, lookup = relation_path(rule_field)
                related = model._meta.get_field(lookup.split("__", 1)[0]).related_model
                column = lookup.split("__", 1)[1] if "__" in lookup else lookup
                values = (
                    related._default_manager.exclude(**{column: ""})
                    .order_by(column)
                    .values_list(column, flat=True)
                    .distinct()[:500]
                    if related is not None
                    else []
                )
            except Exception:  # a registered list field of another shape: free text then
                values = []
            self._cache[key] = [(str(v), str(v)) for v in values]
        return self._cache[key]


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return ["" if v is None else str(v) for v in value]
    return [str(value)]


def _condition_view(
    data: Any, key: str, level: rules.Level, choices: Choices, errors: dict[str, list[str]]
) -> ConditionView:
    data = data if isinstance(data, dict) else {}
    name = str(data.get("field") or "")
    rule_field = rules.field_for(level, name)
    view = ConditionView(
        key=key,
        field=name,
        op="",
        ops=[],
        input="none",
        values=[],
        choices=[],
        errors=errors.get(key, []),
    )
    if rule_field is None:
        return view
    kind = rule_field.kind
    view.ops = [(op, rules.operator_label(op)) for op in rules.OPERATORS[kind]]
    op = str(data.get("op") or "")
    view.op = op if op in rules.OPERATORS[kind] else default_op(kind)
    view.help = str(rule_field.help or "")
    shape = shape_of(view.op)
    view.values = _strings(data.get("value"))
    if shape == "none":
        view.input, view.values = "none", []
    elif shape == "days":
        view.input = "days"
    elif kind == "choice":
        view.input, view.choices = "select", rule_field.choice_list()
    elif kind == "reference":
        view.input, view.choices = "select", choices.users()
    elif kind == "segment":
        view.input, view.choices = "select", choices.segments()
    elif kind == "list":
        known = choices.known_values(rule_field)
        view.input, view.choices = ("select", known) if known else ("list", [])
    elif kind == "number":
        view.input = "number"
        view.step = "1" if rule_field.decimal_places == 0 else "any"
    elif kind in ("date", "datetime"):
        view.input = "date"
    elif shape == "many":
        view.input = "list"
    else:
        view.input = "text"
    if view.input == "select":
        known_values = {value for value, _label in view.choices}
        # A value no longer offered (a product since renamed) stays visible and selected.
        view.choices = view.choices + [(v, v) for v in view.values if v not in known_values]
    if shape == "pair":
        view.values = [*view.values, "", ""][:2]
    return view


def group_view(
    draft: Draft | None,
    *,
    level: rules.Level,
    errors: Mapping[str, list[str]] | None = None,
    key: str = "",
    depth: int = 1,
    choices: Choices | None = None,
) -> GroupView:
    """The draft as the template draws it, each node with its errors."""
    errors = dict(errors or {})
    choices = choices or Choices()
    data = draft if isinstance(draft, dict) else {}
    items = data.get("conditions") if isinstance(data.get("conditions"), list) else []
    children: list[ConditionView | GroupView] = []
    for index, item in enumerate(items or []):
        child_key = f"{key}.{index}" if key else str(index)
        if isinstance(item, dict) and "conditions" in item:
            children.append(
                group_view(
                    item,
                    level=level,
                    errors=errors,
                    key=child_key,
                    depth=depth + 1,
                    choices=choices,
                )
            )
        else:
            children.append(_condition_view(item, child_key, level, choices, errors))
    match = data.get("match") if data.get("match") in ("all", "any") else "all"
    return GroupView(
        key=key, match=str(match), children=children, depth=depth, errors=errors.get(key, [])
    )


__all__ = [
    "Choices",
    "ConditionView",
    "FieldGroup",
    "FieldOption",
    "GroupView",
    "field_groups",
    "group_view",
]
