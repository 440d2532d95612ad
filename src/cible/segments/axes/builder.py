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

The draft it edits (reading, structural edits, errors by path) is in `builder_drafts`, what its
templates draw in `builder_display`; this module holds the widget and the field, and re-exports
the draft helpers other code uses (`builder.draft_from`, `builder.edit`, `builder.where` …).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from cible.core.errors import CibleError
from cible.core.forms import show_errors
from cible.segments import rules
from cible.segments.axes.builder_display import field_groups, group_view
from cible.segments.axes.builder_drafts import (
    Draft,
    draft_from,
    edit,
    is_blank,
    path_errors,
    settle_all,
    where,
)

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,59}$")
ACTIONS = ("add", "add_group", "remove", "field", "op", "refresh")


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
        settle_all(draft, self.level)
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
    "is_blank",
    "path_errors",
    "show_rule_errors",
    "where",
]
