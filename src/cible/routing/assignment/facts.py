"""The values the rules test, read for a whole batch of leads at once.

One query reads every lead of the batch with its organisation, the owner account matching would
pick, when routing last saw it, whether its contact or organisation is in each target and segment
the rules name, and the rule set's fingerprint — after locking the lead rows, when routing for
real. Nothing is read per lead or per condition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Subquery
from django.db.models.expressions import RawSQL

from cible.core.prepared import Prepared, row_locks
from cible.core.roles import Role
from cible.lifecycle.leads.models import FINAL, Lead
from cible.routing.assignment import rulesets
from cible.routing.assignment.conditions import LeadFacts
from cible.routing.assignment.models import Assignment
from cible.routing.assignment.rulesets import RuleSet
from cible.segments.axes.models import Membership
from cible.segments.targets.models import TargetLevel
from cible.segments.targets.selectors import target_resolve

# Account matching gives a lead to the organisation's owner only when they sell: an account
# Marketing or an administrator looks after still goes through the rules.
SELLING_ROLES = (Role.SDR, Role.IR, Role.AE, Role.SALES_MANAGER)

_COLUMNS = (
    "id",
    "source",
    "campaign_id",
    "stage",
    "grade",
    "profile_score",
    "engagement_score",
    "predicted_probability",
    "organisation__country",
    "organisation__region",
    "organisation_id",
    "contact_id",
    "organisation__owner_id",
    "organisation__owner__is_active",
    "organisation__owner__profile__role",
    "organisation__owner__first_name",
    "organisation__owner__last_name",
    "organisation__trade_name",
    "organisation__legal_name",
    "owner_id",
    "version",
    "stage_entered_at",
)
# The batch's lead rows locked, in id order (compiled once: routing one lead is a hot path).
_LOCK = row_locks(Lead)


@dataclass
class LeadRow:
    facts: LeadFacts
    contact_id: int | None
    account_owner_id: int | None  # a selling, active owner of the lead's organisation
    account_owner_name: str
    organisation_name: str
    owner_id: int | None
    version: int
    stage_entered_at: dt.datetime
    last_routed: dt.datetime | None

    @property
    def live(self) -> bool:
        return self.facts.stage not in FINAL

    @property
    def routed_at_this_stage(self) -> bool:
        return self.last_routed is not None and self.last_routed >= self.stage_entered_at


def load_leads(
    ids: Sequence[int], *, lock: bool, ruleset: RuleSet | None = None
) -> tuple[RuleSet, dict[int, LeadRow]]:
    """The batch's leads by id with everything the rules and the reasons need, in one query.

    Without a `ruleset` (a draft's), the saved one is used, and the query also reads its
    fingerprint: a rule set changed meanwhile is recompiled and the leads read again."""
    if lock:
        # The locks first, alone: a statement that waited for a lock still reads with its own
        # older snapshot, so the values (and whether another worker has just routed the lead)
        # are read by the next statement, which sees what that worker committed.
        _LOCK.rows(ids)
    current = ruleset or rulesets.cached() or rulesets.current()
    for _attempt in range(3):
        raw = _query(ids, current, stamp=ruleset is None)
        if ruleset is not None or not raw:
            break
        width = len(rulesets.fingerprint_sql())
        stamp = rulesets.normalise(getattr(raw[0], f"fp{i}") for i in range(width))
        if stamp == current.version:
            break
        current = rulesets.current(stamp)
    return current, {r.id: _row(r, current) for r in raw}


_queries: dict[tuple[int, bool], tuple[RuleSet, Prepared]] = {}


def _query(ids: Sequence[int], ruleset: RuleSet, *, stamp: bool) -> list[Any]:
    """The batch's rows, through a query compiled once per rule set (and number of ids)."""
    key = (id(ruleset), stamp)
    cached = _queries.get(key)
    if cached is None or cached[0] is not ruleset:
        if len(_queries) > 32:
            _queries.clear()
        base, names = _base(ruleset, stamp=stamp)
        query = Prepared(
            lambda ids: base.filter(pk__in=ids).values_list(*_COLUMNS, *names, named=True)
        )
        _queries[key] = cached = (ruleset, query)
    return cached[1].rows(ids)


def _base(ruleset: RuleSet, *, stamp: bool) -> tuple[Any, tuple[str, ...]]:
    """The batch query without its ids, built once per compiled rule set."""
    last = Assignment.objects.filter(lead=OuterRef("pk")).order_by("-assigned_at")
    extra: dict[str, Any] = {"last_routed": Subquery(last.values("assigned_at")[:1])}
    if stamp:
        for i, sql in enumerate(rulesets.fingerprint_sql()):
            extra[f"fp{i}"] = RawSQL(f"({sql})", [])  # noqa: S611 - constant SQL, no input
    for pk in sorted(ruleset.target_ids):
        target = ruleset.refs.targets.get(pk)
        if target is not None:
            key = "contact_id" if target.level == TargetLevel.CONTACT else "organisation_id"
            members = target_resolve(target=target).filter(pk=OuterRef(key))
            extra[f"t{pk}"] = Exists(members)
    for pk in sorted(ruleset.segment_ids):
        extra[f"s{pk}"] = Exists(
            Membership.objects.filter(segment_id=pk, organisation_id=OuterRef("organisation_id"))
        )
    return Lead.objects.annotate(**extra).order_by("pk"), tuple(extra)


def _row(r: Any, ruleset: RuleSet) -> LeadRow:
    selling = (
        r.organisation__owner__is_active and r.organisation__owner__profile__role in SELLING_ROLES
    )
    probability = r.predicted_probability
    return LeadRow(
        facts=LeadFacts(
            id=r.id,
            source=r.source,
            campaign=r.campaign_id,
            stage=r.stage,
            grade=r.grade,
            profile_score=r.profile_score,
            engagement_score=r.engagement_score,
            probability=None if probability is None else round(probability * 100, 4),
            country=r.organisation__country or "",
            region=r.organisation__region or "",
            targets=frozenset(t for t in ruleset.target_ids if getattr(r, f"t{t}", False)),
            segments=frozenset(s for s in ruleset.segment_ids if getattr(r, f"s{s}", False)),
        ),
        contact_id=r.contact_id,
        account_owner_id=r.organisation__owner_id if selling else None,
        account_owner_name=" ".join(
            p for p in (r.organisation__owner__first_name, r.organisation__owner__last_name) if p
        ),
        organisation_name=r.organisation__trade_name or r.organisation__legal_name or "",
        owner_id=r.owner_id,
        version=r.version,
        stage_entered_at=r.stage_entered_at,
        last_routed=r.last_routed,
    )
