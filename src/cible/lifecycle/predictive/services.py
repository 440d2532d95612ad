"""Training and choosing predictive models. Marketing, sales managers and administrators may.

A model trained on demand is shown with its report; it gives the leads their probabilities only
once someone chooses it ("Use this model"). The weekly retraining takes over from the active
model by itself only when it measures at least as well on its newer validation leads. Neither
ever moves a stage: that is the rule model's job, agreed by Marketing and Sales.

Each of these is audited: who asked for a training and with which settings, how it ended (by the
background job, in the asker's name), and which model took over from which, by whom or by the
weekly run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import Channel, audit_context
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.lifecycle.leads.importing import lead_properties
from cible.lifecycle.predictive import training
from cible.lifecycle.predictive.models import PredictiveModel, Target, TrainingStatus

# A retrained model replaces the active one if its ROC AUC is at most this much lower.
TOLERANCE = 0.005
# Up to this many live leads, choosing a model gives them their probabilities at once (about a
# second); beyond, in the background.
INLINE_LEADS = 20_000


def may_train(user: Any) -> bool:
    return access.role_of(user) in (Role.MARKETING, Role.SALES_MANAGER, Role.ADMIN)


def _require(user: Any) -> None:
    if not may_train(user):
        raise PermissionDenied(
            _("Only Marketing, sales managers and administrators train predictive models.")
        )


def declared_after_contact() -> list[str]:
    """Lead details the imports declared known only after contact (e.g. a "Lead quality" typed
    by Sales): never learnt from."""
    return sorted(p.name for p in lead_properties() if p.known_after_contact)


def _clean_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    config = dict(config or {})
    errors: list[FieldError] = []
    for key in ("exclude", "include"):
        value = config.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            errors.append(FieldError(key, _("Expected a list of field names.")))
    order_by = config.get("order_by", "arrived_at")
    if not isinstance(order_by, str) or not (
        order_by == "arrived_at" or (order_by.startswith("property:") and len(order_by) > 9)
    ):
        errors.append(FieldError("order_by", _("Order by “arrived_at” or “property:<name>”.")))
    share = config.get("validation_share", training.VALIDATION_SHARE)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0.1 <= share <= 0.5:
        errors.append(FieldError("validation_share", _("Enter a share from 0.1 to 0.5.")))
    unknown = set(config) - {"exclude", "include", "order_by", "validation_share"}
    errors += [FieldError(key, _("Unknown setting.")) for key in sorted(unknown)]
    if errors:
        raise ValidationFailed(errors=errors)
    return {
        "exclude": config.get("exclude", []),
        "include": config.get("include", []),
        "order_by": order_by,
        "validation_share": float(share),
    }


def train_now(
    *,
    actor: Any,
    channel: str,
    target: str = Target.CUSTOMER,
    config: Mapping[str, Any] | None = None,
) -> PredictiveModel:
    """Queue a training; its page shows it running, then its report."""
    _require(actor)
    if target not in Target.values:
        raise ValidationFailed(errors=[FieldError("target", _("Choose what to predict."))])
    with audit_context(actor=actor, channel=channel):
        model = PredictiveModel.objects.create(
            target=target, config=_clean_config(config), trained_by=actor
        )
    from cible.lifecycle.predictive import tasks

    pk, actor_id = model.pk, getattr(actor, "pk", None)
    transaction.on_commit(lambda: tasks.train(pk, actor_id))
    return model


def run_training(*, model: PredictiveModel, actor: Any = None) -> PredictiveModel:
    """Train `model` here (the background job's part), its outcome logged in `actor`'s name."""
    with audit_context(actor=actor, channel=Channel.JOB):
        try:
            return training.train(model, declared_after_contact=declared_after_contact())
        except Exception as error:
            model.status = TrainingStatus.FAILED
            model.message = str(error)[:2000]
            model.finished_at = timezone.now()
            model.save()
            raise


def activate(*, model: PredictiveModel, actor: Any, channel: str) -> PredictiveModel:
    """Let `model` give the leads their probabilities (all live leads are scored in the
    background)."""
    _require(actor)
    if model.status != TrainingStatus.READY:
        raise ValidationFailed(_("Only a model that finished training can be used."))
    from cible.lifecycle.leads.models import FINAL, Lead

    live = Lead.objects.exclude(stage__in=FINAL).count()
    with audit_context(actor=actor, channel=channel):
        _switch_to(model, background=live > INLINE_LEADS)
    return model


def _switch_to(model: PredictiveModel, *, background: bool = False) -> None:
    """Make `model` the active one, then give every live lead its probability: in a Huey task
    on a large base (a page must not wait on a million leads), here otherwise."""
    from cible.lifecycle.predictive import predict, tasks

    with transaction.atomic():
        # Saved one by one, not updated in bulk, so that the audit log sees both switches; the
        # old model first, since only one may be active.
        for previous in PredictiveModel.objects.filter(is_active=True).exclude(pk=model.pk):
            previous.is_active = False
            previous.save(update_fields=["is_active"])
        model.is_active = True
        model.save(update_fields=["is_active"])
        if background:
            pk = model.pk
            transaction.on_commit(lambda: tasks.predict_everyone(pk))
    if not background:
        predict.predict_all(model=model)


def retrain_on_schedule() -> PredictiveModel | None:
    """The weekly run: same target and settings as the active model (if any)."""
    current = PredictiveModel.objects.filter(is_active=True).first()
    if current is None:
        return None
    with audit_context(actor=None, channel=Channel.JOB):
        fresh = PredictiveModel.objects.create(target=current.target, config=current.config)
        run_training(model=fresh)
        if (
            fresh.status == TrainingStatus.READY
            and (fresh.auc or 0) >= (current.auc or 0) - TOLERANCE
        ):
            _switch_to(fresh)
    return fresh
