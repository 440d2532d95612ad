"""The machinery of one move, shared by the services and the pipeline's conversion: check the
graph and the agreed definition, save the lead (versioned), write its `StageTransition` with the
scores of that moment, and mirror the stage on the contact. Callers own the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access, values
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import ConflictError, FieldError, PermissionDenied, ValidationFailed
from cible.core.normalisers import NormalisationError
from cible.lifecycle.leads import criteria as rules
from cible.lifecycle.leads import moves, road
from cible.lifecycle.leads.models import (
    FINAL,
    DefinitionStatus,
    DisqualifyReason,
    Lead,
    RecycleReason,
    Stage,
    StageDefinition,
    StageTransition,
    TransitionChannel,
)
from cible.lifecycle.leads.moves import Via
from cible.lifecycle.leads.signals import Move, send_on_commit
from cible.people.models import Contact

CHUNK = 10_000  # ids per IN (…): well under SQLite's 32,766 and PostgreSQL's 65,535 parameters
T = TypeVar("T")


# --- helpers ------------------------------------------------------------------------------------


def human(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def transition_channel(channel: str) -> str:
    return channel if channel in TransitionChannel.values else TransitionChannel.JOB


def may_change(actor: Any, lead: Lead) -> None:
    """A person must be allowed to change the lead; rules and jobs (no actor) always may."""
    if human(actor) is not None and not access.can(actor, "change", lead):
        raise PermissionDenied(_("You may not change this lead."))


def clean_value(errors: list[FieldError], parse: Callable[[], T]) -> T | None:
    try:
        return parse()
    except NormalisationError as error:
        errors.append(FieldError(error.field, error.message))
        return None


def mirror_contact_stage(contact_ids: Iterable[int]) -> None:
    """Set each contact's `lifecycle_stage` to the stage of their current lead: the live one if
    any, else the latest to arrive (in one UPDATE per chunk)."""
    ids = [pk for pk in set(contact_ids) if pk is not None]
    current = (
        Lead.objects.filter(contact_id=OuterRef("pk"))
        .annotate(
            live=Case(
                When(stage__in=[s.value for s in FINAL], then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("live", "-arrived_at", "-id")
        .values("stage")[:1]
    )
    for start in range(0, len(ids), CHUNK):
        Contact.objects.filter(pk__in=ids[start : start + CHUNK]).update(
            lifecycle_stage=Coalesce(Subquery(current), F("lifecycle_stage"))
        )


def record_transition(
    lead: Lead,
    *,
    from_stage: str,
    actor: Any,
    channel: str,
    reason: str = "",
    note: str = "",
    definition: StageDefinition | None = None,
) -> StageTransition:
    transition = StageTransition.objects.create(
        lead=lead,
        from_stage=from_stage,
        to_stage=lead.stage,
        occurred_at=lead.stage_entered_at,
        actor=human(actor),
        channel=transition_channel(channel),
        reason=reason,
        note=note[:1000],
        definition=definition,
        profile_score=lead.profile_score,
        engagement_score=lead.engagement_score,
        grade=lead.grade,
    )
    road.mark([(lead.pk, lead.stage, transition.occurred_at)])
    send_on_commit([Move(lead.pk, from_stage, lead.stage, transition.channel)])
    return transition


def agreed_definition(stage: str) -> StageDefinition | None:
    return StageDefinition.objects.filter(stage=stage, status=DefinitionStatus.AGREED).first()


def definition_for(
    lead: Lead, stage: str, given: StageDefinition | None = None
) -> StageDefinition | None:
    """The agreed definition of `stage` the lead must meet, refused with what is missing."""
    definition = given if given is not None else agreed_definition(stage)
    if definition is None:
        return None
    if definition.stage != stage or definition.status != DefinitionStatus.AGREED:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "definition",
                    _("%(definition)s is not the agreed definition of %(stage)s")
                    % {"definition": definition, "stage": Stage(stage).label},
                )
            ]
        )
    gaps = rules.missing(definition.criteria, lead)
    if gaps:
        message = _(
            "The agreed definition of %(stage)s (version %(version)s) is not met: %(gaps)s."
        ) % {
            "stage": Stage(stage).label,
            "version": definition.version,
            "gaps": "; ".join(gaps),
        }
        raise ValidationFailed(message, errors=[FieldError("to_stage", message)])
    return definition


def reason_code(stage: str, raw: str, errors: list[FieldError]) -> str:
    choices = RecycleReason.choices if stage == Stage.RECYCLED else DisqualifyReason.choices
    if not (raw or "").strip():
        errors.append(
            FieldError(
                "reason",
                _("is required to recycle a lead")
                if stage == Stage.RECYCLED
                else _("is required to disqualify a lead"),
            )
        )
        return ""
    return clean_value(errors, lambda: values.choice(raw, field="reason", choices=choices)) or ""


def requalify_date(raw: Any, errors: list[FieldError]) -> dt.date | None:
    if raw in (None, ""):
        errors.append(
            FieldError("requalify_on", _("is required: when should Marketing look again?"))
        )
        return None
    day = clean_value(errors, lambda: values.date(raw, field="requalify_on"))
    if day is not None and day <= timezone.localdate():
        errors.append(FieldError("requalify_on", _("must be a day after today")))
        return None
    return day


def save_lead(lead: Lead, expected: int | None) -> None:
    """Save the lead; a second live lead for its contact (a race) becomes a conflict."""
    try:
        with transaction.atomic():
            save_versioned(lead, expected_version=expected)
    except IntegrityError:
        raise ConflictError(
            _("%(contact)s already has another live lead; close or move that one first.")
            % {"contact": lead.contact},
            errors=[FieldError("contact", _("already has a live lead"))],
        ) from None


# --- moves --------------------------------------------------------------------------------------


def move_lead(
    *,
    lead: Lead,
    to_stage: str,
    actor: Any,
    channel: str,
    reason: str = "",
    note: str = "",
    requalify_on: Any = None,
    version: int | None = None,
    definition: StageDefinition | None = None,
    via: str = Via.HAND,
    transition_channel: str | None = None,
    rule_stage: str | None = None,
) -> Lead:
    if via != Via.CLOSING:  # the deal's owner closes it, whoever owns the lead
        may_change(actor, lead)
    to_stage = str(to_stage or "")
    check = moves.check_move(lead.stage, to_stage, via=via)
    if not check.allowed:
        raise ValidationFailed(check.message, errors=[FieldError("to_stage", check.message)])
    errors: list[FieldError] = []
    code = reason_code(to_stage, reason, errors) if check.needs_reason else ""
    if check.needs_date:
        day = requalify_date(requalify_on, errors)
    else:  # a deal lost: the pipeline's own date, not a person's input
        day = requalify_on if isinstance(requalify_on, dt.date) else None
    note = (note or "").strip()
    if check.needs_note and not note:
        errors.append(FieldError("note", _("say why this disqualified lead is reopened")))
    if len(note) > 1000:
        errors.append(FieldError("note", _("at most 1,000 characters")))
    if errors:
        raise ValidationFailed(errors=errors)
    checked_stage = rule_stage or to_stage
    applied = (
        definition_for(lead, checked_stage, definition)
        if checked_stage in moves.DEFINABLE
        else None
    )
    from_stage = lead.stage
    lead.stage = to_stage
    lead.stage_entered_at = timezone.now()
    if from_stage == Stage.RECYCLED:
        lead.recycle_reason, lead.requalify_on = "", None
    if from_stage == Stage.DISQUALIFIED:
        lead.disqualify_reason = ""
    if to_stage == Stage.RECYCLED:
        lead.recycle_reason, lead.requalify_on = code, day
    elif to_stage == Stage.DISQUALIFIED:
        lead.disqualify_reason = code
    with audit_context(actor=actor, channel=channel):
        save_lead(lead, version)
    record_transition(
        lead,
        from_stage=from_stage,
        actor=actor,
        channel=transition_channel or channel,
        reason=code,
        note=note,
        definition=applied,
    )
    if lead.contact_id is not None:
        mirror_contact_stage([lead.contact_id])
    return lead


def agreed_rules() -> tuple[dict[str, StageDefinition], set[str]]:
    """The agreed definitions with criteria by stage, and the stages a person decides (gates)."""
    agreed = list(StageDefinition.objects.filter(status=DefinitionStatus.AGREED))
    ruled = {d.stage: d for d in agreed if d.criteria}
    gates = {d.stage for d in agreed if not d.criteria}
    return ruled, gates
