"""Where each lead goes and why, in words a person reads on the lead's page.

Order (seed 004 §4): account matching first (the organisation's selling owner, when available),
then the first active rule whose conditions match; nothing matching leaves the lead unassigned
with that reason — never dropped. `first` decides everything but who in a team; `place_in_team`
picks the member once the team's rows are read (locked, when routing for real).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from cible.core.prepared import Prepared, row_locks
from cible.lifecycle.leads.models import Lead, RecycleReason, Stage
from cible.lifecycle.leads.moves import check_move
from cible.routing.assignment.facts import LeadRow
from cible.routing.assignment.models import Action, AssignmentMethod, Method, RoutingMember
from cible.routing.assignment.rulesets import CompiledRule, RuleSet
from cible.routing.assignment.strategies import MemberState, pick

# Leads a member is working: their capacity caps these.
OPEN_STAGES = (Stage.SUSPECT, Stage.PROSPECT, Stage.MQL, Stage.SAL, Stage.SQL)
REASON_MAX = 500


@dataclass
class Decision:
    lead_id: int
    rule: CompiledRule | None
    method: str
    stage: str = ""
    user_id: int | None = None
    team_id: int | None = None
    reason: str = ""
    prefix: str = ""  # why account matching did not apply, when it was tried

    @property
    def needs_team(self) -> bool:
        return self.rule is not None and self.method in Method.values and not self.reason

    @property
    def full_reason(self) -> str:
        text = f"{self.prefix}; {self.reason}" if self.prefix else self.reason
        return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


@dataclass
class Context:
    ruleset: RuleSet
    today: dt.date
    names: dict[int, str] = field(default_factory=dict)
    unavailable: dict[int, str] = field(default_factory=dict)  # user id → why, capacity aside
    members: dict[int, list[MemberState]] = field(default_factory=dict)  # team id → states

    def name(self, user_id: int | None) -> str:
        return self.names.get(user_id or 0) or self.ruleset.refs.names.get(user_id or 0, "?")


def _name(user: object) -> str:
    return user.get_full_name() or user.get_username()  # type: ignore[attr-defined]


_MEMBER_COLUMNS = (
    "id",
    "team_id",
    "user_id",
    "capacity",
    "assigned",
    "available",
    "away_from",
    "away_until",
    "open_leads",
    "user__first_name",
    "user__last_name",
    "user__username",
    "user__is_active",
)


def member_rows(members: QuerySet[RoutingMember]) -> list[Any]:
    """Members with their open leads, as plain rows (one query)."""
    return list(with_loads(members).values_list(*_MEMBER_COLUMNS, named=True))


def member_states(rows: Sequence[Any]) -> list[MemberState]:
    """Members as the strategies see them (rows of `member_rows`)."""
    return [
        MemberState(
            id=m.id,
            user_id=m.user_id,
            name=f"{m.user__first_name} {m.user__last_name}".strip() or m.user__username,
            capacity=m.capacity,
            assigned=m.assigned,
            load=m.open_leads,
            available=m.available and m.user__is_active,
            away_from=m.away_from,
            away_until=m.away_until,
        )
        for m in rows
    ]


def with_loads(members: QuerySet[RoutingMember]) -> QuerySet[RoutingMember]:
    """Each member's open leads, counted in the same query (the (owner, stage) index)."""
    open_leads = (
        Lead.objects.filter(owner_id=OuterRef("user_id"), stage__in=OPEN_STAGES)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return members.annotate(open_leads=Coalesce(Subquery(open_leads), 0))


def unavailable_people(user_ids: Iterable[int], ruleset: RuleSet, today: dt.date) -> dict[int, str]:
    """Why each of these people cannot take a lead today, if a rotation says so (from the
    compiled set: no query)."""
    why: dict[int, str] = {}
    for user_id in set(user_ids):
        for available, away_from, away_until in ruleset.refs.people.get(user_id, ()):
            name = ruleset.refs.names.get(user_id, "?")
            state = MemberState(0, user_id, name, 1, 0, 0, available, away_from, away_until)
            if reason := state.unavailable_why(today):
                why[user_id] = reason
                break
    return why


def first(
    rows: dict[int, LeadRow], ruleset: RuleSet, today: dt.date
) -> tuple[list[Decision], Context]:
    """Decide every lead but the member of a team (id order); reads who is away (one query)."""
    ctx = Context(ruleset=ruleset, today=today)
    matched = {i: ruleset.first_match(row.facts) for i, row in rows.items()}
    candidates = {r.account_owner_id for r in rows.values() if r.account_owner_id}
    if not ruleset.account_matching:
        candidates = set()
    candidates |= {r.user_id for r in matched.values() if r and r.user_id}
    ctx.unavailable = unavailable_people(candidates, ruleset, today)
    for row in rows.values():
        if row.account_owner_id:
            ctx.names[row.account_owner_id] = row.account_owner_name
    decisions = []
    for lead_id in sorted(rows):
        decision = _decide(rows[lead_id], matched[lead_id], ctx)
        decision.stage = rows[lead_id].facts.stage
        _place(decision, ctx)
        decisions.append(decision)
    return decisions, ctx


def _decide(row: LeadRow, rule: CompiledRule | None, ctx: Context) -> Decision:
    prefix = ""
    owner = row.account_owner_id
    if ctx.ruleset.account_matching and owner is not None:
        unavailable = ctx.unavailable.get(owner, "")
        if not unavailable:
            return Decision(
                row.facts.id,
                None,
                AssignmentMethod.ACCOUNT,
                user_id=owner,
                reason=_("Account matching: %(org)s is owned by %(user)s")
                % {"org": row.organisation_name, "user": ctx.name(owner)},
            )
        prefix = _("Account owner not available (%(why)s)") % {"why": unavailable}
    if rule is None:
        return Decision(
            row.facts.id,
            None,
            AssignmentMethod.UNASSIGNED,
            reason=_("No rule matches this lead: not assigned"),
            prefix=prefix,
        )
    return Decision(row.facts.id, rule, rule.method, team_id=rule.team_id, prefix=prefix)


def _place(decision: Decision, ctx: Context) -> None:
    """Every action but a team's rotation: a program, a recycle, a named person."""
    rule = decision.rule
    if rule is None or decision.reason:
        return
    head = _("Rule %(rule)s") % {"rule": rule.label}
    programs = ctx.ruleset.refs.programs
    program, running = programs.get(rule.program_id or 0, ("?", False))
    if rule.action == Action.NURTURE:
        decision.method = AssignmentMethod.NURTURE if running else AssignmentMethod.UNASSIGNED
        text = (
            _("%(head)s → nurture program “%(program)s”")
            if running
            else _("%(head)s → nurture program “%(program)s”, which is not running")
        )
        decision.reason = text % {"head": head, "program": program}
    elif rule.action == Action.RECYCLE:
        if check_move(decision.stage, Stage.RECYCLED).allowed:
            decision.method = AssignmentMethod.RECYCLE
            decision.reason = _("%(head)s → recycled to Marketing (%(reason)s)") % {
                "head": head,
                "reason": RecycleReason(rule.recycle_reason or RecycleReason.OTHER).label,
            }
        else:
            decision.method = AssignmentMethod.UNASSIGNED
            decision.reason = _(
                "%(head)s → recycle, but a lead at %(stage)s cannot be recycled"
            ) % {"head": head, "stage": Stage(decision.stage).label}
    elif rule.action == Action.ASSIGN_USER:
        user_id = rule.user_id or 0
        unavailable = ctx.unavailable.get(user_id, "")
        words = {"head": head, "user": ctx.name(user_id), "why": unavailable}
        if unavailable:
            decision.method = AssignmentMethod.UNASSIGNED
            decision.reason = (
                _("%(head)s → %(user)s, not available (%(why)s): not assigned") % words
            )
        else:
            decision.method = AssignmentMethod.DIRECT
            decision.user_id = user_id
            decision.reason = _("%(head)s → %(user)s") % words


# The member rows of some teams, and their locks, compiled once (see core.prepared).
_MEMBERS = Prepared(
    lambda team_ids: (
        with_loads(RoutingMember.objects.filter(team_id__in=team_ids))
        .order_by("id")
        .values_list(*_MEMBER_COLUMNS, named=True)
    )
)
_MEMBER_LOCKS = row_locks(RoutingMember, "team_id")


def read_members(decisions: Sequence[Decision], ctx: Context, *, lock: bool) -> None:
    """Read (after locking them, in id order) the member rows of the teams the decisions need."""
    team_ids = {d.team_id for d in decisions if d.needs_team and d.team_id}
    if not team_ids:
        return
    if lock:
        # Alone, like the leads' locks: the loads read next must see what the worker we may
        # have waited for has just committed.
        _MEMBER_LOCKS.rows(sorted(team_ids))
    rows = _MEMBERS.rows(sorted(team_ids))
    for member, state in zip(rows, member_states(rows), strict=True):
        ctx.members.setdefault(member.team_id, []).append(state)


def lock_members(members: QuerySet[RoutingMember]) -> None:
    list(members.order_by("id").select_for_update().values("pk"))


def place_in_team(decision: Decision, ctx: Context) -> None:
    rule = decision.rule
    assert rule is not None
    team_name, manager_id = ctx.ruleset.refs.teams.get(rule.team_id or 0, ("?", None))
    members = ctx.members.get(rule.team_id or 0, [])
    words = {
        "head": _("Rule %(rule)s") % {"rule": rule.label},
        "method": str(Method(rule.method).label).lower(),
        "team": team_name,
    }
    chosen = pick(rule.method, members, ctx.today)
    if chosen is not None:
        chosen.take()
        decision.user_id = chosen.user_id
        decision.reason = _(
            "%(head)s → %(method)s in %(team)s: %(user)s (%(load)s of %(capacity)s)"
        ) % {**words, "user": chosen.name, "load": chosen.load, "capacity": chosen.capacity}
        return
    why = "; ".join(m.unavailable_why(ctx.today) for m in members) or _("the team has no member")
    if manager_id is not None:
        decision.method = AssignmentMethod.FALLBACK
        decision.user_id = manager_id
        decision.reason = _(
            "%(head)s → %(method)s in %(team)s: no one available (%(why)s); "
            "left with the manager %(user)s"
        ) % {**words, "why": why, "user": ctx.name(manager_id)}
    else:
        decision.method = AssignmentMethod.UNASSIGNED
        decision.reason = _(
            "%(head)s → %(method)s in %(team)s: no one available (%(why)s); not assigned"
        ) % {**words, "why": why}


def decide_all(
    rows: dict[int, LeadRow], ruleset: RuleSet, *, today: dt.date, lock: bool
) -> tuple[list[Decision], Context]:
    """Every decision of a batch, members included (the simulator's path: lock=False)."""
    decisions, ctx = first(rows, ruleset, today)
    read_members(decisions, ctx, lock=lock)
    for decision in decisions:
        if decision.needs_team:
            place_in_team(decision, ctx)
    return decisions, ctx
