"""The form of the comparison page: which record survives, and a choice per field."""

from __future__ import annotations

from typing import Any

from django import forms

from cible.quality.duplicates.entities import EntitySpec
from cible.quality.duplicates.merge import LOSER, SURVIVOR

SIDES = [("a", "A"), ("b", "B")]


class MergeForm(forms.Form):
    """Which record keeps its id, and per field whose value survives (A or B)."""

    survivor = forms.ChoiceField(choices=SIDES, widget=forms.RadioSelect)
    version_a = forms.IntegerField(required=False, widget=forms.HiddenInput)
    version_b = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, spec: EntitySpec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        for f in spec.fields:
            self.fields[f"choice_{f.name}"] = forms.ChoiceField(
                choices=SIDES, required=False, widget=forms.RadioSelect
            )

    def merge_arguments(self, a_id: int, b_id: int) -> dict[str, Any]:
        """The arguments of `merge.pair_merge` from the cleaned form."""
        data = self.cleaned_data
        survivor_side = data["survivor"]
        choices = {}
        for f in self.spec.fields:
            side = data.get(f"choice_{f.name}")
            if side in ("a", "b"):
                choices[f.name] = SURVIVOR if side == survivor_side else LOSER
        versions = {}
        if data.get("version_a") is not None:
            versions[a_id] = data["version_a"]
        if data.get("version_b") is not None:
            versions[b_id] = data["version_b"]
        return {
            "survivor_id": a_id if survivor_side == "a" else b_id,
            "choices": choices,
            "versions": versions,
        }
