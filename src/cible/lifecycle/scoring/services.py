"""Writing scoring models: every change checked, audited, versioned, and followed by a rescore.

Changing the active model's rules, or activating another model, queues a whole-base rescore
(`tasks.rescore_all`): the scores on the leads are always the active model's, and the run's
progress shows on the model's page until they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import Channel, audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import ConflictError, FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.lifecycle.scoring.definition import Rules, parse
from cible.lifecycle.scoring.models import ScoringModel
from cible.segments.axes.models import Segment
from cible.segments.profiles.models import IdealCustomerProfile, Persona

NAME_MAX = 100


def may_edit(user: Any) -> bool:
    """Marketing owns the scoring model (seed 004 §3); administrators too."""
    return access.role_of(user) in (Role.MARKETING, Role.ADMIN)


def _require_editor(user: Any) -> None:
    if not may_edit(user):
        raise PermissionDenied(_("Only Marketing and administrators change scoring models."))


def _check_references(rules: Rules) -> None:
    """Every ICP, persona and segment the rules name must exist."""
    errors: list[FieldError] = []
    if rules.icp is not None and not IdealCustomerProfile.objects.filter(pk=rules.icp).exists():
        errors.append(
            FieldError("fit.icp.profile", _("This ideal customer profile no longer exists."))
        )
    personas = set(
        Persona.objects.filter(pk__in=[p for p, _x in rules.personas]).values_list("pk", flat=True)
    )
    for index, (pk, _points) in enumerate(rules.personas):
        if pk not in personas:
            errors.append(
                FieldError(f"fit.personas.{index}.persona", _("This persona no longer exists."))
            )
    segments = set(
        Segment.objects.filter(pk__in=[s for s, _x in rules.segments]).values_list("pk", flat=True)
    )
    for index, (pk, _points) in enumerate(rules.segments):
        if pk not in segments:
            errors.append(
                FieldError(f"fit.segments.{index}.segment", _("This segment no longer exists."))
            )
    if errors:
        raise ValidationFailed(errors=errors)


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(errors=[FieldError("name", _("Give the model a name."))])
    if len(name) > NAME_MAX:
        raise ValidationFailed(
            errors=[FieldError("name", _("At most %(max)s characters.") % {"max": NAME_MAX})]
        )
    return name


def _queue_rescore(model: ScoringModel, reason: str, actor: Any) -> None:
    from cible.lifecycle.scoring import tasks

    pk, actor_id = model.pk, getattr(actor, "pk", None)
    transaction.on_commit(lambda: tasks.rescore_all(pk, reason, actor_id))


def model_create(
    *,
    actor: Any,
    name: str,
    definition: Mapping[str, Any],
    description: str = "",
    channel: str = Channel.UI,
) -> ScoringModel:
    _require_editor(actor)
    name = _clean_name(name)
    _check_references(parse(definition))
    with audit_context(actor=actor, channel=channel), transaction.atomic():
        return ScoringModel.objects.create(
            name=name,
            description=description.strip(),
            definition=dict(definition),
            created_by=actor,
        )


def model_update(
    *,
    model: ScoringModel,
    actor: Any,
    version: int,
    name: str | None = None,
    definition: Mapping[str, Any] | None = None,
    description: str | None = None,
    channel: str = Channel.UI,
) -> ScoringModel:
    """Change a model; the active one is then rescored over the whole base."""
    _require_editor(actor)
    if name is not None:
        model.name = _clean_name(name)
    if description is not None:
        model.description = description.strip()
    rules_changed = definition is not None and dict(definition) != model.definition
    if definition is not None:
        _check_references(parse(definition))
        model.definition = dict(definition)
    with audit_context(actor=actor, channel=channel), transaction.atomic():
        save_versioned(model, expected_version=version)
        if rules_changed and model.is_active:
            _queue_rescore(model, "model", actor)
    return model


def model_activate(*, model: ScoringModel, actor: Any, channel: str = Channel.UI) -> ScoringModel:
    """Make `model` the one whose scores the leads carry, and rescore them all with it."""
    _require_editor(actor)
    _check_references(parse(model.definition))
    with audit_context(actor=actor, channel=channel), transaction.atomic():
        ScoringModel.objects.filter(is_active=True).exclude(pk=model.pk).update(is_active=False)
        try:
            with transaction.atomic():
                ScoringModel.objects.filter(pk=model.pk).update(is_active=True)
        except IntegrityError:
            raise ConflictError(
                _("Another model was activated at the same moment; reload and try again.")
            ) from None
        model.is_active = True
        _queue_rescore(model, "model", actor)
    return model


def model_delete(*, model: ScoringModel, actor: Any, channel: str = Channel.UI) -> None:
    _require_editor(actor)
    if model.is_active:
        raise ValidationFailed(_("The active model cannot be deleted: activate another one first."))
    with audit_context(actor=actor, channel=channel), transaction.atomic():
        model.delete()


def rescore_now(*, actor: Any, channel: str = Channel.UI) -> None:
    """Queue a whole-base rescore with the active model (a button on its page)."""
    _require_editor(actor)
    from cible.lifecycle.scoring.compute import active_model

    model = active_model()
    if model is None:
        raise ValidationFailed(_("No scoring model is active."))
    with transaction.atomic():
        _queue_rescore(model, "manual", actor)
