"""Every write of routing: the rules (ordered, versioned), the members of each rotation, the
settings, and the routing itself (`route`, `reassign`).

Administrators and sales managers edit rules and members; routing runs as a job (on leads
reaching a trigger stage, `receivers.py`) or for a person who may edit rules.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import OperationalError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access, values
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.roles import Role
from cible.lifecycle.leads.models import Lead, Stage
from cible.people.models import Team
from cible.routing.assignment import decisions, drafts, engine, signals
from cible.routing.assignment.models import (
    Assignment,
    AssignmentMethod,
    Method,
    RoutingMember,
    RoutingRule,
    RoutingSettings,
)
from cible.routing.assignment.strategies import pick

logger = logging.getLogger(__name__)

BATCH = 200
ATTEMPTS = 3
EDITORS = (Role.ADMIN, Role.SALES_MANAGER)


def may_edit(user: Any) -> bool:
    """Administrators and sales managers write the rules and the rotations; others read them."""
    return access.role_of(user) in EDITORS


def _require_editor(actor: Any) -> None:
    if getattr(actor, "pk", None) is not None and not may_edit(actor):
        raise PermissionDenied(
            _("Only administrators and sales managers may change routing rules.")
        )


def _bump() -> None:
    """Tell every worker the rule set changed (rulesets.current recompiles)."""
    RoutingSettings.current()
    RoutingSettings.objects.update(version=F("version") + 1)


# --- rules ----------------------------------------------------------------------------------------


@transaction.atomic
def rule_create(*, actor: Any, channel: str, data: Mapping[str, Any]) -> RoutingRule:
    """Add a rule at the end of the set (or at `position`, pushing the others down)."""
    _require_editor(actor)
    draft = drafts.clean(data)
    last = RoutingRule.objects.aggregate(m=Max("position"))["m"] or 0
    rule = RoutingRule(position=last + 1, **draft.fields())
    with audit_context(actor=actor, channel=channel):
        rule.save()
    if data.get("position") not in (None, ""):
        _place(rule, data.get("position"))
    _bump()
    return rule


@transaction.atomic
def rule_update(
    *,
    rule: RoutingRule,
    actor: Any,
    channel: str,
    data: Mapping[str, Any],
    expected_version: int | None = None,
) -> RoutingRule:
    """Change a rule; fields not given keep their value. 409 if someone saved it meanwhile."""
    _require_editor(actor)
    current = {
        "name": rule.name,
        "active": rule.active,
        "action": rule.action,
        "method": rule.method,
        "team": rule.team_id,
        "user": rule.user_id,
        "program": rule.program_id,
        "recycle_reason": rule.recycle_reason,
        "conditions": rule.conditions,
    }
    draft = drafts.clean({**current, **data}, pk=rule.pk)
    for name, value in draft.fields().items():
        setattr(rule, name, value)
    with audit_context(actor=actor, channel=channel):
        save_versioned(rule, expected_version=expected_version)
    _bump()
    return rule


@transaction.atomic
def rule_delete(*, rule: RoutingRule, actor: Any, channel: str) -> None:
    """Remove a rule; its past assignments keep their reason (the rule link becomes empty)."""
    _require_editor(actor)
    with audit_context(actor=actor, channel=channel):
        rule.delete()
    _renumber([r.pk for r in RoutingRule.objects.order_by("position", "id")])
    _bump()


def _renumber(ids: list[int]) -> None:
    now = timezone.now()
    for position, pk in enumerate(ids, start=1):
        RoutingRule.objects.filter(pk=pk).exclude(position=position).update(
            position=position, updated_at=now
        )


def _place(rule: RoutingRule, raw: Any) -> None:
    ids = [pk for pk in RoutingRule.objects.order_by("position", "id").values_list("pk", flat=True)]
    try:
        wanted = int(str(raw))
    except ValueError:
        raise ValidationFailed(
            errors=[FieldError("position", _("give a position as a whole number"))]
        ) from None
    ids.remove(rule.pk)
    ids.insert(max(0, min(len(ids), wanted - 1)), rule.pk)
    _renumber(ids)


@transaction.atomic
def rules_reorder(*, ids: Iterable[int], actor: Any, channel: str) -> list[RoutingRule]:
    """Put the rules in this order; `ids` must name every rule once."""
    _require_editor(actor)
    wanted = [int(i) for i in ids]
    existing = set(RoutingRule.objects.select_for_update().values_list("pk", flat=True))
    if len(wanted) != len(set(wanted)) or set(wanted) != existing:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "ids",
                    _("give every rule's id once, in the new order (%(n)s rules)")
                    % {"n": len(existing)},
                )
            ]
        )
    with audit_context(actor=actor, channel=channel):
        _renumber(wanted)
    _bump()
    return list(RoutingRule.objects.order_by("position", "id"))


@transaction.atomic
def rule_move(*, rule: RoutingRule, direction: str, actor: Any, channel: str) -> None:
    """Swap a rule with its neighbour above ("up") or below ("down")."""
    ids = list(RoutingRule.objects.order_by("position", "id").values_list("pk", flat=True))
    index = ids.index(rule.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
    rules_reorder(ids=ids, actor=actor, channel=channel)


# --- members and settings -------------------------------------------------------------------------


def _member_values(data: Mapping[str, Any], errors: list[FieldError]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "capacity" in data:
        try:
            capacity = int(str(data["capacity"]).strip())
        except ValueError:
            capacity = -1
        if not 1 <= capacity <= 100_000:
            errors.append(FieldError("capacity", _("a whole number from 1 to 100,000")))
        cleaned["capacity"] = capacity
    if "available" in data:
        cleaned["available"] = drafts._flag(data["available"], True)
    for name in ("away_from", "away_until"):
        if name in data:
            raw = data[name]
            try:
                cleaned[name] = None if raw in (None, "") else values.date(raw, field=name)
            except ValueError as error:
                errors.append(FieldError(name, str(error)))
    return cleaned


@transaction.atomic
def member_save(
    *, team: Team, user: Any, actor: Any, channel: str, data: Mapping[str, Any]
) -> RoutingMember:
    """Add `user` to `team`'s rotation, or change their capacity, availability or away dates."""
    _require_editor(actor)
    errors: list[FieldError] = []
    cleaned = _member_values(data, errors)
    member = RoutingMember.objects.filter(team=team, user=user).first()
    if member is None:
        member = RoutingMember(team=team, user=user)
    for name, value in cleaned.items():
        setattr(member, name, value)
    if member.away_from and member.away_until and member.away_until < member.away_from:
        errors.append(FieldError("away_until", _("the return comes before the departure")))
    if errors:
        raise ValidationFailed(errors=errors)
    if member.pk is None:
        # A newcomer joins level with the team, not owed every lead since the team began.
        level = RoutingMember.objects.filter(team=team).order_by("assigned").first()
        member.assigned = level.assigned if level else 0
    with audit_context(actor=actor, channel=channel):
        member.save()
    return member


