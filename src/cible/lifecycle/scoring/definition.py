"""A rule scoring model's definition: its JSON shape, checked, turned into `Rules` (SPEC C5).

    {"fit": {"icp": {"profile": <ICP id>, "weight": 0–100},
             "personas": [{"persona": <id>, "points": ±100}, …],
             "segments": [{"segment": <id>, "points": ±100}, …],
             "sources": {"<lead source>": ±100, …}},
     "bant": {"budget": {"<value>": ±100, …}, "authority": {…}, "need": {…}, "timing": {…}},
     "behaviour": {"half_life_days": 0.5–3650,
                   "kinds": {"<interaction kind>": {"points": ±100, "cap": 1–100}, …}},
     "grades": {"profile": {"A": 70, "B": 40}, "engagement": {"1": 60, "2": 30}}}

The profile score is fit + BANT and the engagement score is behaviour, each clamped to 0–100;
the grade is the profile letter and the engagement digit ("A1" is the best lead). Every mistake
is named with its place in the definition, so the editor can put it next to the right field:
a contradictory grade band, a cap smaller than one interaction's points, an unknown kind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from cible.core.errors import FieldError, ValidationFailed
from cible.engagement.interactions.models import InteractionKind
from cible.lifecycle.leads.models import Authority, Budget, Need, Timing
from cible.people.models import Source

BANT_CHOICES: dict[str, tuple[str, ...]] = {
    "budget": tuple(v for v in Budget.values if v),
    "authority": tuple(v for v in Authority.values if v),
    "need": tuple(v for v in Need.values if v),
    "timing": tuple(v for v in Timing.values if v),
}
MAX_POINTS = 100
PROFILE_LETTERS = ("A", "B", "C")
ENGAGEMENT_DIGITS = ("1", "2", "3")


@dataclass(frozen=True)
class KindRule:
    points: float
    cap: float


@dataclass(frozen=True)
class Rules:
    """A checked definition, ready for the engine. Lists keep the definition's order."""

    icp: int | None = None
    icp_weight: float = 0.0
    personas: tuple[tuple[int, float], ...] = ()
    segments: tuple[tuple[int, float], ...] = ()
    sources: Mapping[str, float] = field(default_factory=dict)
    bant: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    half_life_days: float = 30.0
    kinds: Mapping[str, KindRule] = field(default_factory=dict)
    profile_bands: tuple[float, float] = (70.0, 40.0)  # A from, B from
    engagement_bands: tuple[float, float] = (60.0, 30.0)  # 1 from, 2 from


