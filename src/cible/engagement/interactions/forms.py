"""The "more details" of a call or a meeting logged from a record's page. Lenient fields: the
service decides what is valid, so the page and the API refuse the same things."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.forms import StyledForm
from cible.engagement.interactions.models import LOGGED_BY_HAND, InteractionOutcome


class LogForm(StyledForm):
    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in LOGGED_BY_HAND])
    outcome = forms.ChoiceField(choices=InteractionOutcome.choices)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=255)
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=0, max_value=24 * 60
    )
    occurred_at = forms.DateTimeField(
        label=_("When (empty: now)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
    )

    def service_arguments(self) -> dict[str, Any]:
        """What `services.interaction_log` takes, from the cleaned data."""
        data = self.cleaned_data
        minutes = data.get("duration_minutes")
        occurred_at: dt.datetime | None = data.get("occurred_at")
        if occurred_at is not None and timezone.is_naive(occurred_at):
            occurred_at = timezone.make_aware(occurred_at)
        return {
            "kind": data["kind"],
            "outcome": data["outcome"],
            "subject": data.get("subject") or "",
            "notes": data.get("notes") or "",
            "duration_seconds": None if minutes is None else minutes * 60,
            "occurred_at": occurred_at,
        }
