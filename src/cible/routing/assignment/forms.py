"""Forms of the routing pages: lenient text in, turned into the services' data.

The rule form writes up to `ROWS` conditions on one level (all or any); an OR of groups is written
in the "advanced" JSON box, the same JSON the API takes. Targets and segments may be named by
their name or their id.

A list of values is written one per line. A line may also list values separated by commas
("FR, BE", as rules were written before), unless the whole line is itself one value: country names
("Korea, Republic of") and names of targets and segments may contain a comma.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core.errors import CibleError, FieldError
from cible.core.forms import StyledForm, show_errors
from cible.core.values import is_id
from cible.lifecycle.leads.models import RecycleReason, Stage
from cible.people.models import Team
from cible.routing.assignment import conditions
from cible.routing.assignment.conditions import FIELDS
from cible.routing.assignment.models import Action, Method
from cible.segments.axes.models import Segment
from cible.segments.rules.operators import operator_label
from cible.segments.targets.models import Target

ROWS = 4
OPS = ("in", "not_in", "gte", "lte", "gt", "lt", "equals", "between", "is_empty", "is_not_empty")
VALUES_HELP = gettext_lazy(
    "Several values: one per line. A line may also list values separated by commas (FR, BE), "
    "unless the whole line is one value, like the country “Korea, Republic of” or a target "
    "named “Paris, Lyon”. Targets and segments by name or id."
)
# A service's error about a row: `conditions.conditions.<n>.<part>` (parse's prefix, then path).
_ROW_ERROR = re.compile(r"^conditions\.conditions\.(\d+)\.(field|op|value)(\.\d+)?$")


def _teams() -> list[tuple[str, str]]:
    return [("", "—"), *((str(t.pk), t.name) for t in Team.objects.order_by("name"))]


def _users() -> list[tuple[str, str]]:
    users = get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name")
    return [("", "—"), *((str(u.pk), u.get_full_name() or u.get_username()) for u in users)]


def _programs() -> list[tuple[str, str]]:
    from cible.nurture.programs.models import NurtureProgram

    return [("", "—"), *((str(p.pk), p.name) for p in NurtureProgram.objects.order_by("name"))]


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class RuleForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=Action.choices)
    method = forms.ChoiceField(label=gettext_lazy("Method"), choices=Method.choices)
    team = forms.ChoiceField(label=gettext_lazy("Team"), required=False)
    user = forms.ChoiceField(label=gettext_lazy("Person"), required=False)
    program = forms.ChoiceField(label=gettext_lazy("Nurture program"), required=False)
    recycle_reason = forms.ChoiceField(
        label=gettext_lazy("Recycle reason"),
        required=False,
        choices=[("", "—"), *RecycleReason.choices],
    )
    match = forms.ChoiceField(
        label=gettext_lazy("Conditions"),
        choices=[("all", gettext_lazy("all must hold")), ("any", gettext_lazy("any may hold"))],
    )
    advanced = forms.CharField(
        label=gettext_lazy("Advanced (JSON, replaces the rows above)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item_rows: list[int] = []  # the form row of each condition rule_data() wrote
        _choice(self, "team").choices = _teams()
        _choice(self, "user").choices = _users()
        _choice(self, "program").choices = _programs()
        field_choices = [("", "—"), *((f.name, str(f.label)) for f in FIELDS.values())]
        op_choices = [(op, operator_label(op)) for op in OPS]
        for i in range(ROWS):
            self.fields[f"field_{i}"] = forms.ChoiceField(
                label=_("Field"), choices=field_choices, required=False
            )
            self.fields[f"op_{i}"] = forms.ChoiceField(
                label=_("Operator"), choices=op_choices, required=False
            )
            self.fields[f"value_{i}"] = forms.CharField(
                label=_("Value"),
                required=False,
                max_length=10_000,
                help_text=VALUES_HELP,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        for name, field in self.fields.items():
            if name.startswith(("field_", "op_", "value_")):
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs["class"] = f"{css} form-control-sm"

    def action_fields(self) -> list[Any]:
        return [self[n] for n in ("action", "method", "team", "user", "program", "recycle_reason")]

    def condition_rows(self) -> list[tuple[Any, Any, Any]]:
        return [(self[f"field_{i}"], self[f"op_{i}"], self[f"value_{i}"]) for i in range(ROWS)]

    @staticmethod
    def initial_for(rule: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": rule.name,
            "active": rule.active,
            "action": rule.action,
            "method": rule.method,
            "team": rule.team_id or "",
            "user": rule.user_id or "",
            "program": rule.program_id or "",
            "recycle_reason": rule.recycle_reason,
            "match": (rule.conditions or {}).get("match", "all"),
        }
        items = (rule.conditions or {}).get("conditions", [])
        if len(items) > ROWS or any("conditions" in item for item in items):
            data["advanced"] = json.dumps(rule.conditions, ensure_ascii=False)
            return data
        for i, item in enumerate(items):
            value = item.get("value")
            name = item.get("field")
            data[f"field_{i}"] = name
            data[f"op_{i}"] = item.get("op")
            if isinstance(value, list):
                condition_field = FIELDS.get(name or "")
                if condition_field is not None and condition_field.kind == "membership":
                    value = _reference_texts(name, value)
                data[f"value_{i}"] = "\n".join(str(v) for v in value)
            else:
                data[f"value_{i}"] = value or ""
        return data

    def rule_data(self) -> tuple[dict[str, Any], list[FieldError]]:
        """The services' data, and the problems found turning names into ids."""
        cleaned = self.cleaned_data
        errors: list[FieldError] = []
        data = {k: cleaned.get(k) for k in ("name", "active", "action", "method", "team")}
        data.update({k: cleaned.get(k) for k in ("user", "program", "recycle_reason")})
        self.item_rows = []
        advanced = (cleaned.get("advanced") or "").strip()
        if advanced:
            try:
                data["conditions"] = json.loads(advanced)
            except ValueError as error:
                errors.append(FieldError("advanced", _("not valid JSON: %(e)s") % {"e": error}))
            return data, errors
        items: list[dict[str, Any]] = []
        for i in range(ROWS):
            name = cleaned.get(f"field_{i}")
            if not name:
                continue
            op = cleaned.get(f"op_{i}") or "in"
            raw = (cleaned.get(f"value_{i}") or "").strip()
            item: dict[str, Any] = {"field": name, "op": op}
            if op in ("in", "not_in"):
                values, problems = _resolved(name, _split(name, raw))
                errors.extend(FieldError(f"value_{i}", problem) for problem in problems)
                item["value"] = values
            elif op == "between":
                lines = [line.strip() for line in raw.splitlines() if line.strip()]
                item["value"] = lines if len(lines) > 1 else [p.strip() for p in raw.split(",")]
            elif op not in ("is_empty", "is_not_empty"):
                item["value"] = raw
            items.append(item)
            self.item_rows.append(i)
        data["conditions"] = {"match": cleaned.get("match") or "all", "conditions": items}
        return data, errors

    def place_errors(self, error: CibleError) -> None:
        """Put the services' errors next to their fields, a condition's next to its own row."""
        rows = self.item_rows
        placed = []
        for item in error.errors:
            found = _ROW_ERROR.match(item.field)
            if found and int(found[1]) < len(rows):
                item = FieldError(f"{found[2]}_{rows[int(found[1])]}", item.message)
            placed.append(item)
        show_errors(self, CibleError(errors=placed))


