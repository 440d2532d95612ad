"""Forms of the freshness pages: lenient fields, the services validate (core/forms.py)."""

from __future__ import annotations

from typing import Any

from django import forms

from cible.core.forms import StyledForm
from cible.quality.freshness.models import FreshnessPolicy

NUMBERS = (
    "organisation_max_age_days",
    "contact_max_age_days",
    "never_verified_grace_days",
    "task_due_days",
)
TOGGLES = ("email_bounced", "contact_left", "organisation_closed")


def _label(name: str) -> Any:
    return getattr(FreshnessPolicy._meta.get_field(name), "verbose_name", name)


class PolicyForm(StyledForm):
    """The staleness rules. Numbers come in as text ("365", "1 095") for the service to parse."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in NUMBERS:
            self.fields[name] = forms.CharField(
                label=_label(name),
                widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "form-control"}),
            )
        for name in TOGGLES:
            self.fields[name] = forms.BooleanField(
                label=_label(name),
                required=False,
                widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
            )

    @staticmethod
    def initial_from(policy: FreshnessPolicy) -> dict[str, Any]:
        return {name: getattr(policy, name) for name in (*NUMBERS, *TOGGLES)}
