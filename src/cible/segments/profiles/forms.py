"""Forms of the ideal-customer-profile and persona pages: lenient fields, the rule builder for
rules; the services validate (`core/forms.py`).

A profile's criteria are a variable list of small forms, one per row of the editor, each with its
own prefix (`c0`, `c3` …: the numbers only tell the rows apart; rows removed in the page leave
gaps). The page posts the prefixes in use as `rows`, in the order shown, which is the criteria's
order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.core.forms import StyledForm
from cible.core.values import is_id
from cible.segments.axes.builder import RuleBuilderField
from cible.segments.profiles.models import (
    MAX_CRITERIA,
    MAX_WEIGHT,
    IdealCustomerProfile,
    Persona,
    ProfileCriterion,
    Purpose,
)

CODE_HELP = _("Small letters, digits and dashes; made from the name when left empty.")


class ProfileForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(label=_("Code"), required=False, max_length=200, help_text=CODE_HELP)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=IdealCustomerProfile._meta.get_field("is_active").help_text,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    @staticmethod
    def initial_from(profile: IdealCustomerProfile | None) -> dict[str, Any]:
        if profile is None:
            return {"purpose": Purpose.CONQUEST, "is_active": True}
        names = ("name", "code", "purpose", "description", "is_active", "version")
        return {name: getattr(profile, name) for name in names}

    def data_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "code": data.get("code") or "",
            "purpose": data["purpose"],
            "description": data.get("description") or "",
            "is_active": bool(data.get("is_active")),
        }


class CriterionForm(StyledForm):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    label = forms.CharField(label=_("Criterion"), max_length=300)
    weight = forms.CharField(
        label=_("Weight"),
        initial=1,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
        help_text=_("1 to %(max)s") % {"max": MAX_WEIGHT},
    )
    rule = RuleBuilderField(level="organisation", label=_("Organisations that meet it"))

    @staticmethod
    def initial_from(criterion: ProfileCriterion) -> dict[str, Any]:
        return {
            "id": criterion.pk,
            "label": criterion.label,
            "weight": criterion.weight,
            "rule": criterion.rule,
        }

    def data_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        item: dict[str, Any] = {
            "label": data["label"],
            "weight": data["weight"],
            "rule": data["rule"],
        }
        if data.get("id") is not None:
            item["id"] = data["id"]
        return item


def row_prefixes(data: Mapping[str, Any]) -> list[str]:
    """The prefixes of the criterion rows a page posted, in order (one past the maximum, so
    that the service can say there are too many)."""
    rows = data.getlist("rows") if hasattr(data, "getlist") else data.get("rows", [])
    seen: list[str] = []
    for row in rows:
        if is_id(row) and len(str(row)) < 5 and f"c{row}" not in seen:
            seen.append(f"c{row}")
    return seen[: MAX_CRITERIA + 1]


def next_row(data: Mapping[str, Any]) -> int:
    """The number of a row added to those posted."""
    numbers = [int(prefix[1:]) for prefix in row_prefixes(data)]
    return max(numbers, default=-1) + 1


class PersonaForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(label=_("Code"), required=False, max_length=200, help_text=CODE_HELP)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    position = forms.CharField(
        label=_("Position"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("Personas are listed by increasing position."),
    )
    rule = RuleBuilderField(
        level="contact",
        label=_("Who they are"),
        help_text=_("Function, seniority, buying role… and their organisation's fields."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    @staticmethod
    def initial_from(persona: Persona | None) -> dict[str, Any]:
        if persona is None:
            return {}
        names = ("name", "code", "description", "position", "rule", "version")
        return {name: getattr(persona, name) for name in names}

    def data_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            "name": data["name"],
            "code": data.get("code") or "",
            "description": data.get("description") or "",
            "rule": data["rule"],
        }
        position = (data.get("position") or "").strip()
        if position:
            values["position"] = int(position) if is_id(position) else position
        return values