@transaction.atomic
def member_remove(*, member: RoutingMember, actor: Any, channel: str) -> None:
    _require_editor(actor)
    with audit_context(actor=actor, channel=channel):
        member.delete()


@transaction.atomic
def settings_update(*, actor: Any, channel: str, data: Mapping[str, Any]) -> RoutingSettings:
    """Which stages trigger routing, whether new leads are routed on arrival, account matching."""
    _require_editor(actor)
    row = RoutingSettings.current()
    if "trigger_stages" in data:
        stages = [str(s) for s in data["trigger_stages"] or []]
        unknown = [s for s in stages if s not in Stage.values]
        if unknown:
            raise ValidationFailed(
                errors=[
                    FieldError(
                        "trigger_stages",
                        _("not a stage: %(v)s") % {"v": ", ".join(unknown)[:80]},
                    )
                ]
            )
        row.trigger_stages = stages
    for name in ("on_arrival", "account_matching"):
        if name in data:
            setattr(row, name, drafts._flag(data[name], getattr(row, name)))
    row.version += 1
    with audit_context(actor=actor, channel=channel):
        row.save()
    return row


# --- routing --------------------------------------------------------------------------------------


def route(
    *, lead_ids: Iterable[int], actor: Any, channel: str, force: bool = False
) -> list[Assignment]:
    """Route these leads: account matching, then the first matching rule. One transaction per
    batch of 200; a lead already routed since it entered its stage is skipped unless `force`."""
    _require_editor(actor)
    ids = sorted({int(i) for i in lead_ids})
    done: list[Assignment] = []
    for start in range(0, len(ids), BATCH):
        done.extend(_with_retries(ids[start : start + BATCH], actor, channel, force))
    return done


