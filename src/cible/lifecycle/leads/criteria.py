"""The rule part of a stage definition: its shape, what it asks of a lead, and what is missing.

Pure (no database access): the same criteria give a Python verdict for one lead (`missing`) and a
`Q` for a set-based pass over many (`as_q`), tested equal.

Shape (every key optional; an empty object means "a person decides"):
    {"min_profile_score": 0–100, "min_engagement_score": 0–100, "grades": ["A1", …],
     "bant": {"budget": [...], "authority": [...], "need": [...], "timing": [...]}}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from cible.core.errors import FieldError, ValidationFailed
from cible.lifecycle.leads.models import Authority, Budget, Need, Timing

KEYS = ("min_profile_score", "min_engagement_score", "grades", "bant")
BANT = {"budget": Budget, "authority": Authority, "need": Need, "timing": Timing}
GRADE = re.compile(r"^[A-Z][1-9]$")


def _score(value: Any, field: str, errors: list[FieldError]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(FieldError(field, _("must be a whole number from 0 to 100")))
        return None
    if not 0 <= value <= 100:
        errors.append(FieldError(field, _("must be from 0 to 100 (got %(v)s)") % {"v": value}))
        return None
    return value


def _texts(value: Any, field: str, errors: list[FieldError]) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(FieldError(field, _("must be a list of values")))
        return None
    if not value:
        errors.append(FieldError(field, _("an empty list can never hold; leave the key out")))
        return None
    if len(set(value)) != len(value):
        errors.append(FieldError(field, _("lists a value twice")))
        return None
    return value


def validate(raw: Any) -> dict[str, Any]:
    """The criteria, checked and normalised; ValidationFailed names each bad key."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, Mapping):
        raise ValidationFailed(errors=[FieldError("criteria", _("must be a JSON object"))])
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    for key in raw:
        if key not in KEYS:
            errors.append(
                FieldError(
                    f"criteria.{key}",
                    _("unknown key; the known keys are %(keys)s") % {"keys": ", ".join(KEYS)},
                )
            )
    for key in ("min_profile_score", "min_engagement_score"):
        if key in raw and (score := _score(raw[key], f"criteria.{key}", errors)) is not None:
            clean[key] = score
    if "grades" in raw and (grades := _texts(raw["grades"], "criteria.grades", errors)):
        wrong = [g for g in grades if not GRADE.match(g)]
        if wrong:
            errors.append(
                FieldError(
                    "criteria.grades",
                    _("%(grades)s: a grade is a capital letter and a digit, like A1")
                    % {"grades": ", ".join(wrong)[:100]},
                )
            )
        else:
            clean["grades"] = grades
    if "bant" in raw:
        clean_bant = _validate_bant(raw["bant"], errors)
        if clean_bant:
            clean["bant"] = clean_bant
    if errors:
        raise ValidationFailed(_("These criteria cannot be used."), errors=errors)
    return clean


def _validate_bant(raw: Any, errors: list[FieldError]) -> dict[str, list[str]]:
    if not isinstance(raw, Mapping):
        errors.append(FieldError("criteria.bant", _("must be an object of BANT lists")))
        return {}
    clean: dict[str, list[str]] = {}
    for part, values in raw.items():
        field = f"criteria.bant.{part}"
        choices = BANT.get(part)
        if choices is None:
            errors.append(FieldError(field, _("unknown; use budget, authority, need or timing")))
            continue
        listed = _texts(values, field, errors)
        if listed is None:
            continue
        known = {str(value) for value, _label in choices.choices if value}
        wrong = [v for v in listed if v not in known]
        if wrong:
            errors.append(
                FieldError(
                    field,
                    _("%(wrong)s: not a value; use %(known)s")
                    % {"wrong": ", ".join(wrong)[:100], "known": ", ".join(sorted(known))},
                )
            )
            continue
        clean[part] = listed
    return clean


def _labels(part: str, values: list[str]) -> str:
    choices = dict(BANT[part].choices)
    return ", ".join(str(choices.get(v, v)) for v in values)


def describe(criteria: Mapping[str, Any]) -> list[str]:
    """Each criterion as a sentence, in the active language (for pages and messages)."""
    lines = []
    if "min_profile_score" in criteria:
        lines.append(_("profile score %(n)s or more") % {"n": criteria["min_profile_score"]})
    if "min_engagement_score" in criteria:
        lines.append(_("engagement score %(n)s or more") % {"n": criteria["min_engagement_score"]})
    if "grades" in criteria:
        lines.append(_("grade %(grades)s") % {"grades": ", ".join(criteria["grades"])})
    for part, values in criteria.get("bant", {}).items():
        lines.append(f"{bant_labels()[part]}: {_labels(part, values)}")
    return lines


def missing(criteria: Mapping[str, Any], lead: Any) -> list[str]:
    """What `lead` (a Lead, or any object with its fields) lacks to meet `criteria`; [] = holds."""
    gaps: list[str] = []
    for key, label in (
        ("min_profile_score", _("profile score")),
        ("min_engagement_score", _("engagement score")),
    ):
        if key not in criteria:
            continue
        value = getattr(lead, key.removeprefix("min_"))
        if value is None or value < criteria[key]:
            now = _("not scored yet") if value is None else _("now %(v)s") % {"v": value}
            gaps.append(
                _("%(label)s %(n)s or more (%(now)s)")
                % {"label": label, "n": criteria[key], "now": now}
            )
    if "grades" in criteria and lead.grade not in criteria["grades"]:
        now = lead.grade or _("no grade yet")
        gaps.append(
            _("grade %(grades)s (now %(now)s)")
            % {"grades": ", ".join(criteria["grades"]), "now": now}
        )
    for part, values in criteria.get("bant", {}).items():
        current = getattr(lead, part) or ""
        if current not in values:
            gaps.append(
                _("%(part)s: %(wanted)s (now %(now)s)")
                % {
                    "part": bant_labels()[part],
                    "wanted": _labels(part, values),
                    "now": dict(BANT[part].choices).get(current, current),
                }
            )
    return gaps


def bant_labels() -> dict[str, str]:
    """The BANT parts' names, translated when asked for."""
    return {
        "budget": _("budget"),
        "authority": _("authority"),
        "need": _("need"),
        "timing": _("timing"),
    }


def as_q(criteria: Mapping[str, Any]) -> Q:
    """The leads meeting `criteria`, as a filter (same verdict as `missing(...) == []`)."""
    condition = Q()
    if "min_profile_score" in criteria:
        condition &= Q(profile_score__gte=criteria["min_profile_score"])
    if "min_engagement_score" in criteria:
        condition &= Q(engagement_score__gte=criteria["min_engagement_score"])
    if "grades" in criteria:
        condition &= Q(grade__in=criteria["grades"])
    for part, values in criteria.get("bant", {}).items():
        condition &= Q(**{f"{part}__in": values})
    return condition
