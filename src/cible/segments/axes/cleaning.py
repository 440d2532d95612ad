"""Cleaning of the data posted for an axis or a segment, before `services` stores it.

Each `clean_*` returns the fields to set and every problem found at once (`FieldError`s, one per
field): texts trimmed and bounded, codes made from names, positions defaulting after the last one,
flags read leniently, and a segment's rule checked by `rules.parse` — an invalid rule can never
be saved. Nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cible.core import values
from cible.core.errors import FieldError
from cible.core.normalisers import NormalisationError
from cible.segments import rules
from cible.segments.axes.models import Axis, Segment, SegmentKind


def _text(data: Mapping[str, Any], name: str, limit: int, errors: list[FieldError]) -> str:
    raw = data.get(name)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors.append(FieldError(name, _("text is expected")))
        return ""
    text = " ".join(raw.split()) if name != "description" else raw.strip()
    if len(text) > limit:
        errors.append(
            FieldError(
                name,
                _("is too long (%(length)s characters, at most %(max)s)")
                % {"length": len(text), "max": limit},
            )
        )
    return text


def _code(data: Mapping[str, Any], name: str, errors: list[FieldError]) -> str:
    raw = data.get("code")
    code = slugify(raw if isinstance(raw, str) and raw.strip() else name)[:50]
    if not code:
        errors.append(FieldError("code", _("is required (letters, digits and dashes)")))
    elif isinstance(raw, str) and raw.strip() and code != raw.strip():
        errors.append(
            FieldError(
                "code",
                _("“%(value)s” is not a code: use small letters, digits and dashes (%(hint)s)")
                % {"value": raw[:60], "hint": code},
            )
        )
        return ""
    return code


def _position(data: Mapping[str, Any], errors: list[FieldError]) -> int | None:
    if data.get("position") in (None, ""):
        return None
    try:
        return values.whole_number(data["position"], field="position", maximum=1_000_000)
    except NormalisationError as error:
        errors.append(FieldError("position", error.message))
        return None


def _flag(data: Mapping[str, Any], name: str, default: bool, errors: list[FieldError]) -> bool:
    if name not in data or data[name] in (None, ""):
        return default
    try:
        flag = values.boolean(data[name], field=name)
    except NormalisationError as error:
        errors.append(FieldError(name, error.message))
        return default
    return default if flag is None else flag


_AXIS_FIELDS = {"code", "name", "description", "exclusive", "position", "is_active"}
_SEGMENT_FIELDS = {"code", "name", "description", "kind", "rule", "position"}


def _unknown(data: Mapping[str, Any], known: set[str], errors: list[FieldError]) -> None:
    for name in sorted(set(data) - known - {"id", "version", "axis"}):
        errors.append(FieldError(name, _("is not a field you can set here")))


def clean_axis(
    data: Mapping[str, Any], axis: Axis | None
) -> tuple[dict[str, Any], list[FieldError]]:
    errors: list[FieldError] = []
    _unknown(data, _AXIS_FIELDS, errors)
    merged: dict[str, Any] = {}
    name = _text(data, "name", 100, errors) if "name" in data or axis is None else axis.name
    if not name:
        errors.append(FieldError("name", _("is required")))
    merged["name"] = name
    if "code" in data or axis is None:
        merged["code"] = _code(data, name, errors)
        clash = Axis.objects.filter(code=merged["code"]).exclude(pk=getattr(axis, "pk", 0))
        if merged["code"] and clash.exists():
            errors.append(FieldError("code", _("another axis already has this code")))
    if "description" in data:
        merged["description"] = _text(data, "description", 2000, errors)
    if "exclusive" in data or axis is None:
        merged["exclusive"] = _flag(data, "exclusive", True, errors)
    if "is_active" in data or axis is None:
        merged["is_active"] = _flag(data, "is_active", True, errors)
    position = _position(data, errors)
    if position is not None:
        merged["position"] = position
    elif axis is None:
        highest = Axis.objects.aggregate(top=Max("position"))["top"] or 0
        merged["position"] = highest + 10
    return merged, errors


def _clean_rule(raw: Any, errors: list[FieldError]) -> dict[str, Any] | None:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            errors.append(FieldError("rule", _("the rule is not valid JSON")))
            return None
    try:
        group = rules.parse(raw, level="organisation")
    except rules.RuleInvalid as error:
        errors.extend(
            FieldError(f"rule.{e.field}" if e.field else "rule", e.message) for e in error.errors
        )
        return None
    return group.to_json()


def clean_segment(
    data: Mapping[str, Any], axis: Axis, segment: Segment | None
) -> tuple[dict[str, Any], list[FieldError]]:
    errors: list[FieldError] = []
    _unknown(data, _SEGMENT_FIELDS, errors)
    merged: dict[str, Any] = {}
    name = _text(data, "name", 100, errors) if "name" in data or segment is None else segment.name
    if not name:
        errors.append(FieldError("name", _("is required")))
    merged["name"] = name
    if "code" in data or segment is None:
        merged["code"] = _code(data, name, errors)
        clash = Segment.objects.filter(axis=axis, code=merged["code"]).exclude(
            pk=getattr(segment, "pk", 0)
        )
        if merged["code"] and clash.exists():
            errors.append(FieldError("code", _("another segment of this axis has this code")))
    if "description" in data:
        merged["description"] = _text(data, "description", 2000, errors)
    kind = data.get("kind", segment.kind if segment else SegmentKind.RULE)
    if kind not in SegmentKind.values:
        errors.append(
            FieldError("kind", _("“%(value)s” is not rule or manual") % {"value": str(kind)[:60]})
        )
        kind = SegmentKind.RULE
    merged["kind"] = kind
    if kind == SegmentKind.MANUAL:
        merged["rule"] = None
    elif "rule" in data or segment is None or segment.rule is None:
        if data.get("rule") in (None, "", {}):
            errors.append(FieldError("rule", _("a segment by rule needs a rule")))
        else:
            merged["rule"] = _clean_rule(data["rule"], errors)
    position = _position(data, errors)
    if position is not None:
        merged["position"] = position
    elif segment is None:
        highest = axis.segments.aggregate(top=Max("position"))["top"] or 0
        merged["position"] = highest + 10
    return merged, errors


__all__ = ["clean_axis", "clean_segment"]
