"""Every write to leads: opening one, moving it (by hand, by Sales' one-click answers, by agreed
definitions), qualifying it (BANT). The move graph is `moves.py`; definitions are
`definitions.py`; rules applied and leads opened in bulk are `automatic.py`.

Each move writes, in one transaction: the lead (versioned), its `StageTransition` with the scores
of that moment and the definition applied, and the contact's `lifecycle_stage` mirror.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cible.core import access, values
from cible.core.audit import Channel, audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import ConflictError, FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.engagement.campaigns.models import Campaign
from cible.lifecycle.leads import criteria as rules
from cible.lifecycle.leads import moves
from cible.lifecycle.leads.models import (
    FINAL,
    Authority,
    Budget,
    Lead,
    Need,
    RecycleReason,
    Stage,
    StageDefinition,
    Timing,
    TransitionChannel,
)
from cible.lifecycle.leads.moves import Via
from cible.lifecycle.leads.transitions import (
    agreed_rules,
    clean_value,
    definition_for,
    human,
    may_change,
    mirror_contact_stage,
    move_lead,
    record_transition,
)
from cible.people.models import Contact, Organisation, Source
from cible.people.references import resolve_owner, resolve_visible

SALES_ROLES = (Role.SDR, Role.IR, Role.AE, Role.SALES_MANAGER, Role.ADMIN)
REJECTION_REQUALIFY_DAYS = 90


@transaction.atomic
def move(
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
) -> Lead:
    """Move `lead` to `to_stage` if the graph (moves.py) and the destination's agreed definition
    allow it; ValidationFailed names both stages, or lists what the definition misses."""
    return move_lead(
        lead=lead,
        to_stage=to_stage,
        actor=actor,
        channel=channel,
        reason=reason,
        note=note,
        requalify_on=requalify_on,
        version=version,
        definition=definition,
    )


def _sales_only(actor: Any, message: str) -> None:
    if access.role_of(actor) not in SALES_ROLES:
        raise PermissionDenied(message)


def _must_be_mql(lead: Lead) -> None:
    if lead.stage != Stage.MQL:
        raise ValidationFailed(
            _("Only an MQL waits for Sales' answer; this lead is at %(stage)s.")
            % {"stage": lead.get_stage_display()},
            errors=[FieldError("to_stage", _("the lead is not an MQL"))],
        )


@transaction.atomic
def accept(
    *, lead: Lead, actor: Any, channel: str = Channel.UI, version: int | None = None
) -> Lead:
    """Sales accepts an MQL: it becomes a SAL (seed 004 §2)."""
    _sales_only(actor, _("Only Sales may accept a marketing qualified lead."))
    _must_be_mql(lead)
    return move_lead(lead=lead, to_stage=Stage.SAL, actor=actor, channel=channel, version=version)


@transaction.atomic
def reject(
    *,
    lead: Lead,
    actor: Any,
    reason: str,
    note: str = "",
    requalify_on: Any = None,
    channel: str = Channel.UI,
    version: int | None = None,
) -> Lead:
    """Sales rejects an MQL back to Marketing: Recycled, "rejected by Sales", with Sales' words
    (`reason`, required) and a re-qualification date (default: in three months)."""
    _sales_only(actor, _("Only Sales may reject a marketing qualified lead."))
    _must_be_mql(lead)
    why = (reason or "").strip()
    if not why:
        raise ValidationFailed(errors=[FieldError("reason", _("say why Sales rejects this lead"))])
    if requalify_on in (None, ""):
        requalify_on = timezone.localdate() + dt.timedelta(days=REJECTION_REQUALIFY_DAYS)
    text = f"{why} — {note.strip()}" if (note or "").strip() else why
    return move_lead(
        lead=lead,
        to_stage=Stage.RECYCLED,
        actor=actor,
        channel=channel,
        reason=RecycleReason.REJECTED_BY_SALES,
        note=text,
        requalify_on=requalify_on,
        version=version,
    )


def enter_opportunity(*, lead: Lead, actor: Any, channel: str) -> Lead:
    """The lead's conversion into a deal (called by `pipeline.conversion`, inside its
    transaction). A SAL converts only when the agreed SQL definition holds for it."""
    if lead.stage == Stage.SAL:
        return move_lead(
            lead=lead,
            to_stage=Stage.OPPORTUNITY,
            actor=actor,
            channel=channel,
            via=Via.CONVERSION,
            rule_stage=Stage.SQL,
        )
    return move_lead(
        lead=lead, to_stage=Stage.OPPORTUNITY, actor=actor, channel=channel, via=Via.CONVERSION
    )


def close_opportunity_lead(*, lead: Lead, won: bool, actor: Any, channel: str) -> Lead | None:
    """The deal of `lead` closed (called by `pipeline.services`): won makes a customer, lost
    recycles it ("opportunity lost", re-qualify in three months). A lead no longer at Opportunity
    (moved meanwhile) is left as it is."""
    if lead.stage != Stage.OPPORTUNITY:
        return None
    if won:
        return move_lead(
            lead=lead, to_stage=Stage.CUSTOMER, actor=actor, channel=channel, via=Via.CLOSING
        )
    return move_lead(
        lead=lead,
        to_stage=Stage.RECYCLED,
        actor=actor,
        channel=channel,
        reason=RecycleReason.OPPORTUNITY_LOST,
        requalify_on=timezone.localdate() + dt.timedelta(days=REJECTION_REQUALIFY_DAYS),
        via=Via.CLOSING,
    )


# --- agreed definitions that are rules ----------------------------------------------------------


def apply_rules_to(*, lead: Lead, actor: Any, channel: str) -> Lead:
    """Move one lead as far as the agreed definitions take it (one stage: see `rule_target`)."""
    ruled, gates = agreed_rules()
    target = moves.rule_target(lead.stage, set(ruled), gates)
    if target is None or rules.missing(ruled[target].criteria, lead):
        return lead
    if lead.stage == Stage.RECYCLED and (
        lead.requalify_on is not None and lead.requalify_on > timezone.localdate()
    ):
        return lead  # Marketing asked to look again later, not sooner
    return move_lead(
        lead=lead,
        to_stage=target,
        actor=actor,
        channel=channel,
        definition=ruled[target],
        transition_channel=TransitionChannel.RULE,
    )


# --- opening and editing ------------------------------------------------------------------------


def _live_lead_of(contact: Contact) -> Lead | None:
    return Lead.objects.filter(contact=contact).exclude(stage__in=FINAL).first()


def _already_live(contact: Contact, existing: Lead) -> ConflictError:
    message = _(
        "%(contact)s already has a live lead: #%(id)s, %(stage)s since %(date)s. "
        "Work on that one, or close it before opening another."
    ) % {
        "contact": contact,
        "id": existing.pk,
        "stage": existing.get_stage_display(),
        "date": date_format(timezone.localtime(existing.stage_entered_at), "SHORT_DATE_FORMAT"),
    }
    return ConflictError(message, errors=[FieldError("contact", message)])


def _resolve_campaign(raw: Any, errors: list[FieldError]) -> Campaign | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, Campaign):
        return raw
    found = Campaign.objects.filter(pk=raw).first() if values.is_id(raw) else None
    if found is None:
        errors.append(
            FieldError("campaign", _("no campaign with id %(id)s") % {"id": str(raw)[:20]})
        )
    return found


def _resolve(
    model: type[Organisation] | type[Contact], raw: Any, field: str, actor: Any, errors: list
) -> Any:
    if raw in (None, ""):
        return None
    if human(actor) is None:  # a job or an import: no viewer to narrow by
        if isinstance(raw, model):
            return raw
        found = model.objects.filter(pk=raw).first() if values.is_id(raw) else None
        if found is None:
            errors.append(FieldError(field, _("no such record (%(id)s)") % {"id": str(raw)[:20]}))
        return found
    return resolve_visible(model, raw, field, actor, errors)


@transaction.atomic
def open_lead(
    *,
    contact: Any = None,
    organisation: Any = None,
    source: str,
    source_detail: str = "",
    campaign: Any = None,
    owner: Any = None,
    stage: str = Stage.SUSPECT,
    arrived_at: dt.datetime | None = None,
    external_id: str = "",
    actor: Any,
    channel: str,
) -> Lead:
    """Open a lead for a contact (or an organisation alone). A contact has one live lead at most:
    a second is refused with a ConflictError naming the first, also when two arrive at once."""
    if human(actor) is not None and not access.can(actor, "change"):
        raise PermissionDenied(_("You may not open leads."))
    errors: list[FieldError] = []
    person = _resolve(Contact, contact, "contact", actor, errors)
    company = _resolve(Organisation, organisation, "organisation", actor, errors)
    if person is None and company is None and not errors:
        errors.append(FieldError("contact", _("a lead needs a contact or an organisation")))
    source_code = clean_value(
        errors, lambda: values.choice(source, field="source", choices=Source.choices)
    )
    if str(stage) not in moves.OPENING:
        errors.append(
            FieldError(
                "stage",
                _("a lead opens at %(stages)s")
                % {"stages": ", ".join(str(Stage(s).label) for s in moves.OPENING)},
            )
        )
    user = resolve_owner(owner, errors)
    chosen_campaign = _resolve_campaign(campaign, errors)
    if arrived_at is not None and arrived_at > timezone.now() + dt.timedelta(minutes=5):
        errors.append(FieldError("arrived_at", _("cannot be in the future")))
    detail = (source_detail or "").strip()
    if len(detail) > 100:
        errors.append(FieldError("source_detail", _("at most 100 characters")))
    if errors:
        raise ValidationFailed(errors=errors)
    if person is not None and (existing := _live_lead_of(person)) is not None:
        raise _already_live(person, existing)
    now = timezone.now()
    lead = Lead(
        contact=person,
        organisation=company or (person.organisation if person else None),
        external_id=(external_id or "")[:100],
        stage=stage,
        stage_entered_at=now,
        arrived_at=arrived_at or now,
        source=source_code or "",
        source_detail=detail,
        campaign=chosen_campaign,
        owner=user,
    )
    applied = definition_for(lead, stage) if stage in moves.DEFINABLE else None
    try:
        with transaction.atomic(), audit_context(actor=actor, channel=channel):
            lead.save()
    except IntegrityError:
        existing = _live_lead_of(person) if person is not None else None
        if existing is not None and person is not None:
            raise _already_live(person, existing) from None
        raise ConflictError(
            _("Another lead was opened for this contact at the same time.")
        ) from None
    record_transition(lead, from_stage="", actor=actor, channel=channel, definition=applied)
    if person is not None:
        mirror_contact_stage([person.pk])
    return lead


def _choice(raw: Any, field: str, choices: Any, errors: list[FieldError]) -> str | None:
    return clean_value(errors, lambda: values.choice(raw, field=field, choices=choices))


BANT_FIELDS: dict[str, Any] = {
    "budget": Budget,
    "authority": Authority,
    "need": Need,
    "timing": Timing,
}
EDITABLE = (*BANT_FIELDS, "qualification_notes", "owner", "source", "source_detail", "campaign")


@transaction.atomic
def lead_update(
    *,
    lead: Lead,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> Lead:
    """Change BANT, notes, owner, source or campaign (never the stage: that is `move`). When
    BANT changed, the agreed definitions that are rules apply (a SAL meeting SQL moves)."""
    may_change(actor, lead)
    errors: list[FieldError] = []
    unknown = [k for k in data if k not in EDITABLE]
    for name in unknown:
        errors.append(FieldError(name, _("cannot be changed here")))
    changes: dict[str, Any] = {}
    for name, choices in BANT_FIELDS.items():
        if name in data:
            changes[name] = _choice(data[name], name, choices.choices, errors)
    if "source" in data:
        changes["source"] = clean_value(
            errors, lambda: values.choice(data["source"], field="source", choices=Source.choices)
        )
    for name, limit in (("qualification_notes", 5000), ("source_detail", 100)):
        if name in data:
            text = str(data[name] or "").strip()
            if len(text) > limit:
                errors.append(FieldError(name, _("at most %(n)s characters") % {"n": limit}))
            changes[name] = text
    if "owner" in data:
        changes["owner"] = resolve_owner(data["owner"], errors)
    if "campaign" in data:
        changes["campaign"] = _resolve_campaign(data["campaign"], errors)
    if errors:
        raise ValidationFailed(errors=errors)
    bant_changed = any(getattr(lead, n) != changes[n] for n in BANT_FIELDS if n in changes)
    for name, value in changes.items():
        setattr(lead, name, "" if value is None and name not in ("owner", "campaign") else value)
    with audit_context(actor=actor, channel=channel):
        save_versioned(lead, expected_version=expected_version)
    if bant_changed:
        lead = apply_rules_to(lead=lead, actor=actor, channel=channel)
    return lead


def qualify(
    *,
    lead: Lead,
    actor: Any,
    budget: str,
    authority: str,
    need: str,
    timing: str,
    notes: str = "",
    version: int | None = None,
    channel: str = Channel.UI,
) -> Lead:
    """Record BANT (seed 004 §3); a SAL whose agreed SQL definition now holds becomes a SQL."""
    return lead_update(
        lead=lead,
        actor=actor,
        channel=channel,
        data={
            "budget": budget,
            "authority": authority,
            "need": need,
            "timing": timing,
            "qualification_notes": notes,
        },
        expected_version=version,
    )


# The set-based rules and the definitions' writes live in their own modules; every write to
# leads is still reachable from here.
from cible.lifecycle.leads.automatic import apply_definitions  # noqa: E402
from cible.lifecycle.leads.definitions import (  # noqa: E402
    approve_definition,
    seed_definitions,
    write_definition,
)

__all__ = [
    "accept",
    "apply_definitions",
    "apply_rules_to",
    "approve_definition",
    "close_opportunity_lead",
    "enter_opportunity",
    "lead_update",
    "move",
    "open_lead",
    "qualify",
    "reject",
    "seed_definitions",
    "write_definition",
]
