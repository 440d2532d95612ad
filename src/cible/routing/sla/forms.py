"""Forms of the policy and calendar editors, and of the one-click rejection in a queue."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.core.calendars import DAY_NAMES
from cible.core.forms import StyledForm
from cible.people.models import Team
from cible.routing.sla.models import BusinessCalendar, Handoff

# ISO weekday digits, as `BusinessCalendar.working_days` stores them.
WEEKDAYS = [(str(day), name) for day, name in enumerate(DAY_NAMES, start=1)]


class CalendarForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, initial="Europe/Paris")
    working_days = forms.MultipleChoiceField(
        label=_("Working days"), choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple
    )
    opening_hours = forms.CharField(
        label=_("Opening hours"),
        max_length=100,
        initial="09:00-12:30, 14:00-18:00",
        help_text=_("One or more ranges, e.g. 09:00-12:30, 14:00-18:00"),
    )
    holidays_country = forms.CharField(
        label=_("Public holidays of (country code)"), max_length=3, required=False, initial="FR"
    )
    holidays_subdivision = forms.CharField(
        label=_("Region (e.g. 57 for Moselle)"), max_length=10, required=False
    )

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["working_days"] = "".join(sorted(data["working_days"]))
        return data


class PolicyForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    handoff = forms.ChoiceField(label=_("Handoff"), choices=Handoff.choices)
    target_minutes = forms.IntegerField(label=_("Target (minutes)"), min_value=1)
    business_hours = forms.BooleanField(
        label=_("Count business hours only"), required=False, initial=True
    )
    calendar = forms.ModelChoiceField(
        label=_("Calendar"), queryset=BusinessCalendar.objects.all(), required=False
    )
    escalate_after_minutes = forms.IntegerField(
        label=_("Reassign after (minutes late)"), min_value=1, required=False
    )
    notify_manager = forms.BooleanField(
        label=_("Notify the owner's team manager"), required=False, initial=True
    )
    notify_owner = forms.BooleanField(label=_("Notify the owner"), required=False)
    team = forms.ModelChoiceField(
        label=_("Only for team"), queryset=Team.objects.all(), required=False
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class RejectForm(StyledForm):
    reason = forms.CharField(label=_("Why Sales rejects it"), max_length=500, required=False)
