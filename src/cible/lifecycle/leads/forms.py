"""Forms of the lead pages: lenient fields, the services decide what is valid (core.forms)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.core.forms import StyledForm
from cible.lifecycle.leads import moves
from cible.lifecycle.leads.models import (
    Authority,
    Budget,
    DisqualifyReason,
    Need,
    RecycleReason,
    Stage,
    Timing,
)
from cible.people.models import Source


def _choices(choices: Any) -> list[tuple[str, Any]]:
    return [(value, label) for value, label in choices]


class QualifyForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    budget = forms.ChoiceField(label=_("Budget"), choices=Budget.choices, required=False)
    authority = forms.ChoiceField(label=_("Authority"), choices=Authority.choices, required=False)
    need = forms.ChoiceField(label=_("Need"), choices=Need.choices, required=False)
    timing = forms.ChoiceField(label=_("Timing"), choices=Timing.choices, required=False)
    notes = forms.CharField(
        label=_("Qualification notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )


class MoveForm(StyledForm):
    """One form for every hand move; the page shows the fields the chosen action needs."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    to_stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices)
    reason = forms.CharField(label=_("Reason"), required=False)
    requalify_on = forms.CharField(
        label=_("Re-qualify on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


class RejectForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why Sales rejects it"), max_length=500)
    requalify_on = forms.CharField(
        label=_("Re-qualify on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class OpenLeadForm(StyledForm):
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices)
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[(s, Stage(s).label) for s in moves.OPENING]
    )


class ConvertForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Opportunity name"), max_length=255, required=False)
    one_time_amount = forms.CharField(label=_("One-time amount"), required=False)
    recurring_amount = forms.CharField(label=_("Monthly recurring amount"), required=False)
    expected_close_date = forms.CharField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class DefinitionForm(StyledForm):
    """A new version of a stage definition: the team's words, and the part that is a rule."""

    stage = forms.ChoiceField(
        label=_("Stage"), choices=[(s, Stage(s).label) for s in moves.DEFINABLE]
    )
    text = forms.CharField(
        label=_("Definition"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    min_profile_score = forms.IntegerField(
        label=_("Minimum profile score"), required=False, min_value=0, max_value=100
    )
    min_engagement_score = forms.IntegerField(
        label=_("Minimum engagement score"), required=False, min_value=0, max_value=100
    )
    grades = forms.CharField(
        label=_("Grades (comma separated, e.g. A1, A2)"), required=False, max_length=200
    )
    budget = forms.MultipleChoiceField(
        label=_("Budget"),
        choices=[c for c in Budget.choices if c[0]],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    authority = forms.MultipleChoiceField(
        label=_("Authority"),
        choices=[c for c in Authority.choices if c[0]],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    need = forms.MultipleChoiceField(
        label=_("Need"),
        choices=[c for c in Need.choices if c[0]],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    timing = forms.MultipleChoiceField(
        label=_("Timing"),
        choices=[c for c in Timing.choices if c[0]],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def criteria(self) -> dict[str, Any]:
        """The rule as the services take it (they validate it)."""
        data = self.cleaned_data
        rule: dict[str, Any] = {}
        for key in ("min_profile_score", "min_engagement_score"):
            if data.get(key) is not None:
                rule[key] = data[key]
        grades = [g.strip().upper() for g in (data.get("grades") or "").split(",") if g.strip()]
        if grades:
            rule["grades"] = grades
        bant = {part: list(data[part]) for part in ("budget", "authority", "need", "timing")}
        bant = {part: values for part, values in bant.items() if values}
        if bant:
            rule["bant"] = bant
        return rule


RECYCLE_REASONS = [
    c for c in RecycleReason.choices if c[0] not in ("rejected_by_sales", "opportunity_lost")
]
DISQUALIFY_REASONS = list(DisqualifyReason.choices)
