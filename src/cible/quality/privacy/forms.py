"""Forms of the privacy pages: lenient fields, the services validate (core/forms.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cible.core.forms import StyledForm
from cible.quality.privacy.models import (
    ConsentCondition,
    ConsentSource,
    ConsentStatus,
    ContactChannel,
    Purpose,
)


def _purpose_choices() -> list[tuple[str, Any]]:
    return [("all", _("All purposes of the channel"))] + [
        (p.code, p.name) for p in Purpose.objects.filter(is_active=True)
    ]


class ConsentForm(StyledForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=ContactChannel.choices)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=())
    status = forms.ChoiceField(label=_("Status"), choices=ConsentStatus.choices)
    source = forms.ChoiceField(label=_("Source"), choices=ConsentSource.choices, initial="ui")
    occurred_at = forms.CharField(
        label=_("Given or withdrawn on"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: now."),
    )
    proof_form = forms.CharField(
        label=_("Form or page"),
        required=False,
        help_text=_("Where the person said it: a web form's name, an email, a phone call."),
    )
    proof_text = forms.CharField(
        label=_("Text shown to the person"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    proof_ip = forms.CharField(label=_("IP address"), required=False)
    proof_email = forms.CharField(label=_("Email address used"), required=False)
    proof_reference = forms.CharField(
        label=_("Reference"),
        required=False,
        help_text=_("e.g. a ticket number, the subject of the person's email."),
    )
    note = forms.CharField(label=_("Note"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = _purpose_choices()  # type: ignore[attr-defined]

    def clean_occurred_at(self) -> Any:
        """The browser sends local time without a zone: it is the user's time (Paris)."""
        raw = self.cleaned_data.get("occurred_at") or ""
        try:
            moment = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            return raw  # the service names the problem
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment

    def proof(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "form": data.get("proof_form"),
            "text": data.get("proof_text"),
            "ip": data.get("proof_ip"),
            "email": data.get("proof_email"),
            "reference": data.get("proof_reference"),
            "note": data.get("note"),
        }


class EraseForm(StyledForm):
    reason = forms.CharField(
        label=_("Why"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "e.g. “Request received by email on 3 March, ticket 1234”. Do not write the "
            "person's name: this reason is kept after the erasure."
        ),
    )
    confirm = forms.CharField(
        label=_("Type the contact number to confirm"),
        help_text=_("The erasure cannot be undone."),
    )

    def __init__(self, *args: Any, contact_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contact_id = contact_id

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip().lstrip("#")
        if value != str(self.contact_id):
            raise forms.ValidationError(
                _("Type %(id)s to confirm the erasure of this contact."),
                params={"id": self.contact_id},
            )
        return value


class RetentionRuleForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=150)
    consent = forms.ChoiceField(label=_("Consent"), choices=ConsentCondition.choices)
    inactive_months = forms.CharField(
        label=_("Months without activity"),
        widget=forms.NumberInput(attrs={"min": 1, "max": 600}),
    )
    exclude_customers = forms.BooleanField(
        label=_("Keep customers (lifecycle stage Customer)"), required=False, initial=True
    )
    is_active = forms.BooleanField(label=_("Run every night"), required=False)


class PurposeForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), required=False, max_length=255)
    requires_consent = forms.BooleanField(
        label=_("Requires explicit consent (opt-in)"), required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    position = forms.CharField(
        label=_("Order"), required=False, widget=forms.NumberInput(attrs={"min": 0})
    )
