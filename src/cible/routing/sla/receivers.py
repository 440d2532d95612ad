"""What starts and stops the clocks: the signals of routing, the lifecycle and interactions, turned
into set-based calls of `clocks` (connected once, in apps.py)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from cible.engagement.interactions.models import InteractionKind, InteractionOutcome
from cible.engagement.interactions.signals import interactions_recorded
from cible.lifecycle.leads.models import Lead, Stage
from cible.lifecycle.leads.signals import leads_moved
from cible.routing.sla import clocks
from cible.routing.sla.models import Handoff

# What counts as touching a lead (seed 003: the SDR's first contact).
TOUCHES = (InteractionKind.CALL, InteractionKind.EMAIL_SENT, InteractionKind.MEETING)
SALES_STAGES = (Stage.MQL, Stage.SAL, Stage.SQL, Stage.OPPORTUNITY)
OVER = (Stage.DISQUALIFIED, Stage.CUSTOMER)


# Rows per round: keeps every `IN (…)` under SQLite's limit of bound variables.
CHUNK = 5_000


def _chunks(rows: list[Any]) -> list[list[Any]]:
    return [rows[at : at + CHUNK] for at in range(0, len(rows), CHUNK)]


def on_leads_assigned(sender: Any, assignments: list[Any], **kwargs: Any) -> None:
    for part in _chunks(assignments):
        _assigned(part)


def on_leads_moved(sender: Any, moves: list[Any], **kwargs: Any) -> None:
    for part in _chunks(moves):
        _moved(part)


def on_interactions(sender: Any, interactions: list[Any], **kwargs: Any) -> None:
    for part in _chunks(interactions):
        _touched(part)


def _assigned(assignments: list[Any]) -> None:
    """First touch for every lead given to a person; acceptance too when it is an MQL."""
    given = [a for a in assignments if a.user_id is not None]
    if not given:
        return
    stages = dict(Lead.objects.filter(pk__in={a.lead_id for a in given}).values_list("pk", "stage"))
    teams = clocks.first_team_of(a.user_id for a in given if a.team_id is None)
    starts = [
        clocks.ClockStart(a.lead_id, a.user_id, a.team_id or teams.get(a.user_id), a.assigned_at)
        for a in given
        if stages.get(a.lead_id) not in OVER
    ]
    clocks.clocks_start(handoff=Handoff.FIRST_TOUCH, starts=starts)
    mqls = [s for s in starts if stages.get(s.lead_id) == Stage.MQL]
    clocks.clocks_start(handoff=Handoff.MQL_ACCEPTANCE, starts=mqls)


def _moved(moves: list[Any]) -> None:
    """Acceptance and review stop, Sales' clocks stop on a recycle, all stop on an ending."""
    now = timezone.now()
    left_mql = [m.lead_id for m in moves if m.from_stage == Stage.MQL and m.to_stage != Stage.MQL]
    clocks.clocks_meet_leads(handoff=Handoff.MQL_ACCEPTANCE, lead_ids=left_mql, at=now)
    reviewed = [m.lead_id for m in moves if m.from_stage == Stage.RECYCLED]
    clocks.clocks_meet_leads(handoff=Handoff.RECYCLE_REVIEW, lead_ids=reviewed, at=now)
    clocks.clocks_cancel(lead_ids=[m.lead_id for m in moves if m.to_stage in OVER])
    # Back with Marketing: Sales owes it no touch any more.
    clocks.clocks_cancel(
        lead_ids=[m.lead_id for m in moves if m.to_stage == Stage.RECYCLED],
        handoffs=(Handoff.FIRST_TOUCH, Handoff.MEETING_FOLLOW_UP),
    )
    recycled = [
        m.lead_id for m in moves if m.to_stage == Stage.RECYCLED and m.from_stage in SALES_STAGES
    ]
    if recycled:
        rows = Lead.objects.filter(pk__in=recycled).values_list("pk", "owner_id")
        owners = dict(rows)
        teams = clocks.first_team_of(owners.values())
        starts = [
            clocks.ClockStart(pk, owner, teams.get(owner) if owner else None, now)
            for pk, owner in owners.items()
        ]
        clocks.clocks_start(handoff=Handoff.RECYCLE_REVIEW, starts=starts)


def _touched(interactions: list[Any]) -> None:
    """The owner's touches meet clocks; a held meeting starts the follow-up."""
    touches = [
        clocks.Touch(i.contact_id, i.owner_id, i.occurred_at)
        for i in interactions
        if i.kind in TOUCHES and i.contact_id is not None and i.owner_id is not None
    ]
    if not touches:
        return
    held = [
        clocks.Touch(i.contact_id, i.owner_id, i.occurred_at)
        for i in interactions
        if i.kind == InteractionKind.MEETING
        and i.outcome == InteractionOutcome.HELD
        and i.contact_id is not None
        and i.owner_id is not None
    ]
    clocks.clocks_touch(touches=touches)
    if held and clocks.follow_ups_start(meetings=held):
        clocks.clocks_touch(touches=touches)  # a later touch in the same batch follows up


def connect() -> None:
    from cible.routing.assignment.signals import leads_assigned

    leads_assigned.connect(on_leads_assigned, dispatch_uid="sla-leads-assigned")
    leads_moved.connect(on_leads_moved, dispatch_uid="sla-leads-moved")
    interactions_recorded.connect(on_interactions, dispatch_uid="sla-interactions")
