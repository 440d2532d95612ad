"""The "Train a model" form: what to predict, which fields to leave out, which flagged leak to use
anyway, and how to order the leads for the time split. The service checks the settings again
(the API sends them without this form)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from cible.core.errors import CibleError
from cible.core.forms import StyledForm
from cible.lifecycle.predictive.models import Target
from cible.lifecycle.predictive.selectors import TrainingChoices

SHARES = ("0.1", "0.2", "0.25", "0.3", "0.4", "0.5")


class TrainForm(StyledForm):
    target = forms.ChoiceField(
        label=gettext_lazy("What to predict"),
        choices=Target.choices,
        initial=Target.CUSTOMER,
        widget=forms.RadioSelect,
    )
    exclude = forms.MultipleChoiceField(
        label=gettext_lazy("Fields to leave out"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    include = forms.MultipleChoiceField(
        label=gettext_lazy("Probable leaks to use anyway"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    order_by = forms.ChoiceField(label=gettext_lazy("Order the leads by"), initial="arrived_at")
    validation_share = forms.ChoiceField(
        label=gettext_lazy("Newest leads kept aside to judge the model"),
        choices=[(share, f"{round(float(share) * 100)} %") for share in SHARES],
        initial="0.2",
    )

    def __init__(self, *args: Any, choices: TrainingChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        self.fields["target"].widget.attrs["class"] = "form-check-input"
        fields: Any = self.fields  # ChoiceFields, whose choices depend on the base
        fields["exclude"].choices = [(name, name) for name in choices.fields]
        fields["include"].choices = [(leak["field"], leak["field"]) for leak in choices.leaks]
        fields["order_by"].choices = [
            ("arrived_at", gettext_lazy("Arrival date")),
            *[(f"property:{name}", name) for name in choices.numeric_properties],
        ]

    def config(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "exclude": list(data.get("exclude") or []),
            "include": list(data.get("include") or []),
            "order_by": data["order_by"],
            "validation_share": float(data["validation_share"]),
        }

    def show(self, error: CibleError) -> None:
        """Each refused setting next to its input; the others at the top."""
        for item in error.errors:
            if item.field in self.fields:
                self.add_error(item.field, item.message)
            else:
                self.add_error(None, item.message)

    def leak_rows(self) -> list[dict[str, Any]]:
        """Each flagged field with its figures and its "use anyway" checkbox."""
        boxes = {box.data["value"]: box for box in self["include"]}
        return [{"leak": leak, "box": boxes.get(leak["field"])} for leak in self.choices.leaks]
