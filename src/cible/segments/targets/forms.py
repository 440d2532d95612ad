"""The target editor's form: segments ticked per axis, organisation and contact conditions built
with the rule builder, the level; the services check the definition (`definition.parse`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.core.errors import CibleError, FieldError
from cible.core.forms import StyledForm
from cible.segments.axes import builder
from cible.segments.axes.builder import RuleBuilderField
from cible.segments.axes.models import Segment
from cible.segments.targets.models import Target, TargetLevel

SERVICE_FIELDS = ("name", "description", "shared", "level")


def definition_from(
    *, level: str, segment_ids: list[str], organisation: Any, contact: Any
) -> dict[str, Any]:
    """The definition the editor shows: the contact conditions count only for a contact target
    (the editor hides them otherwise), and an empty builder is no condition."""
    organisation = builder.draft_from(organisation)
    contact = builder.draft_from(contact) if level == TargetLevel.CONTACT else None
    return {
        "segments": [i for i in segment_ids if i],
        "organisation": None if builder.is_blank(organisation) else organisation,
        "contact": None if builder.is_blank(contact) else contact,
    }


def definition_from_post(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(level, definition) as the editor posts them — for the live count."""
    level = str(data.get("level") or TargetLevel.ORGANISATION)
    getlist = getattr(data, "getlist", None)
    ids = getlist("segments") if getlist else list(data.get("segments") or [])
    return level, definition_from(
        level=level,
        segment_ids=[str(i) for i in ids],
        organisation=data.get("organisation"),
        contact=data.get("contact"),
    )


def editor_errors(error: CibleError) -> CibleError:
    """The service's paths (`definition.organisation.conditions.0.value`) as the editor's fields
    (`organisation.conditions.0.value`, `segments`; the rest at the top of the form)."""
    mapped: list[FieldError] = []
    for item in error.errors:
        name = item.field or ""
        if name == "definition" or name.startswith("definition."):
            name = name.removeprefix("definition").removeprefix(".")
            if name.startswith("segments"):
                name = "segments"
        mapped.append(FieldError(name, item.message))
    return type(error)(errors=mapped)


class TargetForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=300)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    shared = forms.BooleanField(
        label=_("Shared with everybody"),
        required=False,
        help_text=Target._meta.get_field("shared").help_text,
    )
    level = forms.ChoiceField(
        label=_("Who"),
        choices=TargetLevel.choices,
        widget=forms.RadioSelect,
        initial=TargetLevel.ORGANISATION,
    )
    segments = forms.MultipleChoiceField(
        label=_("Segments"), required=False, widget=forms.CheckboxSelectMultiple
    )
    organisation = RuleBuilderField(
        level="organisation", label=_("Organisation conditions"), required=False
    )
    contact = RuleBuilderField(level="contact", label=_("Contact conditions"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].widget.attrs["class"] = "form-check-input"
        self.fields["segments"].choices = [  # type: ignore[attr-defined]
            (str(pk), str(pk)) for pk in Segment.objects.values_list("pk", flat=True)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("level") != TargetLevel.CONTACT:
            # Hidden for an organisation target: whatever the contact builder holds is ignored.
            self.errors.pop("contact", None)
            cleaned["contact"] = None
            widget = self.fields["contact"].widget
            if isinstance(widget, builder.RuleBuilderWidget):
                widget.errors = {}
        return cleaned

    def data_for_service(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in SERVICE_FIELDS}
        data["definition"] = definition_from(
            level=str(data["level"]),
            segment_ids=list(self.cleaned_data.get("segments") or []),
            organisation=self.cleaned_data.get("organisation"),
            contact=self.cleaned_data.get("contact"),
        )
        return data

    def chosen_segments(self) -> set[str]:
        """The ticked segment ids, as the page shows them (posted, or initial)."""
        if self.is_bound:
            return {str(v) for v in self.data.getlist("segments")}  # type: ignore[attr-defined]
        return {str(v) for v in self.initial.get("segments", [])}

    @staticmethod
    def initial_from(target: Target | None) -> dict[str, Any]:
        if target is None:
            return {"level": TargetLevel.ORGANISATION}
        definition = target.definition or {}
        segments = definition.get("segments") or {}
        ids = (
            [i for group in segments.values() for i in group]
            if isinstance(segments, dict)
            else list(segments)
        )
        return {
            "name": target.name,
            "description": target.description,
            "shared": target.shared,
            "level": target.level,
            "segments": [str(i) for i in ids],
            "organisation": definition.get("organisation"),
            "contact": definition.get("contact"),
            "version": target.version,
        }
