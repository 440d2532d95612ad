"""Reads of routing for pages and the API: rules, rotations with their loads, assignments.

Everyone with a role reads the rules and the rotations (Sales must know how leads reach them);
assignments are shown only for leads the viewer may see (core.access).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import NotFound, PermissionDenied
from cible.lifecycle.leads.models import Lead
from cible.people.models import Team
from cible.routing.assignment import conditions
from cible.routing.assignment.decisions import OPEN_STAGES
from cible.routing.assignment.models import (
    Assignment,
    RoutingMember,
    RoutingRule,
    RoutingSettings,
)
from cible.segments.axes.models import Segment
from cible.segments.targets.models import Target


def _reader(viewer: Any) -> None:
    if access.role_of(viewer) is None:
        raise PermissionDenied(_("Sign in to see routing."))


def rule_list(*, viewer: Any) -> list[RoutingRule]:
    """Every rule in order, with its conditions in words (`described`)."""
    _reader(viewer)
    rules = list(
        RoutingRule.objects.select_related("team", "user", "program").order_by("position", "id")
    )
    names = reference_names(rules)
    for rule in rules:
        rule.described = describe(rule.conditions, names)  # type: ignore[attr-defined]
    return rules


def settings_get(*, viewer: Any) -> RoutingSettings:
    _reader(viewer)
    return RoutingSettings.current()


def rule_get(*, viewer: Any, pk: int) -> RoutingRule:
    _reader(viewer)
    rule = RoutingRule.objects.select_related("team", "user", "program").filter(pk=pk).first()
    if rule is None:
        raise NotFound(_("No routing rule has this id."))
    return rule


def reference_names(rules: list[Any]) -> dict[tuple[str, int], str]:
    """Names of the targets and segments the rules refer to (two queries), for descriptions."""
    target_ids: set[int] = set()
    segment_ids: set[int] = set()
    for rule in rules:
        try:
            group = conditions.parse(rule.conditions)
        except conditions.ConditionsInvalid:
            continue
        target_ids |= group.ids_of("target")
        segment_ids |= group.ids_of("segment")
    names: dict[tuple[str, int], str] = {}
    for pk, name in Target.objects.filter(pk__in=target_ids).values_list("pk", "name"):
        names[("target", pk)] = name
    for segment in Segment.objects.filter(pk__in=segment_ids):
        names[("segment", segment.pk)] = str(segment)
    return names


def describe(raw: Any, names: dict[tuple[str, int], str]) -> str:
    try:
        return conditions.describe(conditions.parse(raw), names=names)
    except conditions.ConditionsInvalid:
        return _("conditions no longer valid")


@dataclass(frozen=True)
class MemberRow:
    member: RoutingMember
    load: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.load / max(self.member.capacity, 1)))


def member_list(*, viewer: Any, team: Team | None = None) -> list[MemberRow]:
    """The rotations, team by team, with each member's open leads (one query for every load)."""
    _reader(viewer)
    members = RoutingMember.objects.select_related("team", "user").order_by("team__name", "id")
    if team is not None:
        members = members.filter(team=team)
    rows = list(members)
    loads = dict(
        Lead.objects.filter(owner_id__in={m.user_id for m in rows}, stage__in=OPEN_STAGES)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    return [MemberRow(m, loads.get(m.user_id, 0)) for m in rows]


def member_get(*, viewer: Any, pk: int) -> RoutingMember:
    _reader(viewer)
    member = RoutingMember.objects.select_related("team", "user").filter(pk=pk).first()
    if member is None:
        raise NotFound(_("No routing member has this id."))
    return member


def assignment_list(
    *,
    viewer: Any,
    user_id: int | None = None,
    team_id: int | None = None,
    method: str = "",
    rule_id: int | None = None,
) -> QuerySet[Assignment]:
    """Assignments of the leads the viewer sees, newest first."""
    _reader(viewer)
    qs = Assignment.objects.filter(lead__in=access.visible(viewer, Lead.objects.all()))
    if user_id:
        qs = qs.filter(user_id=user_id)
    if team_id:
        qs = qs.filter(team_id=team_id)
    if method:
        qs = qs.filter(method=method)
    if rule_id:
        qs = qs.filter(rule_id=rule_id)
    return qs.select_related(
        "lead", "lead__contact", "rule", "user", "team", "actor", "previous_owner"
    ).order_by("-assigned_at", "-id")


def lead_assignments(*, viewer: Any, lead: Lead) -> list[Assignment]:
    """The routing history of one lead the viewer may see."""
    if not access.can(viewer, "view", lead):
        return []
    return list(
        Assignment.objects.filter(lead=lead)
        .select_related("rule", "user", "team", "previous_owner")
        .order_by("-assigned_at", "-id")[:50]
    )