def _with_retries(ids: list[int], actor: Any, channel: str, force: bool) -> list[Assignment]:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _route_batch(ids, actor, channel, force)
        except (engine.BatchConflict, OperationalError):
            # A deadlock or a changed row: the batch rolled back whole; try it again, unless a
            # caller's transaction holds us (its state is theirs to retry).
            if attempt == ATTEMPTS or transaction.get_connection().in_atomic_block:
                raise
            logger.warning("routing batch retried (attempt %s)", attempt, exc_info=True)
    return []


@transaction.atomic
def _route_batch(ids: list[int], actor: Any, channel: str, force: bool) -> list[Assignment]:
    with audit_context(actor=actor, channel=channel):
        assignments = engine.route_batch(ids, actor=actor, channel=channel, force=force)
    signals.send_on_commit(assignments)
    return assignments


@transaction.atomic
def reassign(*, lead: Lead, actor: Any, channel: str, reason: str) -> Assignment | None:
    """Give `lead` to another member of its team than its owner (SLA escalation), by the method
    of the rule that routed it (round robin without one). None when nobody else can take it."""
    _require_editor(actor)
    locked = Lead.objects.select_for_update().filter(pk=lead.pk).values("owner_id", "version")
    current = locked.first()
    if current is None:
        return None
    last = (
        Assignment.objects.filter(lead_id=lead.pk, team_id__isnull=False)
        .select_related("rule", "team")
        .first()
    )
    team_id = last.team_id if last else None
    if team_id is None and current["owner_id"]:
        team_id = (
            RoutingMember.objects.filter(user_id=current["owner_id"])
            .values_list("team_id", flat=True)
            .first()
        )
    if team_id is None:
        return None
    method = last.rule.method if last and last.rule else Method.ROUND_ROBIN
    others = RoutingMember.objects.filter(team_id=team_id).exclude(user_id=current["owner_id"])
    decisions.lock_members(others)
    states = decisions.member_states(decisions.member_rows(others.order_by("id")))
    chosen = pick(method, states, timezone.localdate())
    if chosen is None:
        return None
    chosen.take()
    RoutingMember.objects.filter(pk=chosen.id).update(assigned=F("assigned") + 1)
    changed = Lead.objects.filter(pk=lead.pk, version=current["version"]).update(
        owner_id=chosen.user_id, version=F("version") + 1, updated_at=timezone.now()
    )
    if not changed:
        return None
    team = Team.objects.get(pk=team_id)
    text = _("Reassigned (%(why)s) → %(method)s in %(team)s: %(user)s (%(load)s of %(cap)s)") % {
        "why": (reason or "").strip()[:200] or _("by hand"),
        "method": str(Method(method).label).lower(),
        "team": team.name,
        "user": chosen.name,
        "load": chosen.load,
        "cap": chosen.capacity,
    }
    assignment = Assignment.objects.create(
        lead_id=lead.pk,
        rule=last.rule if last else None,
        user_id=chosen.user_id,
        team_id=team_id,
        method=AssignmentMethod.REASSIGN,
        reason=text[: decisions.REASON_MAX],
        actor=actor if getattr(actor, "pk", None) else None,
        channel=channel,
        previous_owner_id=current["owner_id"],
    )
    lead.owner_id = chosen.user_id
    lead.version = current["version"] + 1
    signals.send_on_commit([assignment])
    return assignment


def route_pending(*, within: dt.timedelta = dt.timedelta(days=7)) -> int:
    """Route leads at a trigger stage that no routing has seen since they entered it (a crash
    between commit and routing, a worker down): the sweep that makes sure none is lost."""
    from django.db.models import Exists, OuterRef

    settings = RoutingSettings.current()
    if not settings.trigger_stages:
        return 0
    seen = Assignment.objects.filter(
        lead=OuterRef("pk"), assigned_at__gte=OuterRef("stage_entered_at")
    )
    pending = (
        Lead.objects.filter(
            stage__in=settings.trigger_stages, stage_entered_at__gte=timezone.now() - within
        )
        .exclude(Exists(seen))
        .values_list("pk", flat=True)
    )
    return len(route(lead_ids=list(pending), actor=None, channel="job"))


def user_named(pk: Any) -> Any:
    return get_user_model().objects.filter(pk=pk).first()
