"""Where a sample of leads would go under a DRAFT rule set, before anyone saves it. Writes nothing.

The draft and the saved rules run over the same leads (the most recent ones the viewer sees, or
a target's), through the same decisions (`decisions.decide_all`) and the rotations' current
counters, so the difference shown is the change itself. Warnings name rules that match none of
the sample, every lead of it (the rules below it never fire), or only leads an earlier rule
already took.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.lifecycle.leads.models import FINAL, Lead
from cible.routing.assignment import decisions, rulesets
from cible.routing.assignment.drafts import RuleDraft
from cible.routing.assignment.facts import LeadRow, load_leads
from cible.routing.assignment.models import AssignmentMethod, RoutingSettings
from cible.routing.assignment.rulesets import RuleSet
from cible.segments.targets.models import Target, TargetLevel
from cible.segments.targets.selectors import target_resolve

SAMPLE = 200
MAX_SAMPLE = 2000


@dataclass(frozen=True)
class LeadOutcome:
    lead_id: int
    label: str
    draft: str  # where it would go ("AE Paris: Basile Durand")
    draft_reason: str
    current: str
    changed: bool


@dataclass
class Simulation:
    size: int
    rows: list[LeadOutcome] = field(default_factory=list)
    draft_counts: list[tuple[str, int]] = field(default_factory=list)
    current_counts: list[tuple[str, int]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(1 for r in self.rows if r.changed)


def sample_ids(*, viewer: Any, target: Target | None = None, size: int = SAMPLE) -> list[int]:
    """The most recent live leads the viewer sees, or those of `target`'s records."""
    size = max(1, min(size, MAX_SAMPLE))
    leads = access.visible(viewer, Lead.objects.exclude(stage__in=FINAL))
    if target is not None:
        records = target_resolve(target=target, viewer=viewer).values("pk")
        if target.level == TargetLevel.CONTACT:
            leads = leads.filter(contact_id__in=records)
        else:
            leads = leads.filter(organisation_id__in=records)
    return list(leads.order_by("-arrived_at", "-id").values_list("pk", flat=True)[:size])


def _destination(decision: decisions.Decision, ctx: decisions.Context) -> str:
    rule = decision.rule
    if decision.method == AssignmentMethod.NURTURE and rule is not None:
        program = ctx.ruleset.refs.programs.get(rule.program_id or 0, ("?", False))[0]
        return _("Nurture: %(program)s") % {"program": program}
    if decision.method == AssignmentMethod.RECYCLE:
        return _("Recycled to Marketing")
    if decision.method == AssignmentMethod.UNASSIGNED:
        return _("Not assigned")
    if decision.method == AssignmentMethod.ACCOUNT:
        return _("Account owner")
    if rule is not None and rule.team_id:
        return ctx.ruleset.refs.teams.get(rule.team_id, ("?", None))[0]
    return ctx.name(decision.user_id)


def _person(decision: decisions.Decision, ctx: decisions.Context) -> str:
    if decision.user_id is None:
        return ""
    for states in ctx.members.values():
        for state in states:
            if state.user_id == decision.user_id:
                return state.name
    return ctx.name(decision.user_id)


def _run(
    ruleset: RuleSet, rows: dict[int, LeadRow]
) -> tuple[dict[int, tuple[str, str, str]], dict[str, int]]:
    decided, ctx = decisions.decide_all(rows, ruleset, today=timezone.localdate(), lock=False)
    out: dict[int, tuple[str, str, str]] = {}
    firsts: Counter[str] = Counter()
    for d in decided:
        where = _destination(d, ctx)
        person = _person(d, ctx)
        shown = f"{where}: {person}" if person and person != where else where
        out[d.lead_id] = (where, shown, d.full_reason)
        if d.rule is not None:
            firsts[d.rule.key] += 1
    return out, firsts


def simulate(
    *, viewer: Any, drafts: list[RuleDraft], lead_ids: list[int] | None = None
) -> Simulation:
    """Run `drafts` (the whole rule set, in order) and the saved rules over the sample."""
    settings = RoutingSettings.current()
    draft_set = rulesets.compile_rules(
        drafts, version=0, account_matching=settings.account_matching
    )
    saved = rulesets.current()
    ids = lead_ids if lead_ids is not None else sample_ids(viewer=viewer)
    both = RuleSet(
        version=0, rules=draft_set.rules + saved.rules, account_matching=settings.account_matching
    )
    _same, rows = load_leads(
        ids, lock=False, ruleset=both
    )  # facts for either set's targets/segments
    labels = {
        pk: " ".join(part for part in (first, last) if part) or external
        for pk, first, last, external in Lead.objects.filter(pk__in=rows).values_list(
            "pk", "contact__first_name", "contact__last_name", "external_id"
        )
    }
    drafted, firsts = _run(draft_set, rows)
    current, _firsts = _run(saved, rows)
    sim = Simulation(size=len(rows))
    for lead_id in sorted(rows, reverse=True):
        d_where, d_shown, d_reason = drafted[lead_id]
        c_where, c_shown, _reason = current[lead_id]
        sim.rows.append(
            LeadOutcome(
                lead_id=lead_id,
                label=labels.get(lead_id) or f"#{lead_id}",
                draft=d_shown,
                draft_reason=d_reason,
                current=c_shown,
                changed=d_where != c_where,
            )
        )
    sim.draft_counts = Counter(v[0] for v in drafted.values()).most_common()
    sim.current_counts = Counter(v[0] for v in current.values()).most_common()
    sim.warnings = warnings(draft_set, rows, firsts)
    return sim


def warnings(ruleset: RuleSet, rows: dict[int, LeadRow], firsts: Mapping[str, int]) -> list[str]:
    """Rules matching nothing, everything, or only what earlier rules already take."""
    found: list[str] = []
    if not rows:
        return [_("No lead to simulate on: the sample is empty.")]
    active = [r for r in ruleset.rules if r.active]
    for index, rule in enumerate(active):
        matched = sum(1 for row in rows.values() if rule.matches(row.facts))
        if matched == 0:
            found.append(
                _("Rule %(rule)s matches none of the %(n)s leads of the sample.")
                % {"rule": rule.label, "n": len(rows)}
            )
        elif matched == len(rows) and index < len(active) - 1:
            found.append(
                _("Rule %(rule)s matches every lead of the sample: the rules below it never apply.")
                % {"rule": rule.label}
            )
        elif matched == len(rows) and rule.group.conditions:
            found.append(
                _("Rule %(rule)s matches every lead of the sample: check its conditions.")
                % {"rule": rule.label}
            )
        elif firsts.get(rule.key, 0) == 0:
            takers: list[str] = []
            for row in rows.values():
                first = ruleset.first_match(row.facts) if rule.matches(row.facts) else None
                if first is not None and first is not rule:
                    label = _("rule %(rule)s") % {"rule": first.label}
                    if label not in takers:
                        takers.append(label)
            found.append(
                _("Rule %(rule)s is shadowed: every lead it matches is taken first by %(by)s.")
                % {"rule": rule.label, "by": ", ".join(takers) or _("account matching")}
            )
    return found
