"""Shapes of the routing API. Values are checked by the services (drafts.clean), not here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import Id, InputSchema, ListParams, Loose, LooseBool
from cible.routing.assignment.models import Assignment, RoutingRule
from cible.routing.assignment.selectors import MemberRow
from cible.routing.assignment.simulator import Simulation


class RuleIn(InputSchema):
    name: str
    active: LooseBool = True
    conditions: dict[str, Any] | None = Field(
        None,
        description='{"match": "all"|"any", "conditions": [{"field", "op", "value"} or groups]}; '
        "fields: source, campaign, stage, grade, profile_score, engagement_score, probability, "
        "country, region, target, segment. Empty: every lead.",
    )
    action: str = Field("assign_team", description="assign_team, assign_user, nurture, recycle")
    method: str = Field("round_robin", description="round_robin, weighted, least_loaded")
    team: Id | None = None
    user: Id | None = None
    program: Id | None = None
    recycle_reason: str = ""
    position: int | None = Field(None, ge=1, description="Where to insert it (default: last).")


class RulePatch(InputSchema):
    version: int = Field(..., description="The version you read; a newer one gives 409.")
    name: str | None = None
    active: LooseBool = None
    conditions: dict[str, Any] | None = None
    action: str | None = None
    method: str | None = None
    team: Id | None = None
    user: Id | None = None
    program: Id | None = None
    recycle_reason: str | None = None


class RuleOut(Schema):
    id: int
    position: int
    name: str
    active: bool
    conditions: dict[str, Any]
    action: str
    method: str
    team: int | None
    user: int | None
    program: int | None
    recycle_reason: str
    version: int


def rule_out(rule: RoutingRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "position": rule.position,
        "name": rule.name,
        "active": rule.active,
        "conditions": rule.conditions or {},
        "action": rule.action,
        "method": rule.method,
        "team": rule.team_id,
        "user": rule.user_id,
        "program": rule.program_id,
        "recycle_reason": rule.recycle_reason,
        "version": rule.version,
    }


class ReorderIn(InputSchema):
    ids: list[Id] = Field(..., description="Every rule's id once, in the new order.")


class SimulateIn(InputSchema):
    rule: RuleIn | None = Field(None, description="A draft rule to try in the saved set.")
    replaces: Id | None = Field(None, description="The saved rule the draft replaces.")
    rules: list[RuleIn] | None = Field(None, description="Or a whole draft rule set, in order.")
    lead_ids: list[Id] | None = Field(None, max_length=2000)
    target: Id | None = Field(None, description="Simulate on this target's leads.")
    size: int = Field(200, ge=1, le=2000)


class OutcomeOut(Schema):
    lead_id: int
    label: str
    draft: str
    draft_reason: str
    current: str
    changed: bool


class CountOut(Schema):
    destination: str
    leads: int


class SimulationOut(Schema):
    size: int
    changed: int
    warnings: list[str]
    draft_counts: list[CountOut]
    current_counts: list[CountOut]
    leads: list[OutcomeOut]


def simulation_out(sim: Simulation) -> dict[str, Any]:
    return {
        "size": sim.size,
        "changed": sim.changed,
        "warnings": sim.warnings,
        "draft_counts": [{"destination": d, "leads": n} for d, n in sim.draft_counts],
        "current_counts": [{"destination": d, "leads": n} for d, n in sim.current_counts],
        "leads": [vars(r) for r in sim.rows],
    }


class MemberIn(InputSchema):
    team: Id
    user: Id
    capacity: Loose = None
    available: LooseBool = None
    away_from: Loose = None
    away_until: Loose = None


class MemberPatch(InputSchema):
    capacity: Loose = None
    available: LooseBool = None
    away_from: Loose = None
    away_until: Loose = None


class MemberOut(Schema):
    id: int
    team: int
    user: int
    capacity: int
    available: bool
    away_from: dt.date | None
    away_until: dt.date | None
    assigned: int
    open_leads: int


def member_out(row: MemberRow) -> dict[str, Any]:
    m = row.member
    return {
        "id": m.pk,
        "team": m.team_id,
        "user": m.user_id,
        "capacity": m.capacity,
        "available": m.available,
        "away_from": m.away_from,
        "away_until": m.away_until,
        "assigned": m.assigned,
        "open_leads": row.load,
    }


class AssignmentOut(Schema):
    id: int
    lead: int
    rule: int | None
    user: int | None
    team: int | None
    method: str
    reason: str
    assigned_at: dt.datetime
    actor: int | None
    channel: str
    previous_owner: int | None


def assignment_out(a: Assignment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "lead": a.lead_id,
        "rule": a.rule_id,
        "user": a.user_id,
        "team": a.team_id,
        "method": a.method,
        "reason": a.reason,
        "assigned_at": a.assigned_at,
        "actor": a.actor_id,
        "channel": a.channel,
        "previous_owner": a.previous_owner_id,
    }


class AssignmentPage(Schema):
    items: list[AssignmentOut]
    next_cursor: str | None
    count: int | None = None


class AssignmentQuery(ListParams):
    user: Id | None = None
    team: Id | None = None
    method: str | None = None
    rule: Id | None = None


class RouteIn(InputSchema):
    lead_ids: list[Id] = Field(..., min_length=1, max_length=10_000)
    force: bool = Field(False, description="Route again leads already routed at their stage.")


class SettingsIn(InputSchema):
    trigger_stages: list[str] | None = None
    on_arrival: LooseBool = None
    account_matching: LooseBool = None


class SettingsOut(Schema):
    trigger_stages: list[str]
    on_arrival: bool
    account_matching: bool
