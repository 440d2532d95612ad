"""The filters at the top of the funnel page.

The form only renders and collects the query parameters; they are checked by
`selectors.filters_from_params`, the same code the API uses, so a bad value gets the same
message everywhere.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from cible.insights.funnel.selectors import COMPARE_LABELS, MODE_LABELS
from cible.insights.performance.forms import PeriodFields
from cible.lifecycle.leads.selectors import campaign_choices
from cible.people.models import Source
from cible.people.selectors import user_choices
from cible.segments.axes.models import Segment

ANY = [("", "—")]


def segment_choices() -> list[tuple[Any, str]]:
    """Every segment, as "Axis: Segment", in the axes' order."""
    segments = Segment.objects.select_related("axis").order_by(
        "axis__position", "axis__pk", "position", "pk"
    )
    return [(s.pk, f"{s.axis.display_name}: {s.display_name}") for s in segments[:500]]


class FunnelForm(PeriodFields):
    mode = forms.ChoiceField(
        label=_("Leads"), required=False, choices=[(m.value, t) for m, t in MODE_LABELS.items()]
    )
    source = forms.ChoiceField(label=_("Source"), required=False)
    campaign = forms.ChoiceField(label=_("Campaign"), required=False)
    segment = forms.ChoiceField(label=_("Segment"), required=False)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    compare = forms.ChoiceField(
        label=_("Compare"),
        required=False,
        choices=[(c.value, t) for c, t in COMPARE_LABELS.items()],
    )
    field_order = [
        "period",
        "start",
        "end",
        "mode",
        "source",
        "campaign",
        "segment",
        "owner",
        "compare",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = ANY + list(Source.choices)  # type: ignore[attr-defined]
        self.fields["campaign"].choices = ANY + campaign_choices()  # type: ignore[attr-defined]
        self.fields["segment"].choices = ANY + segment_choices()  # type: ignore[attr-defined]
        self.fields["owner"].choices = ANY + user_choices()  # type: ignore[attr-defined]
