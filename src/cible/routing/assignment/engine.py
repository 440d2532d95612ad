"""The routing engine: a batch of leads decided and written in one transaction.

Why it stays correct under concurrent arrivals:
- the batch's lead rows are locked first (`SELECT id … FOR UPDATE`, in id order, alone), then
  read by a second statement, which sees what a worker we waited for committed: a lead routed
  since it entered its stage is skipped, so two workers never route one lead twice;
- then every member row of the teams the batch needs is locked, in id order (always leads first,
  members second, each in id order: no deadlock), so round-robin counters and loads are read and
  moved by one worker at a time — on SQLite, IMMEDIATE transactions serialise writers the same
  way. Member locks are taken last, after the recycles and enrolments, so they are held only
  for the few statements that need them;
- each owner is written by a conditional UPDATE on the version read under the lock; a count that
  does not match rolls the whole batch back (the caller retries it).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.lifecycle.leads.models import Lead, RecycleReason, Stage
from cible.routing.assignment import decisions as decide
from cible.routing.assignment.decisions import Context, Decision
from cible.routing.assignment.facts import LeadRow, load_leads
from cible.routing.assignment.models import Assignment, AssignmentMethod, RoutingMember

REQUALIFY_AFTER = dt.timedelta(days=90)


class BatchConflict(Exception):
    """A lead changed under the batch despite the locks (should not happen): retry the batch."""


def route_batch(ids: Sequence[int], *, actor: Any, channel: str, force: bool) -> list[Assignment]:
    """Route one batch inside the caller's transaction; returns the Assignment rows written."""
    ruleset, read = load_leads(ids, lock=True)
    rows = {i: r for i, r in read.items() if r.live and (force or not r.routed_at_this_stage)}
    if not rows:
        return []
    now = timezone.now()
    decisions, ctx = decide.first(rows, ruleset, timezone.localdate())
    _run_actions(decisions, rows, actor=actor, channel=channel)
    decide.read_members(decisions, ctx, lock=True)
    for decision in decisions:
        if decision.needs_team:
            decide.place_in_team(decision, ctx)
    _write_counters(ctx)
    _write_owners(decisions, rows)
    human = actor if getattr(actor, "pk", None) else None
    assignments = [
        Assignment(
            lead_id=d.lead_id,
            rule_id=d.rule.id if d.rule else None,
            user_id=d.user_id,
            team_id=d.team_id if d.method != AssignmentMethod.ACCOUNT else None,
            method=d.method,
            reason=d.full_reason,
            assigned_at=now,
            actor=human,
            channel=channel,
            previous_owner_id=rows[d.lead_id].owner_id,
        )
        for d in decisions
    ]
    Assignment.objects.bulk_create(assignments)
    return assignments


def _write_owners(decisions: Sequence[Decision], rows: dict[int, LeadRow]) -> None:
    """Set each owner, only where the lead is still at the version read under the lock."""
    owners = {
        d.lead_id: d.user_id
        for d in decisions
        if d.user_id is not None and d.user_id != rows[d.lead_id].owner_id
    }
    if not owners:
        return
    same = Q()
    for lead_id in owners:
        same |= Q(pk=lead_id, version=rows[lead_id].version)
    changed = Lead.objects.filter(same).update(
        owner_id=Case(
            *[When(pk=lead_id, then=Value(user_id)) for lead_id, user_id in owners.items()],
            output_field=IntegerField(),
        ),
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if changed != len(owners):
        raise BatchConflict(f"{len(owners) - changed} leads changed under the batch")


def _write_counters(ctx: Context) -> None:
    touched = [m for states in ctx.members.values() for m in states if m.taken]
    if touched:
        RoutingMember.objects.filter(pk__in=[m.id for m in touched]).update(
            assigned=Case(
                *[When(pk=m.id, then=F("assigned") + m.taken) for m in touched],
                output_field=IntegerField(),
            )
        )


def _run_actions(
    decisions: Sequence[Decision], rows: dict[int, LeadRow], *, actor: Any, channel: str
) -> None:
    """Enrol in nurture programs (set-based, per program) and recycle to Marketing."""
    enrolments: dict[int, list[int]] = defaultdict(list)
    for d in decisions:
        if d.method == AssignmentMethod.NURTURE and d.rule and d.rule.program_id:
            enrolments[d.rule.program_id].append(d.lead_id)
    if enrolments:
        from cible.nurture.programs import services as nurture
        from cible.nurture.programs.models import NurtureProgram

        for program in NurtureProgram.objects.filter(pk__in=enrolments):
            lead_ids = enrolments[program.pk]
            nurture.enrol(
                program=program,
                contact_ids=[c for i in lead_ids if (c := rows[i].contact_id) is not None],
                source="routing",
                actor=actor,
                channel=channel,
                lead_ids=lead_ids,
            )
    recycled = {d.lead_id: d.rule for d in decisions if d.method == AssignmentMethod.RECYCLE}
    if recycled:
        from cible.lifecycle.leads import services as leads

        for lead in Lead.objects.filter(pk__in=recycled).order_by("pk"):
            rule = recycled[lead.pk]
            assert rule is not None
            leads.move(
                lead=lead,
                to_stage=Stage.RECYCLED,
                actor=actor,
                channel=channel,
                reason=rule.recycle_reason or RecycleReason.OTHER,
                note=_("Routing rule “%(rule)s”") % {"rule": rule.name},
                requalify_on=timezone.localdate() + REQUALIFY_AFTER,
            )
