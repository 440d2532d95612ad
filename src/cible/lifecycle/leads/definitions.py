"""Writes of stage definitions: what MQL, SAL and SQL mean here, written down, versioned and
agreed by both Marketing and Sales (seed 004 §2: "comprises et acceptées par le Marketing et les
Ventes"). A version becomes agreed once each side approved it, by two different people; it then
supersedes the stage's previous agreed version, and its criteria apply automatically.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import Channel, audit_context
from cible.core.errors import ConflictError, FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.lifecycle.leads import criteria as rules
from cible.lifecycle.leads import moves
from cible.lifecycle.leads.models import (
    DefinitionApproval,
    DefinitionStatus,
    Stage,
    StageDefinition,
)


class Side:
    MARKETING = "marketing"
    SALES = "sales"


SIDES = {
    Side.MARKETING: (Role.MARKETING, Role.ADMIN),
    Side.SALES: (Role.SALES_MANAGER, Role.AE, Role.SDR, Role.IR, Role.ADMIN),
}


def side_label(side: str) -> str:
    return _("Marketing") if side == Side.MARKETING else _("Sales")


def sides_of(user: Any) -> list[str]:
    """The sides `user` may approve for (an administrator may stand for either, not both)."""
    role = access.role_of(user)
    return [side for side, roles in SIDES.items() if role in roles]


@transaction.atomic
def write_definition(
    *, stage: str, text: str, criteria: Any, actor: Any, channel: str = Channel.UI
) -> StageDefinition:
    """A new draft version of `stage`'s definition; it applies once both sides agree to it."""
    if actor is not None and not sides_of(actor):  # None: the seed, from the command line
        raise PermissionDenied(_("Only Marketing and Sales write stage definitions."))
    errors: list[FieldError] = []
    if stage not in moves.DEFINABLE:
        errors.append(
            FieldError(
                "stage",
                _("definitions are written for %(stages)s")
                % {"stages": ", ".join(str(Stage(s).label) for s in moves.DEFINABLE)},
            )
        )
    body = (text or "").strip()
    if not body:
        errors.append(FieldError("text", _("write what the stage means, in the team's words")))
    elif len(body) > 5000:
        errors.append(FieldError("text", _("at most 5,000 characters")))
    try:
        clean = rules.validate(criteria)
    except ValidationFailed as error:
        errors.extend(error.errors)
        clean = {}
    if errors:
        raise ValidationFailed(errors=errors)
    latest = StageDefinition.objects.filter(stage=stage).aggregate(n=Max("version"))["n"] or 0
    definition = StageDefinition(
        stage=stage, version=latest + 1, text=body, criteria=clean, written_by=actor
    )
    try:
        with transaction.atomic(), audit_context(actor=actor, channel=channel):
            definition.save()
    except IntegrityError:
        raise ConflictError(
            _("Someone wrote another version of this definition at the same time; reload.")
        ) from None
    return definition


@transaction.atomic
def approve_definition(
    *, definition: StageDefinition, actor: Any, side: str, channel: str = Channel.UI
) -> StageDefinition:
    """`actor` approves `definition` for `side`; with both sides it becomes the agreed one."""
    if side not in SIDES:
        raise ValidationFailed(errors=[FieldError("side", _("is “marketing” or “sales”"))])
    if side not in sides_of(actor):
        raise PermissionDenied(_("You may not approve for %(side)s.") % {"side": side_label(side)})
    # Lock the row: two approvals at once must not both miss that the other side is in.
    definition = StageDefinition.objects.select_for_update().get(pk=definition.pk)
    if definition.status != DefinitionStatus.DRAFT:
        raise ValidationFailed(
            _("%(definition)s is %(status)s; only a draft can be approved.")
            % {"definition": definition, "status": definition.get_status_display().lower()}
        )
    agreed = StageDefinition.objects.filter(
        stage=definition.stage, status=DefinitionStatus.AGREED
    ).first()
    if agreed is not None and agreed.version > definition.version:
        raise ValidationFailed(
            _("Version %(newer)s is already agreed; write a new version instead.")
            % {"newer": agreed.version}
        )
    approvals = list(definition.approvals.all())
    if any(a.side == side for a in approvals):
        raise ConflictError(
            _("%(side)s has already approved this version.") % {"side": side_label(side)}
        )
    if any(a.approver_id == actor.pk for a in approvals):
        raise ValidationFailed(
            _(
                "You approved this version for the other side; someone else must approve it for "
                "%(side)s."
            )
            % {"side": side_label(side)}
        )
    with audit_context(actor=actor, channel=channel):
        try:
            with transaction.atomic():
                DefinitionApproval.objects.create(definition=definition, approver=actor, side=side)
        except IntegrityError:
            raise ConflictError(
                _("%(side)s has already approved this version.") % {"side": side_label(side)}
            ) from None
        if len(approvals) + 1 == len(SIDES):
            # Supersede first: `definition_one_agreed` allows one agreed version per stage.
            if agreed is not None:
                agreed.status = DefinitionStatus.SUPERSEDED
                agreed.save(update_fields=["status"])
            definition.status = DefinitionStatus.AGREED
            definition.agreed_at = timezone.now()
            definition.save(update_fields=["status", "agreed_at"])
    return definition


def seed_texts() -> list[tuple[str, str, dict[str, Any]]]:
    """The starting definitions (seed 004 §2–3), in the active language, for the team to edit."""
    return [
        (
            Stage.MQL,
            _(
                "A marketing qualified lead fits our target and has shown enough interest: a "
                "profile score of 60 or more (company and person match our ideal customer) and "
                "an engagement score of 40 or more (campaigns answered, events attended, "
                "downloads, calls)."
            ),
            {"min_profile_score": 60, "min_engagement_score": 40},
        ),
        (
            Stage.SAL,
            _(
                "A sales accepted lead is an MQL that Sales has reviewed and accepted within the "
                "agreed service level, committing to contact it. Sales decides; there is no "
                "automatic rule."
            ),
            {},
        ),
        (
            Stage.SQL,
            _(
                "A sales qualified lead has been qualified by Sales on BANT: a budget planned or "
                "approved, a contact who decides or influences the decision, a need identified "
                "or critical, and a purchase expected within six months."
            ),
            {
                "bant": {
                    "budget": ["planned", "approved"],
                    "authority": ["decision_maker", "influencer"],
                    "need": ["identified", "critical"],
                    "timing": ["within_quarter", "within_half"],
                }
            },
        ),
    ]


def seed_definitions(*, actor: Any = None, channel: str = Channel.CLI) -> list[StageDefinition]:
    """Write the starting drafts for the stages that have no definition yet; idempotent."""
    written = []
    for stage, text, criteria in seed_texts():
        if not StageDefinition.objects.filter(stage=stage).exists():
            written.append(
                write_definition(
                    stage=stage, text=text, criteria=criteria, actor=actor, channel=channel
                )
            )
    return written
