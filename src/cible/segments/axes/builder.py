"""The rule builder: a form field and widget that edit a rule (`cible.segments.rules`) in a page.

Use it in any form, at either level:

    from cible.segments.axes.builder import RuleBuilderField, show_rule_errors

    class PersonaForm(StyledForm):
        rule = RuleBuilderField(level="contact", label=_("Who"))

    # in the view, when the service refuses the data (errors such as "rule.conditions.2.value"):
    except CibleError as error:
        show_rule_errors(form, error)     # each message lands next to the condition it names

and render it like any field (`{{ form.rule }}`) in a page whose `{% block head %}` includes
`segments/_rule_assets.html` (the builder's small script).

How it works. The rule travels as JSON in one hidden input named after the field: that is what the
form posts and what `cleaned_data[name]` gives back (a dict, or None for an optional builder left
without conditions). The visible controls have no name; `static/cible/rules.js` writes the JSON
from them on every input. Structural edits — add a condition or a group, remove one, change a
condition's field or operator, which changes the operators and the value inputs offered — post
that JSON to `segments:rule_builder`, which answers with the builder rendered again by the server
from `rules.fields_for(level)` and `rules.OPERATORS` (`segments/_rule_builder.html`). After such
an edit the builder fires a `change` event on itself, so a form that counts live
(`hx-trigger="change delay:300ms"`) counts again.

Values as the inputs give them: one text, number or date input; two for "between"; a multiple
select for choices, users, segments and lists with known values; for free text lists ("is one
of"), one input whose comma-separated parts are the values. `rules.parse` does all the checking —
in `clean` (unless `validate=False`) and again in the services — and its error paths
(`conditions.0.conditions.1.value`) are shown on the condition they name.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from cible.core.errors import CibleError
from cible.core.forms import show_errors
from cible.segments import rules
from cible.segments.rules.operators import MAX_DEPTH, shape_of

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,59}$")
ACTIONS = ("add", "add_group", "remove", "field", "op", "refresh")

Draft = dict[str, Any]  # a rule group as JSON, possibly incomplete


# --- reading what the page posts ------------------------------------------------------------------


def draft_from(raw: Any) -> Draft | None:
    """The rule posted by the builder (JSON text), a dict (initial values), or None."""
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    return raw if isinstance(raw, dict) else None


def is_blank(draft: Draft | None) -> bool:
    """True when the builder holds no condition at all (an optional rule left empty)."""
    if not draft:
        return True
    items = draft.get("conditions")
    if not isinstance(items, list):
        return False
    return all(isinstance(item, dict) and "conditions" in item and is_blank(item) for item in items)


def _node_at(draft: Draft, path: Sequence[int]) -> Any:
    node: Any = draft
    for index in path:
        items = node.get("conditions") if isinstance(node, dict) else None
        if not isinstance(items, list) or not 0 <= index < len(items):
            return None
        node = items[index]
    return node


def parse_path(text: str) -> tuple[int, ...] | None:
    """ "0.2.1" → (0, 2, 1); "" → () (the root group); anything else → None."""
    if text == "":
        return ()
    parts = text.split(".")
    if len(parts) > MAX_DEPTH + 1 or not all(p.isdigit() and len(p) < 4 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _default_op(kind: str) -> str:
    return {"text": "equals", "number": "equals"}.get(kind, rules.OPERATORS[kind][0])


def _value_fits(op: str, value: Any) -> bool:
    shape = shape_of(op)
    if shape == "none":
        return False
    if shape == "many":
        return isinstance(value, list)
    if shape == "pair":
        return isinstance(value, list) and len(value) == 2
    return not isinstance(value, list | dict)


def settle(condition: dict[str, Any], level: rules.Level) -> None:
    """Give a condition whose field changed an operator of the field's kind (the page may post
    the old operator while the builder is being redrawn)."""
    rule_field = rules.field_for(level, str(condition.get("field") or ""))
    if rule_field is None:
        return
    allowed = rules.OPERATORS[rule_field.kind]
    if condition.get("op") not in allowed:
        condition["op"] = _default_op(rule_field.kind)
        condition.pop("value", None)
    if shape_of(condition["op"]) == "none":
        condition.pop("value", None)


def _settle_all(node: Any, level: rules.Level) -> None:
    if isinstance(node, dict) and isinstance(node.get("conditions"), list):
        for item in node["conditions"]:
            _settle_all(item, level)
    elif isinstance(node, dict):
        settle(node, level)


def edit(draft: Draft | None, *, action: str, at: str, level: rules.Level) -> Draft:
    """The draft after one structural edit at path `at` (a group for add, a node otherwise)."""
    result: Draft = copy.deepcopy(draft) if draft else {"match": "all", "conditions": []}
    result.setdefault("match", "all")
    if not isinstance(result.get("conditions"), list):
        result["conditions"] = []
    path = parse_path(at)
    node = _node_at(result, path) if path is not None else None
    if action in ("add", "add_group") and isinstance(node, dict) and "conditions" in node:
        if not isinstance(node["conditions"], list):
            node["conditions"] = []
        if action == "add":
            node["conditions"].append({"field": "", "op": ""})
        elif len(path or ()) + 1 < MAX_DEPTH:
            node["conditions"].append({"match": "any", "conditions": [{"field": "", "op": ""}]})
    elif action == "remove" and path:
        parent = _node_at(result, path[:-1])
        items = parent.get("conditions") if isinstance(parent, dict) else None
        if isinstance(items, list) and 0 <= path[-1] < len(items):
            del items[path[-1]]
    elif action == "field" and isinstance(node, dict) and "field" in node:
        node.pop("value", None)
        node["op"] = ""
        settle(node, level)
    elif action == "op" and isinstance(node, dict) and "field" in node:
        if not _value_fits(str(node.get("op") or ""), node.get("value")):
            node.pop("value", None)
        settle(node, level)
    _settle_all(result, level)
    return result


# --- errors by path -------------------------------------------------------------------------------


def error_key(path: str) -> tuple[str, str]:
    """A `RuleInvalid` path → (node key "0.1" — "" for the root group —, the part it names:
    field, op, value, match or conditions, "" for the node itself)."""
    tokens = [t for t in path.split(".") if t]
    nodes: list[str] = []
    while len(tokens) >= 2 and tokens[0] == "conditions" and tokens[1].isdigit():
        nodes.append(tokens[1])
        tokens = tokens[2:]
    return ".".join(nodes), tokens[0] if tokens else ""


def where(path: str) -> str:
    """A path said to a person: "condition 2 of group 1" — positions count from 1."""
    key, _part = error_key(path)
    if not key:
        return ""
    numbers = [int(n) + 1 for n in key.split(".")]
    text = pgettext("rule builder", "condition %(n)s") % {"n": numbers[-1]}
    for number in reversed(numbers[:-1]):
        text = _("%(inner)s of group %(n)s") % {"inner": text, "n": number}
    return text


def path_errors(errors: Sequence[Any], prefix: str = "") -> dict[str, list[str]]:
    """FieldErrors whose field starts with `prefix` → messages by node key."""
    found: dict[str, list[str]] = {}
    for error in errors:
        name = error.field or ""
        if prefix:
            if name != prefix and not name.startswith(f"{prefix}."):
                continue
            name = name[len(prefix) + 1 :]
        key, _part = error_key(name)
        found.setdefault(key, []).append(error.message)
    return found


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
    view.op = op if op in rules.OPERATORS[kind] else _default_op(kind)
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


# --- the widget and the field ---------------------------------------------------------------------


class RuleBuilderWidget(forms.Widget):
    """Draws the builder; posts the rule as JSON in one hidden input named after the field."""

    template_name = "segments/_rule_builder.html"

    def __init__(self, level: rules.Level = "organisation", attrs: dict[str, Any] | None = None):
        super().__init__(attrs)
        self.level = level
        self.errors: dict[str, list[str]] = {}  # by node key, set by the field or the view

    def __deepcopy__(self, memo: dict[int, Any]) -> RuleBuilderWidget:
        result = super().__deepcopy__(memo)
        result.errors = {}
        return result  # type: ignore[no-any-return]

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        raw = data.get(name)
        draft = draft_from(raw)
        if draft is None:
            return raw  # "" (nothing) or text that is not JSON: the field says so
        _settle_all(draft, self.level)
        return draft

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        draft = draft_from(value)
        context["widget"].update(builder_context(name, self.level, draft, self.errors))
        if value not in (None, "") and draft is None:
            context["widget"]["unreadable"] = True
        return context


def builder_context(
    name: str, level: rules.Level, draft: Draft | None, errors: Mapping[str, list[str]]
) -> dict[str, Any]:
    """What `_rule_builder.html` needs besides Django's widget context."""
    shown = draft if draft is not None else {"match": "all", "conditions": []}
    return {
        "level": level,
        "rule_json": json.dumps(shown, ensure_ascii=False, default=str),
        "root": group_view(shown, level=level, errors=errors),
        "field_groups": field_groups(level),
    }


