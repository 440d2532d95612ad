"""Forms of the axes and segments pages: lenient fields; the services validate (core/forms.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.core.forms import LookupWidget, StyledForm
from cible.people.models import Organisation
from cible.segments.axes.builder import RuleBuilderField, RuleBuilderWidget
from cible.segments.axes.models import Axis, Segment, SegmentKind

AXIS_FIELDS = ("name", "code", "description", "exclusive", "position", "is_active")
SEGMENT_FIELDS = ("name", "code", "description", "kind", "position", "rule")


class AxisForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(
        label=_("Code"),
        required=False,
        max_length=200,
        help_text=_("Small letters, digits and dashes; made from the name when left empty."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    exclusive = forms.BooleanField(
        label=_("Exclusive"),
        required=False,
        help_text=Axis._meta.get_field("exclusive").help_text,
    )
    position = forms.CharField(
        label=_("Position"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("Axes are shown by increasing position."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    @staticmethod
    def initial_from(axis: Axis | None) -> dict[str, Any]:
        if axis is None:
            return {"exclusive": True, "is_active": True}
        return {name: getattr(axis, name) for name in AXIS_FIELDS}


class SegmentForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    code = forms.CharField(
        label=_("Code"),
        required=False,
        max_length=200,
        help_text=_("Small letters, digits and dashes; made from the name when left empty."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    kind = forms.ChoiceField(
        label=_("Members"),
        choices=SegmentKind.choices,
        widget=forms.RadioSelect,
        initial=SegmentKind.RULE,
    )
    position = forms.CharField(
        label=_("Position"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_(
            "In an exclusive axis an organisation falls in the first segment, by position, "
            "that holds it."
        ),
    )
    # Required only for a segment by rule: the service says so ("a segment by rule needs a rule").
    rule = RuleBuilderField(level="organisation", label=_("Rule"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].widget.attrs["class"] = "form-check-input"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") == SegmentKind.MANUAL:
            # A segment by hand has no rule: whatever the hidden builder holds is not checked.
            self.errors.pop("rule", None)
            cleaned["rule"] = None
            widget = self.fields["rule"].widget
            if isinstance(widget, RuleBuilderWidget):
                widget.errors = {}
        return cleaned

    def data_for_service(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in SEGMENT_FIELDS}
        if data["kind"] == SegmentKind.MANUAL:
            data.pop("rule")
        for name in ("code", "position", "description"):
            if data[name] in (None, ""):
                data.pop(name)
        return data

    @staticmethod
    def initial_from(segment: Segment | None) -> dict[str, Any]:
        if segment is None:
            return {"kind": SegmentKind.RULE}
        initial = {name: getattr(segment, name) for name in SEGMENT_FIELDS}
        initial["version"] = segment.version
        return initial


class MemberAddForm(StyledForm):
    """An organisation to put in a segment by hand, found by name."""

    organisation = forms.CharField(
        label=_("Organisation"),
        widget=LookupWidget("people:organisation_lookup", Organisation),
    )