class _Checker:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(FieldError(where, message))

    def number(self, where: str, value: Any, low: float, high: float) -> float | None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.fail(where, _("Enter a number."))
            return None
        if not low <= value <= high:
            self.fail(
                where, _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
            )
            return None
        return float(value)

    def mapping(self, where: str, value: Any) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(where, _("Expected an object."))
            return {}
        return value

    def unknown_keys(self, where: str, value: Mapping[str, Any], known: set[str]) -> None:
        for key in value:
            if key not in known:
                self.fail(
                    f"{where}.{key}" if where else key,
                    _("Unknown entry “%(key)s”.") % {"key": key},
                )

    def points_by_value(self, where: str, value: Any, allowed: tuple[str, ...]) -> dict[str, float]:
        points: dict[str, float] = {}
        for key, raw in self.mapping(where, value).items():
            if key not in allowed:
                self.fail(
                    f"{where}.{key}",
                    _("“%(key)s” is not one of: %(allowed)s.")
                    % {"key": key, "allowed": ", ".join(allowed)},
                )
                continue
            number = self.number(f"{where}.{key}", raw, -MAX_POINTS, MAX_POINTS)
            if number is not None and number != 0:
                points[key] = number
        return points

    def id_points(self, where: str, value: Any, key: str) -> tuple[tuple[int, float], ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail(where, _("Expected a list."))
            return ()
        chosen: dict[int, float] = {}
        for index, item in enumerate(value):
            place = f"{where}.{index}"
            item = self.mapping(place, item)
            ident = item.get(key)
            if isinstance(ident, bool) or not isinstance(ident, int) or ident <= 0:
                self.fail(f"{place}.{key}", _("Choose one."))
                continue
            if ident in chosen:
                self.fail(f"{place}.{key}", _("Listed twice."))
                continue
            number = self.number(f"{place}.points", item.get("points"), -MAX_POINTS, MAX_POINTS)
            if number is not None:
                chosen[ident] = number
        return tuple(chosen.items())

    def bands(
        self, where: str, value: Any, names: tuple[str, str], default: tuple[float, float]
    ) -> tuple[float, float]:
        raw = self.mapping(where, value)
        self.unknown_keys(where, raw, set(names))
        top = self.number(f"{where}.{names[0]}", raw.get(names[0], default[0]), 1, 100)
        middle = self.number(f"{where}.{names[1]}", raw.get(names[1], default[1]), 1, 100)
        if top is None or middle is None:
            return default
        if middle >= top:
            self.fail(
                f"{where}.{names[1]}",
                _("“%(middle)s” must start below “%(top)s” (%(value)s ≥ %(top_value)s).")
                % {"middle": names[1], "top": names[0], "value": middle, "top_value": top},
            )
            return default
        return (top, middle)


def parse(definition: Any) -> Rules:
    """The checked `Rules` of a definition, or `ValidationFailed` listing every mistake."""
    check = _Checker()
    data = check.mapping("", definition)
    check.unknown_keys("", data, {"fit", "bant", "behaviour", "grades"})

    fit = check.mapping("fit", data.get("fit"))
    check.unknown_keys("fit", fit, {"icp", "personas", "segments", "sources"})
    icp_id, icp_weight = None, 0.0
    if fit.get("icp") is not None:
        icp = check.mapping("fit.icp", fit["icp"])
        ident = icp.get("profile")
        if isinstance(ident, bool) or not isinstance(ident, int) or ident <= 0:
            check.fail("fit.icp.profile", _("Choose an ideal customer profile."))
        else:
            icp_id = ident
        icp_weight = check.number("fit.icp.weight", icp.get("weight"), 0, MAX_POINTS) or 0.0
    personas = check.id_points("fit.personas", fit.get("personas"), "persona")
    segments = check.id_points("fit.segments", fit.get("segments"), "segment")
    sources = check.points_by_value("fit.sources", fit.get("sources"), tuple(Source.values))

    bant_data = check.mapping("bant", data.get("bant"))
    check.unknown_keys("bant", bant_data, set(BANT_CHOICES))
    bant = {
        name: points
        for name, allowed in BANT_CHOICES.items()
        if (points := check.points_by_value(f"bant.{name}", bant_data.get(name), allowed))
    }

    behaviour = check.mapping("behaviour", data.get("behaviour"))
    check.unknown_keys("behaviour", behaviour, {"half_life_days", "kinds"})
    half_life = check.number(
        "behaviour.half_life_days", behaviour.get("half_life_days", 30), 0.5, 3650
    )
    kinds: dict[str, KindRule] = {}
    for kind, raw in check.mapping("behaviour.kinds", behaviour.get("kinds")).items():
        place = f"behaviour.kinds.{kind}"
        if kind not in InteractionKind.values:
            check.fail(place, _("“%(key)s” is not a kind of interaction.") % {"key": kind})
            continue
        rule = check.mapping(place, raw)
        check.unknown_keys(place, rule, {"points", "cap"})
        worth = check.number(f"{place}.points", rule.get("points"), -MAX_POINTS, MAX_POINTS)
        cap = check.number(f"{place}.cap", rule.get("cap", MAX_POINTS), 1, MAX_POINTS)
        if worth is None or cap is None or worth == 0:
            continue
        if cap < abs(worth):
            check.fail(
                f"{place}.cap",
                _("The cap (%(cap)s) is below the points of one interaction (%(points)s).")
                % {"cap": cap, "points": abs(worth)},
            )
            continue
        kinds[kind] = KindRule(points=worth, cap=cap)

    grades = check.mapping("grades", data.get("grades"))
    check.unknown_keys("grades", grades, {"profile", "engagement"})
    profile_bands = check.bands("grades.profile", grades.get("profile"), ("A", "B"), (70.0, 40.0))
    engagement_bands = check.bands(
        "grades.engagement", grades.get("engagement"), ("1", "2"), (60.0, 30.0)
    )
    if check.errors:
        raise ValidationFailed(errors=check.errors)
    return Rules(
        icp=icp_id,
        icp_weight=icp_weight,
        personas=personas,
        segments=segments,
        sources=sources,
        bant=bant,
        half_life_days=half_life or 30.0,
        kinds=kinds,
        profile_bands=profile_bands,
        engagement_bands=engagement_bands,
    )
