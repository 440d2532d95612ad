"""The scoring model editor: one input per rule a marketer can set, turned into the definition's
JSON (`definition.py`) and back, and each error of the definition put next to its input.

Inputs are lenient text: a blank input means "0 / not used", "12,5" is 12.5, and anything else
is handed to `definition.parse`, which names the problem with its dotted place
("behaviour.kinds.call.cap"); `field_for` maps that place back to the input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core.errors import CibleError, ValidationFailed
from cible.core.forms import LookupWidget, StyledForm
from cible.engagement.interactions.models import InteractionKind
from cible.lifecycle.leads.models import Lead
from cible.lifecycle.scoring.definition import BANT_CHOICES, Rules, parse
from cible.lifecycle.scoring.models import ScoringModel, default_definition
from cible.lifecycle.scoring.selectors import BANT_VALUES, Catalogue, bant_title
from cible.people.models import Source

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
GRADE_FIELDS = {
    "grades.profile.A": "grade_A",
    "grades.profile.B": "grade_B",
    "grades.engagement.1": "grade_1",
    "grades.engagement.2": "grade_2",
}


def number(raw: Any) -> Any:
    """Text typed in an input → an int or a float (None when blank); text that is no number is
    returned as typed, for `parse` to refuse with its place."""
    text = str(raw or "").strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    if not _NUMBER.match(text):
        return str(raw).strip()
    value = float(text.replace(",", "."))
    if not math.isfinite(value):
        return str(raw).strip()
    return int(value) if value.is_integer() and "." not in text and "," not in text else value


def shown(value: Any) -> str:
    """A stored number as the input shows it."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _points(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "form-control-sm points"}),
    )


class ScoringModelForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    icp = forms.ChoiceField(label=gettext_lazy("Ideal customer profile"), required=False)
    icp_weight = _points(gettext_lazy("Weight (0–100)"))
    half_life_days = _points(gettext_lazy("Half-life (days)"))
    grade_A = _points(gettext_lazy("A from"))
    grade_B = _points(gettext_lazy("B from"))
    grade_1 = _points(gettext_lazy("1 from"))
    grade_2 = _points(gettext_lazy("2 from"))
    try_lead = forms.CharField(
        label=gettext_lazy("Lead"), required=False, widget=LookupWidget("scoring:lead_lookup", Lead)
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, catalogue: Catalogue, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        self.rules: Rules | None = None
        self.places: dict[str, str] = {
            "name": "name",
            "description": "description",
            "fit.icp": "icp",
            "fit.icp.profile": "icp",
            "fit.icp.weight": "icp_weight",
            "behaviour.half_life_days": "half_life_days",
            "grades.profile": "grade_A",
            "grades.engagement": "grade_1",
            **GRADE_FIELDS,
        }
        profiles = [
            (str(p.pk), p.name if p.is_active else f"{p.name} ({_('inactive')})")
            for p in catalogue.profiles
        ]
        self.fields["icp"].choices = [("", "—"), *profiles]  # type: ignore[attr-defined]
        for persona in catalogue.personas:
            self.fields[f"persona_{persona.pk}"] = self._styled(_points(persona.name))
        for segment in catalogue.segments:
            self.fields[f"segment_{segment.pk}"] = self._styled(_points(segment.display_name))
        for source in Source:
            name = f"source_{source.value}"
            self.fields[name] = self._styled(_points(str(source.label)))
            self.places[f"fit.sources.{source.value}"] = name
        for dimension, values in BANT_CHOICES.items():
            self.places[f"bant.{dimension}"] = f"bant_{dimension}_{values[0]}"
            for value in values:
                name = f"bant_{dimension}_{value}"
                self.fields[name] = self._styled(_points(str(BANT_VALUES[dimension](value).label)))
                self.places[f"bant.{dimension}.{value}"] = name
        for kind in InteractionKind:
            points, cap = f"kind_{kind.value}_points", f"kind_{kind.value}_cap"
            self.fields[points] = self._styled(_points(_("Points")))
            self.fields[cap] = self._styled(_points(_("Cap")))
            place = f"behaviour.kinds.{kind.value}"
            self.places.update({place: points, f"{place}.points": points, f"{place}.cap": cap})

    @staticmethod
    def _styled(field: forms.CharField) -> forms.CharField:
        field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} form-control".strip()
        return field

    # --- from a stored model ------------------------------------------------------------------

    @staticmethod
    def initial_from(model: ScoringModel | None) -> dict[str, Any]:
        """The inputs of a stored model (a new one starts from the default half-life and bands)."""
        definition: dict[str, Any] = model.definition if model else default_definition()
        values: dict[str, Any] = {}
        if model is not None:
            values.update(name=model.name, description=model.description, version=model.version)
        fit = definition.get("fit") or {}
        icp = fit.get("icp") or {}
        values["icp"] = str(icp.get("profile") or "")
        values["icp_weight"] = shown(icp.get("weight")) if icp else ""
        for item in fit.get("personas") or []:
            values[f"persona_{item.get('persona')}"] = shown(item.get("points"))
        for item in fit.get("segments") or []:
            values[f"segment_{item.get('segment')}"] = shown(item.get("points"))
        for source, points in (fit.get("sources") or {}).items():
            values[f"source_{source}"] = shown(points)
        for dimension, points_by_value in (definition.get("bant") or {}).items():
            for value, points in (points_by_value or {}).items():
                values[f"bant_{dimension}_{value}"] = shown(points)
        behaviour = definition.get("behaviour") or {}
        values["half_life_days"] = shown(behaviour.get("half_life_days"))
        for kind, rule in (behaviour.get("kinds") or {}).items():
            values[f"kind_{kind}_points"] = shown((rule or {}).get("points"))
            values[f"kind_{kind}_cap"] = shown((rule or {}).get("cap"))
        grades = definition.get("grades") or {}
        for place, name in GRADE_FIELDS.items():
            _grades, group, key = place.split(".")
            values[name] = shown((grades.get(group) or {}).get(key))
        return values

    # --- to a definition ----------------------------------------------------------------------

    def _value(self, name: str) -> Any:
        return number(self.cleaned_data.get(name))

    def definition(self) -> dict[str, Any]:
        """The definition the inputs describe; records which input each list entry came from."""
        fit: dict[str, Any] = {}
        icp, weight = self.cleaned_data.get("icp"), self._value("icp_weight")
        if icp or weight is not None:
            fit["icp"] = {"weight": 0 if weight is None else weight}
            if icp:
                fit["icp"] = {"profile": int(icp), **fit["icp"]}
        for key, items in (
            ("persona", self.catalogue.personas),
            ("segment", self.catalogue.segments),
        ):
            chosen: list[dict[str, Any]] = []
            for item in items:
                points = self._value(f"{key}_{item.pk}")
                if points is not None:
                    self.places[f"fit.{key}s.{len(chosen)}"] = f"{key}_{item.pk}"
                    chosen.append({key: item.pk, "points": points})
            if chosen:
                fit[f"{key}s"] = chosen
        sources = {
            source.value: points
            for source in Source
            if (points := self._value(f"source_{source.value}")) is not None
        }
        if sources:
            fit["sources"] = sources
        bant: dict[str, Any] = {}
        for dimension, values in BANT_CHOICES.items():
            points_by_value = {
                value: points
                for value in values
                if (points := self._value(f"bant_{dimension}_{value}")) is not None
            }
            if points_by_value:
                bant[dimension] = points_by_value
        behaviour: dict[str, Any] = {}
        half_life = self._value("half_life_days")
        if half_life is not None:
            behaviour["half_life_days"] = half_life
        kinds: dict[str, Any] = {}
        for kind in InteractionKind:
            points = self._value(f"kind_{kind.value}_points")
            cap = self._value(f"kind_{kind.value}_cap")
            if points is None and cap is None:
                continue
            kinds[kind.value] = {"points": 0 if points is None else points}
            if cap is not None:
                kinds[kind.value]["cap"] = cap
        behaviour["kinds"] = kinds
        grades: dict[str, Any] = {}
        for place, name in GRADE_FIELDS.items():
            value = self._value(name)
            if value is not None:
                _grades, group, key = place.split(".")
                grades.setdefault(group, {})[key] = value
        return {"fit": fit, "bant": bant, "behaviour": behaviour, "grades": grades}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            self.rules = parse(self.definition())
        except ValidationFailed as error:
            self.show(error)
        return cleaned

    # --- errors -------------------------------------------------------------------------------

    def field_for(self, place: str) -> str | None:
        """The input a dotted place of the definition (or a service's field) belongs to."""
        parts = place.split(".")
        while parts:
            name = self.places.get(".".join(parts))
            if name is not None:
                return name
            parts.pop()
        return None

    def show(self, error: CibleError) -> None:
        """Each error next to its input; the others at the top, with their place."""
        for item in error.errors:
            name = self.field_for(item.field) if item.field else None
            if name is not None and name in self.fields:
                if item.message not in self.errors.get(name, []):
                    self.add_error(name, item.message)
            else:
                text = f"{item.field}: {item.message}" if item.field else item.message
                self.add_error(None, text)

    def rule_errors(self) -> list[str]:
        """The errors that keep the rules from being tried (the name does not matter then)."""
        return [
            str(message)
            for name, messages in self.errors.items()
            if name not in ("name", "description", "version")
            for message in messages
        ]

    # --- layout -------------------------------------------------------------------------------

    def persona_rows(self) -> list[forms.BoundField]:
        return [self[f"persona_{p.pk}"] for p in self.catalogue.personas]

    def segment_groups(self) -> Iterator[dict[str, Any]]:
        """Segments by axis; an axis opens when one of its inputs holds a value or an error."""
        groups: dict[int, dict[str, Any]] = {}
        for segment in self.catalogue.segments:
            group = groups.setdefault(
                segment.axis_id,
                {"axis": segment.axis, "fields": [], "open": False},
            )
            bound = self[f"segment_{segment.pk}"]
            group["fields"].append(bound)
            group["open"] = group["open"] or bool(bound.value()) or bool(bound.errors)
        yield from groups.values()

    def source_rows(self) -> list[forms.BoundField]:
        return [self[f"source_{source.value}"] for source in Source]

    def bant_tables(self) -> list[dict[str, Any]]:
        return [
            {
                "key": dimension,
                "title": bant_title(dimension),
                "fields": [self[f"bant_{dimension}_{value}"] for value in values],
            }
            for dimension, values in BANT_CHOICES.items()
        ]

    def kind_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "kind": kind.value,
                "label": kind.label,
                "points": self[f"kind_{kind.value}_points"],
                "cap": self[f"kind_{kind.value}_cap"],
            }
            for kind in InteractionKind
        ]
