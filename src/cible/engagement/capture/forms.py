"""The form builder's form: the settings of a web form, and one row per catalogue field
(asked or not, labels in French and English, required, order). Lenient: the service decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.core.forms import StyledForm
from cible.engagement.campaigns.models import Campaign
from cible.engagement.capture import fields
from cible.engagement.capture.models import WebForm
from cible.engagement.capture.services import FORM_KINDS
from cible.engagement.interactions.models import InteractionKind

SETTINGS = (
    "name",
    "interaction_kind",
    "campaign",
    "title_fr",
    "title_en",
    "thank_you_fr",
    "thank_you_en",
    "redirect_url",
    "content_url",
    "allowed_origins",
    "consent_text_fr",
    "consent_text_en",
    "consent_required",
    "is_active",
)


class WebFormForm(StyledForm):
    name = forms.CharField(label=_("Name"), required=False, max_length=1000)
    interaction_kind = forms.ChoiceField(label=_("Each submission records a"))
    campaign = forms.ModelChoiceField(
        label=_("Campaign"), queryset=Campaign.objects.none(), required=False
    )
    title_fr = forms.CharField(label=_("Title (French)"), required=False, max_length=1000)
    title_en = forms.CharField(label=_("Title (English)"), required=False, max_length=1000)
    thank_you_fr = forms.CharField(
        label=_("Thank-you message (French)"), required=False, max_length=2000
    )
    thank_you_en = forms.CharField(
        label=_("Thank-you message (English)"), required=False, max_length=2000
    )
    redirect_url = forms.CharField(
        label=_("Redirect after submitting"), required=False, max_length=2000
    )
    content_url = forms.CharField(
        label=_("Content offered (lead magnet)"), required=False, max_length=2000
    )
    allowed_origins = forms.CharField(
        label=_("Websites allowed to embed the form"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One address per line, e.g. https://www.example.com"),
    )
    consent_text_fr = forms.CharField(
        label=_("Consent text (French)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    consent_text_en = forms.CharField(
        label=_("Consent text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    consent_required = forms.BooleanField(label=_("Consent required"), required=False)
    is_active = forms.BooleanField(label=_("Accepting submissions"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, campaigns: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interaction_kind"].choices = [  # type: ignore[attr-defined]
            (kind.value, kind.label) for kind in InteractionKind if kind in FORM_KINDS
        ]
        if campaigns is not None:
            self.fields["campaign"].queryset = campaigns  # type: ignore[attr-defined]
        for position, kind in enumerate(fields.CATALOGUE, start=1):
            self.fields[f"use_{kind.key}"] = forms.BooleanField(required=False)
            self.fields[f"label_fr_{kind.key}"] = forms.CharField(
                required=False,
                max_length=1000,
                widget=forms.TextInput(attrs={"placeholder": kind.label_fr}),
            )
            self.fields[f"label_en_{kind.key}"] = forms.CharField(
                required=False,
                max_length=1000,
                widget=forms.TextInput(attrs={"placeholder": kind.label_en}),
            )
            self.fields[f"required_{kind.key}"] = forms.BooleanField(required=False)
            self.fields[f"order_{kind.key}"] = forms.IntegerField(
                required=False, min_value=0, max_value=999, initial=position
            )
        for key in ("use_email", "required_email"):
            self.fields[key].disabled = True
            self.fields[key].initial = True
        for name, field in self.fields.items():  # the rows added after StyledForm's styling
            if name.startswith(("label_", "order_")):
                field.widget.attrs["class"] = "form-control form-control-sm"
            elif name.startswith(("use_", "required_")):
                field.widget.attrs["class"] = "form-check-input"

    def settings_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in SETTINGS]

    def catalogue_rows(self) -> list[dict[str, Any]]:
        """The field rows, in the order the builder chose, for the template."""
        rows = []
        for kind in fields.CATALOGUE:
            rows.append(
                {
                    "key": kind.key,
                    "use": self[f"use_{kind.key}"],
                    "label_fr": self[f"label_fr_{kind.key}"],
                    "label_en": self[f"label_en_{kind.key}"],
                    "required": self[f"required_{kind.key}"],
                    "order": self[f"order_{kind.key}"],
                }
            )
        return rows

    def service_data(self) -> dict[str, Any]:
        """What the service receives: the settings, and the chosen fields in their order."""
        data = {name: self.cleaned_data.get(name) for name in SETTINGS}
        chosen = []
        for position, kind in enumerate(fields.CATALOGUE):
            if kind.key != "email" and not self.cleaned_data.get(f"use_{kind.key}"):
                continue
            order = self.cleaned_data.get(f"order_{kind.key}")
            chosen.append(
                (
                    order if order is not None else 999,
                    position,
                    {
                        "field": kind.key,
                        "label_fr": self.cleaned_data.get(f"label_fr_{kind.key}") or "",
                        "label_en": self.cleaned_data.get(f"label_en_{kind.key}") or "",
                        "required": bool(self.cleaned_data.get(f"required_{kind.key}")),
                    },
                )
            )
        data["fields"] = [item for _order, _position, item in sorted(chosen, key=lambda c: c[:2])]
        return data


def initial_for(form: WebForm | None) -> dict[str, Any]:
    if form is None:
        initial: dict[str, Any] = {"is_active": True, "consent_required": True}
        spec = fields.default_fields()
    else:
        initial = {name: getattr(form, name) for name in SETTINGS}
        initial["campaign"] = form.campaign_id
        initial["version"] = form.version
        spec = form.fields
    for position, item in enumerate(spec, start=1):
        key = item["field"]
        initial[f"use_{key}"] = True
        initial[f"label_fr_{key}"] = item.get("label_fr", "")
        initial[f"label_en_{key}"] = item.get("label_en", "")
        initial[f"required_{key}"] = bool(item.get("required"))
        initial[f"order_{key}"] = position
    offset = len(spec)
    for position, kind in enumerate(fields.CATALOGUE, start=1):
        initial.setdefault(f"order_{kind.key}", offset + position)
    return initial
