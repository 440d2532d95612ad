"""The rule set as the engine uses it: compiled once per version, then matched in memory.

Every change to a rule bumps `RoutingSettings.version` (services), so a worker reads one small
row per batch and recompiles only when somebody changed the rules. The simulator compiles a
draft rule set the same way, from unsaved rules.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cible.routing.assignment import conditions
from cible.routing.assignment.conditions import LeadFacts, Predicate


@dataclass(frozen=True)
class CompiledRule:
    id: int | None  # None for a rule not saved yet (simulator)
    position: int
    name: str
    active: bool
    action: str
    method: str
    team_id: int | None
    user_id: int | None
    program_id: int | None
    recycle_reason: str
    group: conditions.Group
    predicate: Predicate

    @property
    def label(self) -> str:
        return f"{self.position} “{self.name}”"

    @property
    def key(self) -> str:
        """Identifies the rule across a draft and the saved set (simulator differences)."""
        return f"#{self.id}" if self.id is not None else f"new:{self.position}"

    def matches(self, facts: LeadFacts) -> bool:
        return self.predicate(facts)


@dataclass(frozen=True)
class References:
    """What the rules name, read once per compiled set: the targets (their definitions), the
    teams (name, manager), the people's names, the programs (name, whether they run)."""

    targets: dict[int, Any] = field(default_factory=dict)
    teams: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    programs: dict[int, tuple[str, bool]] = field(default_factory=dict)
    # Everyone in a rotation: (available, away from, away until) per membership.
    people: dict[int, list[tuple[bool, Any, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSet:
    version: Any  # a fingerprint of the saved rules and what they name, or 0 for a draft
    rules: tuple[CompiledRule, ...]
    account_matching: bool = True
    refs: References = field(default_factory=References)

    @property
    def target_ids(self) -> set[int]:
        return {i for r in self.rules if r.active for i in r.group.ids_of("target")}

    @property
    def segment_ids(self) -> set[int]:
        return {i for r in self.rules if r.active for i in r.group.ids_of("segment")}

    def first_match(self, facts: LeadFacts) -> CompiledRule | None:
        for rule in self.rules:
            if rule.active and rule.predicate(facts):
                return rule
        return None


def compile_one(row: Any, *, position: int) -> CompiledRule:
    """A RoutingRule (or an object with the same attributes) compiled; its conditions were
    checked when it was saved, a draft's by the caller (conditions.parse)."""
    group = (
        row.conditions
        if isinstance(row.conditions, conditions.Group)
        else conditions.parse(row.conditions)
    )
    return CompiledRule(
        id=getattr(row, "pk", None),
        position=position,
        name=row.name,
        active=bool(row.active),
        action=row.action,
        method=row.method,
        team_id=row.team_id,
        user_id=row.user_id,
        program_id=getattr(row, "program_id", None),
        recycle_reason=row.recycle_reason or "",
        group=group,
        predicate=conditions.compile_rule(group),
    )


def _references(rules: tuple[CompiledRule, ...]) -> References:
    from django.contrib.auth import get_user_model

    from cible.nurture.programs.models import NurtureProgram
    from cible.people.models import Team
    from cible.segments.targets.models import Target

    refs = References()
    target_ids = {i for r in rules for i in r.group.ids_of("target")}
    refs.targets.update(Target.objects.in_bulk(target_ids))
    team_ids = {r.team_id for r in rules if r.team_id}
    user_ids = {r.user_id for r in rules if r.user_id}
    for pk, name, manager_id in Team.objects.filter(pk__in=team_ids).values_list(
        "pk", "name", "manager_id"
    ):
        refs.teams[pk] = (name, manager_id)
        if manager_id:
            user_ids.add(manager_id)
    for user in get_user_model().objects.filter(pk__in=user_ids):
        refs.names[user.pk] = user.get_full_name() or user.get_username()
    from cible.routing.assignment.models import RoutingMember

    for m in RoutingMember.objects.select_related("user").order_by("id"):
        refs.people.setdefault(m.user_id, []).append((m.available, m.away_from, m.away_until))
        refs.names.setdefault(m.user_id, m.user.get_full_name() or m.user.get_username())
    program_ids = {r.program_id for r in rules if r.program_id}
    for pk, name, status in NurtureProgram.objects.filter(pk__in=program_ids).values_list(
        "pk", "name", "status"
    ):
        refs.programs[pk] = (name, status in RUNNING)
    return refs


RUNNING = ("active", "paused")  # nurture programs that take contacts


def compile_rules(rows: Iterable[Any], *, version: Any, account_matching: bool) -> RuleSet:
    compiled = tuple(compile_one(row, position=i) for i, row in enumerate(rows, start=1))
    return RuleSet(
        version=version,
        rules=compiled,
        account_matching=account_matching,
        refs=_references(compiled),
    )


_cache: dict[str, RuleSet] = {}
_lock = threading.Lock()


def fingerprint_sql() -> list[str]:
    """Scalar subqueries whose values change whenever anything a compiled set holds changes:
    the settings, the rules (every save moves a version and updated_at; a delete the count), the
    targets, teams and programs they name, and the rotations (availability, away dates).
    The engine reads them in the same query as the leads; `current()` alone when it must."""
    from cible.nurture.programs.models import NurtureProgram
    from cible.people.models import Team
    from cible.routing.assignment.models import RoutingMember, RoutingRule, RoutingSettings
    from cible.segments.targets.models import Target

    rule, member = RoutingRule._meta.db_table, RoutingMember._meta.db_table
    settings = RoutingSettings._meta.db_table
    return [
        f"SELECT version FROM {settings} ORDER BY id LIMIT 1",
        f"SELECT account_matching FROM {settings} ORDER BY id LIMIT 1",
        f"SELECT COUNT(*) FROM {rule}",
        f"SELECT MAX(updated_at) FROM {rule}",
        f"SELECT SUM(version) FROM {rule}",
        f"SELECT MAX(updated_at) FROM {Target._meta.db_table}",
        f"SELECT MAX(updated_at) FROM {Team._meta.db_table}",
        f"SELECT MAX(updated_at) FROM {NurtureProgram._meta.db_table}",
        f"SELECT COUNT(*) FROM {member}",
        f"SELECT MAX(updated_at) FROM {member}",
    ]


def _fingerprint() -> tuple[Any, ...]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"({sql})" for sql in fingerprint_sql()))
        row = cursor.fetchone()
    return normalise(row)


def normalise(values: Any) -> tuple[Any, ...]:
    """The fingerprint as comparable values (SQLite and PostgreSQL return different types)."""
    return tuple(str(v) if v is not None else None for v in values)


def cached() -> RuleSet | None:
    with _lock:
        return _cache.get("saved")


def current(fingerprint: tuple[Any, ...] | None = None) -> RuleSet:
    """The saved rule set, recompiled only when something it holds changed (one query, none
    when the caller read the `fingerprint` already)."""
    from cible.routing.assignment.models import RoutingRule, RoutingSettings

    stamp = fingerprint if fingerprint is not None else _fingerprint()
    if stamp[0] is None:  # no settings row yet
        RoutingSettings.current()
        stamp = _fingerprint()
    with _lock:
        saved = _cache.get("saved")
        if saved is not None and saved.version == stamp:
            return saved
    ruleset = compile_rules(
        RoutingRule.objects.order_by("position", "id"),
        version=stamp,
        account_matching=stamp[1] not in ("0", "False", "false", None),
    )
    with _lock:
        _cache["saved"] = ruleset
    return ruleset


def forget() -> None:
    """Drop the compiled set (tests that rewrite rules behind the services' back)."""
    with _lock:
        _cache.clear()
