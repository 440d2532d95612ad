"""The choices at the top of the performance pages: axes, period, measure.

The forms only render and collect the query parameters; the period is parsed by
`periods.period_from_params` and the measure checked by `selectors.measure_for`, the same code
the API uses, so a bad value gets the same message everywhere.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.core.forms import StyledForm
from cible.insights.performance.periods import DEFAULT_PRESET, PRESET_LABELS
from cible.insights.performance.selectors import measure_choices
from cible.segments.axes.models import Axis


def axis_choices() -> list[tuple[str, str]]:
    """Active axes, in their order, by code."""
    return [
        (axis.code, axis.display_name)
        for axis in Axis.objects.filter(is_active=True).order_by("position", "pk")
    ]


class PeriodFields(StyledForm):
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[(preset.value, label) for preset, label in PRESET_LABELS.items()],
        initial=DEFAULT_PRESET.value,
    )
    start = forms.CharField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.CharField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class SegmentPerformanceForm(PeriodFields):
    axis = forms.ChoiceField(label=_("Axis"), required=False)
    field_order = ["axis", "period", "start", "end"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["axis"].choices = axis_choices()  # type: ignore[attr-defined]


class CrossTabForm(PeriodFields):
    a = forms.ChoiceField(label=_("Axis A (rows)"), required=False)
    b = forms.ChoiceField(label=_("Axis B (columns)"), required=False)
    measure = forms.ChoiceField(label=_("Measure"), required=False)
    field_order = ["a", "b", "measure", "period", "start", "end"]

    def __init__(self, *args: Any, viewer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        axes = axis_choices()
        self.fields["a"].choices = axes  # type: ignore[attr-defined]
        self.fields["b"].choices = axes  # type: ignore[attr-defined]
        self.fields["measure"].choices = [  # type: ignore[attr-defined]
            (spec.code, spec.label) for spec in measure_choices(viewer)
        ]
