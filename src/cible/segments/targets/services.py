"""Every write of targets: create, update (versioned), delete, duplicate — audited with the
channel. Anyone with a role saves targets of their own; only the owner or an administrator
changes or deletes one; a shared target is visible to (and duplicable by) everybody.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from cible.core import access, values
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from cible.core.normalisers import NormalisationError
from cible.segments.targets import definition as definitions
from cible.segments.targets.models import Target, TargetLevel
from cible.segments.targets.selectors import may_change, target_list

FIELDS = {"name", "description", "level", "definition", "shared"}
NAME_MAX = 150
DESCRIPTION_MAX = 2000


def _require_role(actor: Any) -> None:
    if access.role_of(actor) is None:
        raise PermissionDenied(
            _("Your account has no role in Cible yet: ask an administrator to give you one.")
        )


def _require_change(actor: Any, target: Target) -> None:
    if not target_list(viewer=actor).filter(pk=target.pk).exists():
        raise NotFound(_("No target #%(id)s, or it is not shared with you.") % {"id": target.pk})
    if not may_change(actor, target):
        raise PermissionDenied(
            _(
                "Only the owner of “%(name)s” or an administrator may change it; duplicate it "
                "to make a version of your own."
            )
            % {"name": target.name}
        )


def _text(data: Mapping[str, Any], name: str, limit: int, errors: list[FieldError]) -> str:
    raw = data.get(name)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors.append(FieldError(name, _("text is expected")))
        return ""
    text = raw.strip() if name == "description" else " ".join(raw.split())
    if len(text) > limit:
        errors.append(
            FieldError(
                name,
                _("is too long (%(length)s characters, at most %(max)s)")
                % {"length": len(text), "max": limit},
            )
        )
    return text


def _clean(data: Mapping[str, Any], target: Target | None) -> dict[str, Any]:
    """The fields to store, checked; ValidationFailed lists every problem at once."""
    errors: list[FieldError] = []
    for name in sorted(set(data) - FIELDS - {"id", "version"}):
        errors.append(FieldError(name, _("is not a field you can set here")))
    cleaned: dict[str, Any] = {}
    if "name" in data or target is None:
        cleaned["name"] = _text(data, "name", NAME_MAX, errors)
        if not cleaned["name"] and not any(e.field == "name" for e in errors):
            errors.append(FieldError("name", _("is required")))
    if "description" in data:
        cleaned["description"] = _text(data, "description", DESCRIPTION_MAX, errors)
    if "shared" in data:
        try:
            shared = values.boolean(data["shared"], field="shared")
        except NormalisationError as error:
            errors.append(FieldError("shared", error.message))
        else:
            cleaned["shared"] = bool(shared)
    level = data.get("level", target.level if target else TargetLevel.ORGANISATION)
    if level not in TargetLevel.values:
        errors.append(
            FieldError(
                "level",
                _("“%(value)s” is not a level: use organisation or contact")
                % {"value": str(level)[:60]},
            )
        )
    else:
        cleaned["level"] = level
        # A new level re-checks the stored definition (a contact rule needs a contact target).
        if "definition" in data or target is None or level != target.level:
            raw = (
                data.get("definition")
                if "definition" in data
                else getattr(target, "definition", None)
            )
            try:
                cleaned["definition"] = definitions.parse(raw, level=level).to_json()
            except definitions.DefinitionInvalid as error:
                errors.extend(error.errors)
    if errors:
        raise ValidationFailed(errors=errors)
    return cleaned


@transaction.atomic
def target_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> Target:
    """A new target owned by `actor` (private unless `shared`)."""
    _require_role(actor)
    target = Target(owner=actor, **_clean(data, None))
    with audit_context(actor=actor, channel=channel):
        target.save()
    return target


def target_update(
    *,
    target: Target,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Target:
    """Change the fields sent; refused with ConflictError (409) if somebody saved the target
    since `expected_version` was read."""
    _require_change(actor, target)
    with transaction.atomic():
        cleaned = _clean(data, target)
        expected = target.version if expected_version is None else expected_version
        for name, value in cleaned.items():
            setattr(target, name, value)
        with audit_context(actor=actor, channel=channel):
            save_versioned(target, expected_version=expected)
    return target


@transaction.atomic
def target_delete(*, target: Target, actor: Any, channel: str) -> None:
    _require_change(actor, target)
    with audit_context(actor=actor, channel=channel):
        target.delete()


@transaction.atomic
def target_duplicate(
    *, target: Target, actor: Any, channel: str, name: str | None = None
) -> Target:
    """A private copy of a target the actor sees, owned by the actor ("Copy of …" by default).
    The definition is checked again: a segment deleted since is refused, not copied."""
    _require_role(actor)
    if not target_list(viewer=actor).filter(pk=target.pk).exists():
        raise NotFound(_("No target #%(id)s, or it is not shared with you.") % {"id": target.pk})
    copy_name = name if name is not None else _("Copy of %(name)s") % {"name": target.name}
    return target_create(
        actor=actor,
        channel=channel,
        data={
            "name": copy_name[:NAME_MAX],
            "description": target.description,
            "level": target.level,
            "definition": target.definition,
            "shared": False,
        },
    )


__all__ = ["target_create", "target_delete", "target_duplicate", "target_update"]
