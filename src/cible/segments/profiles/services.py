"""Every write of the profiles app: ideal customer profiles with their criteria, personas, and
(re-exported from `compute` and `refresh`) the fit scores.

Profiles and personas are the customer's own (seed 001: a conquest ICP differs from a retention
ICP), so none is seeded: they are made here, by the pages, the API or the command line. Who may
shape them: administrators, Marketing and sales managers; everyone else reads them.

A change of criteria (or re-activation) leaves the stored scores in place, marks the profile as
not scored (`scored_at = None`) and queues a full computation once the change is committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.core.values import is_id
from cible.segments import rules
from cible.segments.profiles.compute import (
    ScoringResult,
    fit_scores_after_bulk,
    fit_scores_compute,
)
from cible.segments.profiles.models import (
    MAX_CRITERIA,
    MAX_WEIGHT,
    IdealCustomerProfile,
    Persona,
    ProfileCriterion,
    Purpose,
)
from cible.segments.profiles.refresh import delete_scores, fit_scores_refresh_for

__all__ = [
    "ScoringResult",
    "fit_scores_after_bulk",
    "fit_scores_compute",
    "fit_scores_refresh_for",
    "may_manage",
    "persona_create",
    "persona_delete",
    "persona_update",
    "profile_create",
    "profile_delete",
    "profile_update",
]

MANAGERS = (Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER)
MAX_NAME = 100
MAX_LABEL = 150
MAX_DESCRIPTION = 2000


def may_manage(user: Any) -> bool:
    """Whether `user` may create, change and delete profiles and personas."""
    return access.role_of(user) in MANAGERS


def _require_manager(actor: Any) -> None:
    if not may_manage(actor):
        raise PermissionDenied(
            _(
                "Only administrators, marketers and sales managers may change ideal customer "
                "profiles and personas."
            )
        )


# --- shared field checks -------------------------------------------------------------------------


def _text(
    value: Any, *, field: str, errors: list[FieldError], limit: int, required: bool = False
) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append(FieldError(field, _("must be text")))
        return ""
    value = value.strip()
    if required and not value:
        errors.append(FieldError(field, _("is required")))
    elif len(value) > limit:
        errors.append(
            FieldError(field, _("is too long (at most %(limit)d characters)") % {"limit": limit})
        )
    return value


def _code(
    value: Any,
    *,
    name: str,
    model: type[IdealCustomerProfile] | type[Persona],
    exclude_pk: int | None,
    errors: list[FieldError],
) -> str:
    """A given code is checked; a missing one is made from the name, unique among its kind."""
    taken = model.objects.exclude(pk=exclude_pk) if exclude_pk else model.objects.all()
    if value in (None, ""):
        base = slugify(name)[:44] or model._meta.model_name or "item"
        code, n = base, 1
        while taken.filter(code=code).exists():
            n += 1
            code = f"{base}-{n}"
        return code
    if not isinstance(value, str) or slugify(value) != value or len(value) > 50:
        errors.append(
            FieldError(
                "code",
                _("use only lower-case letters, digits and hyphens (at most 50 characters)"),
            )
        )
        return ""
    if taken.filter(code=value).exists():
        errors.append(FieldError("code", _("“%(code)s” is already used") % {"code": value}))
    return value


def _boolean(value: Any, *, field: str, errors: list[FieldError]) -> bool:
    if isinstance(value, bool):
        return value
    errors.append(FieldError(field, _("must be true or false")))
    return False


def _rule(data: Any, *, level: rules.Level, field: str, errors: list[FieldError]) -> Any:
    """A rule group in its canonical JSON (normalised values, as `rules` stores them); its
    problems are reported under `field` (e.g. "criteria.2.rule.conditions.0.value")."""
    try:
        return rules.parse(data, level=level).to_json()
    except rules.RuleInvalid as invalid:
        for error in invalid.errors:
            path = f"{field}.{error.field}" if error.field else field
            errors.append(FieldError(path, error.message))
    return data


# --- profiles ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CriterionInput:
    id: int | None
    label: str
    rule: Any
    weight: int


PROFILE_FIELDS = ("name", "code", "purpose", "description", "is_active", "criteria")


def _weight(value: Any, *, field: str, errors: list[FieldError]) -> int:
    if isinstance(value, str) and is_id(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(FieldError(field, _("must be a whole number")))
        return 0
    if not 1 <= value <= MAX_WEIGHT:
        errors.append(
            FieldError(field, _("must be between 1 and %(maximum)d") % {"maximum": MAX_WEIGHT})
        )
    return value


def _criteria(
    items: Any, *, profile: IdealCustomerProfile | None, errors: list[FieldError]
) -> list[_CriterionInput]:
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        errors.append(FieldError("criteria", _("must be a list of criteria")))
        return []
    if not items:
        errors.append(FieldError("criteria", _("a profile needs at least one criterion")))
        return []
    if len(items) > MAX_CRITERIA:
        errors.append(
            FieldError(
                "criteria",
                _("a profile has at most %(maximum)d criteria") % {"maximum": MAX_CRITERIA},
            )
        )
        return []
    known = set(profile.criteria.values_list("pk", flat=True)) if profile is not None else set()
    cleaned: list[_CriterionInput] = []
    for i, item in enumerate(items):
        prefix = f"criteria.{i}"
        if not isinstance(item, Mapping):
            errors.append(
                FieldError(prefix, _("must be an object with a label, a rule and a weight"))
            )
            continue
        unknown = set(item) - {"id", "label", "rule", "weight"}
        errors += [
            FieldError(f"{prefix}.{name}", _("is not a field of a criterion"))
            for name in sorted(unknown)
        ]
        pk = item.get("id")
        if pk is not None and (isinstance(pk, bool) or not isinstance(pk, int) or pk not in known):
            errors.append(FieldError(f"{prefix}.id", _("is not a criterion of this profile")))
            pk = None
        label = _text(
            item.get("label"),
            field=f"{prefix}.label",
            errors=errors,
            limit=MAX_LABEL,
            required=True,
        )
        weight = _weight(item.get("weight", 1), field=f"{prefix}.weight", errors=errors)
        if "rule" not in item:
            errors.append(FieldError(f"{prefix}.rule", _("is required")))
            continue
        rule = _rule(item["rule"], level="organisation", field=f"{prefix}.rule", errors=errors)
        cleaned.append(_CriterionInput(id=pk, label=label, rule=rule, weight=weight))
    return cleaned


def _profile_values(
    data: Mapping[str, Any], *, profile: IdealCustomerProfile | None
) -> tuple[dict[str, Any], list[_CriterionInput] | None]:
    errors: list[FieldError] = []
    errors += [
        FieldError(name, _("is not a field of a profile"))
        for name in sorted(set(data) - set(PROFILE_FIELDS))
    ]
    values: dict[str, Any] = {}
    if profile is None or "name" in data:
        values["name"] = _text(
            data.get("name"), field="name", errors=errors, limit=MAX_NAME, required=True
        )
    if profile is None or "code" in data:
        values["code"] = _code(
            data.get("code"),
            name=values.get("name") or (profile.name if profile else ""),
            model=IdealCustomerProfile,
            exclude_pk=profile.pk if profile else None,
            errors=errors,
        )
    if "purpose" in data:
        if data["purpose"] not in Purpose.values:
            errors.append(
                FieldError(
                    "purpose",
                    _("must be one of: %(choices)s") % {"choices": ", ".join(Purpose.values)},
                )
            )
        values["purpose"] = data["purpose"]
    if "description" in data:
        values["description"] = _text(
            data["description"], field="description", errors=errors, limit=MAX_DESCRIPTION
        )
    if "is_active" in data:
        values["is_active"] = _boolean(data["is_active"], field="is_active", errors=errors)
    criteria = None
    if profile is None or "criteria" in data:
        criteria = _criteria(data.get("criteria"), profile=profile, errors=errors)
    if errors:
        raise ValidationFailed(errors=errors)
    return values, criteria


def _criteria_differ(profile: IdealCustomerProfile, criteria: list[_CriterionInput]) -> bool:
    current = [(c.pk, c.rule, c.weight) for c in profile.criteria.order_by("position", "id")]
    wanted = [(c.id, c.rule, c.weight) for c in criteria]
    return current != wanted


def _save_criteria(profile: IdealCustomerProfile, criteria: list[_CriterionInput]) -> None:
    """Keep the criteria named by id (their ids stay in the stored `matched` lists), create the
    new ones, delete the rest."""
    kept = {c.id for c in criteria if c.id is not None}
    profile.criteria.exclude(pk__in=kept).delete()
    existing = {c.pk: c for c in profile.criteria.all()}
    for position, item in enumerate(criteria):
        criterion = existing.get(item.id) if item.id is not None else None
        if criterion is None:
            criterion = ProfileCriterion(profile=profile)
        changed = (criterion.label, criterion.rule, criterion.weight, criterion.position) != (
            item.label,
            item.rule,
            item.weight,
            position,
        )
        if criterion.pk is None or changed:
            criterion.label, criterion.rule = item.label, item.rule
            criterion.weight, criterion.position = item.weight, position
            criterion.save()


def _schedule_scoring(profile: IdealCustomerProfile, actor: Any) -> None:
    from cible.segments.profiles import tasks  # tasks call services: import when needed

    pk, actor_id = profile.pk, getattr(actor, "pk", None)
    transaction.on_commit(lambda: tasks.compute_profile(pk, actor_id))


@transaction.atomic
def profile_create(
    *,
    actor: Any,
    channel: str,
    name: str,
    criteria: Sequence[Mapping[str, Any]],
    purpose: str = Purpose.CONQUEST,
    code: str = "",
    description: str = "",
    is_active: bool = True,
) -> IdealCustomerProfile:
    """Create a profile with its criteria (each: label, rule at organisation level, weight ≥ 1);
    its fit scores are computed in the background once committed."""
    _require_manager(actor)
    values, cleaned = _profile_values(
        {
            "name": name,
            "code": code,
            "purpose": purpose,
            "description": description,
            "is_active": is_active,
            "criteria": criteria,
        },
        profile=None,
    )
    profile = IdealCustomerProfile(**values)
    with audit_context(actor=actor, channel=channel):
        profile.save()
        _save_criteria(profile, cleaned or [])
    if profile.is_active:
        _schedule_scoring(profile, actor)
    return profile


@transaction.atomic
def profile_update(
    *,
    profile: IdealCustomerProfile,
    actor: Any,
    channel: str,
    expected_version: int | None = None,
    **fields: Any,
) -> IdealCustomerProfile:
    """Change the given fields (name, code, purpose, description, is_active, criteria).

    `criteria` replaces the list: an item with the `id` of an existing criterion changes it,
    one without an id is new, criteria left out are deleted. New criteria, new weights or
    re-activation queue a full recomputation.
    """
    _require_manager(actor)
    values, criteria = _profile_values(fields, profile=profile)
    expected = profile.version if expected_version is None else expected_version
    rescore = bool(
        (criteria is not None and _criteria_differ(profile, criteria))
        or (values.get("is_active") and not profile.is_active)
    )
    for name, value in values.items():
        setattr(profile, name, value)
    if rescore:
        profile.scored_at = None
    with audit_context(actor=actor, channel=channel):
        save_versioned(profile, expected_version=expected)
        if criteria is not None:
            _save_criteria(profile, criteria)
    if rescore and profile.is_active:
        _schedule_scoring(profile, actor)
    return profile


@transaction.atomic
def profile_delete(*, profile: IdealCustomerProfile, actor: Any, channel: str) -> None:
    """Delete a profile, its criteria and its fit scores (one statement for the scores)."""
    _require_manager(actor)
    delete_scores(profile_ids=[profile.pk])
    with audit_context(actor=actor, channel=channel):
        profile.delete()


# --- personas ------------------------------------------------------------------------------------

PERSONA_FIELDS = ("name", "code", "description", "rule", "position")


def _persona_values(data: Mapping[str, Any], *, persona: Persona | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    errors += [
        FieldError(name, _("is not a field of a persona"))
        for name in sorted(set(data) - set(PERSONA_FIELDS))
    ]
    values: dict[str, Any] = {}
    if persona is None or "name" in data:
        values["name"] = _text(
            data.get("name"), field="name", errors=errors, limit=MAX_NAME, required=True
        )
    if persona is None or "code" in data:
        values["code"] = _code(
            data.get("code"),
            name=values.get("name") or (persona.name if persona else ""),
            model=Persona,
            exclude_pk=persona.pk if persona else None,
            errors=errors,
        )
    if "description" in data:
        values["description"] = _text(
            data["description"], field="description", errors=errors, limit=MAX_DESCRIPTION
        )
    if "position" in data:
        position = data["position"]
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 1000:
            errors.append(FieldError("position", _("must be a whole number from 0 to 1000")))
        values["position"] = position
    if persona is None or "rule" in data:
        if data.get("rule") is None:
            errors.append(FieldError("rule", _("is required")))
        else:
            values["rule"] = _rule(data["rule"], level="contact", field="rule", errors=errors)
    if errors:
        raise ValidationFailed(errors=errors)
    return values


@transaction.atomic
def persona_create(
    *,
    actor: Any,
    channel: str,
    name: str,
    rule: Any,
    code: str = "",
    description: str = "",
    position: int | None = None,
) -> Persona:
    """Create a persona: a rule group at contact level (function, seniority …)."""
    _require_manager(actor)
    data: dict[str, Any] = {"name": name, "code": code, "description": description, "rule": rule}
    if position is not None:
        data["position"] = position
    values = _persona_values(data, persona=None)
    if "position" not in values:
        values["position"] = Persona.objects.count()
    persona = Persona(**values)
    with audit_context(actor=actor, channel=channel):
        persona.save()
    return persona


@transaction.atomic
def persona_update(
    *,
    persona: Persona,
    actor: Any,
    channel: str,
    expected_version: int | None = None,
    **fields: Any,
) -> Persona:
    """Change the given fields (name, code, description, rule, position)."""
    _require_manager(actor)
    values = _persona_values(fields, persona=persona)
    expected = persona.version if expected_version is None else expected_version
    for name, value in values.items():
        setattr(persona, name, value)
    with audit_context(actor=actor, channel=channel):
        save_versioned(persona, expected_version=expected)
    return persona


@transaction.atomic
def persona_delete(*, persona: Persona, actor: Any, channel: str) -> None:
    _require_manager(actor)
    with audit_context(actor=actor, channel=channel):
        persona.delete()