def _split(name: str, raw: str) -> list[str]:
    """The values typed for a list: one per line, or several on a line separated by commas —
    unless the whole line is one value (a country name or a target's name may hold a comma)."""
    texts: list[str] = []
    for line in raw.splitlines():
        line = line.strip()
        if "," in line and _resolved(name, [line])[1]:
            texts.extend(part.strip() for part in line.split(","))
        else:
            texts.append(line)
    unique: dict[str, str] = {}
    for text in texts:
        if text:
            unique.setdefault(text.casefold(), text)
    return list(unique.values())


def _resolved(name: str, texts: list[str]) -> tuple[list[Any], list[str]]:
    """`texts` as the condition on `name` stores them (codes, ids), without duplicates, and a
    message naming each text that is not a value of this condition."""
    f = FIELDS.get(name)
    if f is None or not texts:
        return texts, []  # the services name an unknown field, or a list left empty
    if f.kind == "membership":
        return _references(name, texts)
    if "in" not in conditions.OPERATORS[f.kind]:
        return texts, []  # a number: the services say the operator does not apply
    try:
        group = conditions.parse({"conditions": [{"field": name, "op": "in", "value": texts}]})
    except conditions.ConditionsInvalid as error:
        return texts, [problem.message for problem in error.errors]
    values = group.walk()[0].value
    return list(dict.fromkeys(values)), []


def _reference_texts(name: str, ids: list[Any]) -> list[Any]:
    """Saved target or segment ids as the editor shows them: by name, where the name reads back
    as the same record (`_references`: unique in any case, and not a number); else the id."""
    model: Any = Target if name == "target" else Segment
    # Each record's name and its lower-case key as the database folds it (as `name__iexact`
    # compares), then how many records bear each key: two queries for the whole list.
    named = {
        pk: (text, key)
        for pk, text, key in model.objects.filter(pk__in=[i for i in ids if is_id(i)])
        .annotate(key=Lower("name"))
        .values_list("pk", "name", "key")
    }
    bearers = dict(
        model.objects.annotate(key=Lower("name"))
        .filter(key__in={key for _text, key in named.values()})
        .values("key")
        .annotate(n=Count("pk"))
        .values_list("key", "n")
    )
    shown: list[Any] = []
    for pk in ids:
        text, key = named.get(pk, ("", ""))
        shown.append(text if text and not is_id(text) and bearers.get(key) == 1 else pk)
    return shown


def _references(name: str, texts: list[str]) -> tuple[list[Any], list[str]]:
    """Targets or segments named by their name (any case) or their id; the services check ids."""
    model: Any = Target if name == "target" else Segment
    found: list[Any] = []
    problems: list[str] = []
    for text in texts:
        pk = (
            int(text)
            if is_id(text)
            else model.objects.filter(name__iexact=text).values_list("pk", flat=True).first()
        )
        if pk is None:
            problems.append(_("no %(kind)s is named “%(name)s”") % {"kind": _(name), "name": text})
        elif pk not in found:
            found.append(pk)
    return found, problems


class MemberForm(StyledForm):
    team = forms.ChoiceField(label=gettext_lazy("Team"))
    user = forms.ChoiceField(label=gettext_lazy("Person"))
    capacity = forms.CharField(label=gettext_lazy("Capacity"), initial="20", max_length=10)
    available = forms.BooleanField(label=gettext_lazy("Available"), required=False, initial=True)
    away_from = forms.CharField(
        label=gettext_lazy("Away from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    away_until = forms.CharField(
        label=gettext_lazy("Away until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "team").choices = _teams()
        _choice(self, "user").choices = _users()


class SettingsForm(StyledForm):
    trigger_stages = forms.MultipleChoiceField(
        label=gettext_lazy("Route leads entering"),
        choices=[(s.value, s.label) for s in (Stage.PROSPECT, Stage.MQL, Stage.SAL, Stage.SQL)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    on_arrival = forms.BooleanField(
        label=gettext_lazy("Route new leads on arrival"), required=False
    )
    account_matching = forms.BooleanField(
        label=gettext_lazy("Account matching first"), required=False
    )