class RuleBuilderField(forms.Field):
    """A rule at `level`, edited with the builder; cleaned to its JSON (a dict) or None.

    `validate=True` checks it with `rules.parse` (segment ids included) and puts each problem
    next to its condition; an optional field (`required=False`) left without conditions is None.
    """

    widget = RuleBuilderWidget
    default_error_messages = {
        "required": gettext_lazy("Add at least one condition."),
        "unreadable": gettext_lazy("The rule could not be read; build it again."),
        "invalid_rule": gettext_lazy("Some conditions need fixing (see below)."),
    }

    def __init__(
        self, *, level: rules.Level = "organisation", validate: bool = True, **kwargs: Any
    ) -> None:
        kwargs.setdefault("widget", RuleBuilderWidget(level=level))
        super().__init__(**kwargs)
        self.level = level
        self.validate_rule = validate
        assert isinstance(self.widget, RuleBuilderWidget)
        self.widget.level = level

    def prepare_value(self, value: Any) -> Any:
        return value

    def to_python(self, value: Any) -> Draft | None:
        if value in (None, "", {}):
            return None
        draft = draft_from(value)
        if draft is None:
            raise forms.ValidationError(self.error_messages["unreadable"], code="unreadable")
        return None if is_blank(draft) else draft

    def validate(self, value: Any) -> None:
        if value is None:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return
        if not self.validate_rule:
            return
        try:
            rules.parse(value, level=self.level)
        except rules.RuleInvalid as error:
            widget = self.widget
            assert isinstance(widget, RuleBuilderWidget)
            widget.errors = path_errors(error.errors)
            raise forms.ValidationError(
                self.error_messages["invalid_rule"], code="invalid_rule"
            ) from None


def show_rule_errors(form: forms.Form, error: CibleError) -> None:
    """Like `core.forms.show_errors`, with errors of a rule ("rule.conditions.0.value", or
    "organisation.conditions.1.op" for a builder named organisation) put next to their
    condition, and one line on the field saying some conditions need fixing."""
    builders = {
        name: f
        for name, f in form.fields.items()
        if isinstance(f, RuleBuilderField) and isinstance(f.widget, RuleBuilderWidget)
    }
    rest = []
    for item in error.errors:
        owner = next(
            (
                name
                for name in builders
                if item.field == name or (item.field or "").startswith(f"{name}.")
            ),
            None,
        )
        if owner is None:
            rest.append(item)
            continue
        widget = builders[owner].widget
        assert isinstance(widget, RuleBuilderWidget)
        for key, messages in path_errors([item], owner).items():
            widget.errors.setdefault(key, []).extend(messages)
        if owner not in form.errors:
            form.add_error(owner, builders[owner].error_messages["invalid_rule"])
    if rest:
        show_errors(form, type(error)(errors=rest))


def valid_name(name: str) -> bool:
    return bool(NAME_PATTERN.match(name))


__all__ = [
    "RuleBuilderField",
    "RuleBuilderWidget",
    "builder_context",
    "draft_from",
    "edit",
    "path_errors",
    "show_rule_errors",
    "where",
]
