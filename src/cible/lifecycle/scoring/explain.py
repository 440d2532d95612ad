"""Why a lead has its score: every contribution, each with its source (SPEC C5, issue 6).

The parts come from the lead's stored `LeadScore`, written with the scores, so the list always
adds up to the score shown. A behaviour part is then opened up into the interactions behind it,
decayed to the same moment (`as_of`) with the same model, each with the points it gave; when the
kind's cap cut the total, the explanation says by how much.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from cible.engagement.interactions.models import Interaction, InteractionKind
from cible.lifecycle.leads.models import Authority, Budget, Lead, Need, Timing
from cible.lifecycle.scoring.definition import Rules, parse
from cible.lifecycle.scoring.engine import decay_weights
from cible.lifecycle.scoring.models import LeadScore, ScoringModel
from cible.people.models import Source
from cible.segments.axes.models import Segment
from cible.segments.profiles.models import FitScore, IdealCustomerProfile, Persona

# Interactions listed under one behaviour part; older ones are summed in one line.
LISTED = 20
_BANT_LABELS: dict[str, tuple[str, Any]] = {
    "budget": ("Budget", Budget),
    "authority": ("Authority", Authority),
    "need": ("Need", Need),
    "timing": ("Timing", Timing),
}


@dataclass
class Evidence:
    """One interaction behind a behaviour part."""

    interaction_id: int
    occurred_at: dt.datetime
    subject: str
    weight: float  # its share left after decay, 0–1
    points: float


@dataclass
class Contribution:
    group: str  # "profile" or "engagement"
    key: str  # the part's name: "icp", "bant:budget", "kind:web_visit" …
    label: str
    points: float
    detail: str = ""
    interactions: list[Evidence] = field(default_factory=list)
    capped_by: float = 0.0  # points the kind's cap removed
    older: int = 0  # interactions not listed
    older_points: float = 0.0


@dataclass
class Explanation:
    model: ScoringModel
    as_of: dt.datetime
    stale: bool  # the model changed since: a rescore is on its way
    profile: int
    engagement: int
    grade: str
    contributions: list[Contribution]

    def group(self, name: str) -> list[Contribution]:
        return [c for c in self.contributions if c.group == name]

    def total(self, name: str) -> float:
        return round(sum(c.points for c in self.group(name)), 1)


def _label(key: str, lead: Lead, rules: Rules) -> tuple[str, str]:
    kind, _sep, ident = key.partition(":")
    if kind == "icp":
        profile = IdealCustomerProfile.objects.filter(pk=rules.icp or 0).first()
        fit = (
            FitScore.objects.filter(
                profile_id=rules.icp or 0, organisation_id=lead.organisation_id or 0
            )
            .values_list("score", flat=True)
            .first()
        )
        name = profile.name if profile else "?"
        return (
            _("Fit to the ideal customer profile “%(name)s”") % {"name": name},
            _("fit %(fit)s/100 × weight %(weight)s") % {"fit": fit, "weight": rules.icp_weight},
        )
    if kind == "persona":
        persona = Persona.objects.filter(pk=int(ident)).first()
        return _("Matches the persona “%(name)s”") % {"name": persona or "?"}, ""
    if kind == "segment":
        segment = Segment.objects.select_related("axis").filter(pk=int(ident)).first()
        name = f"{segment.axis.name} · {segment.name}" if segment else "?"
        return _("In the segment “%(name)s”") % {"name": name}, ""
    if kind == "source":
        return _("Source: %(source)s") % {"source": Source(lead.source).label}, ""
    if kind == "bant":
        title, choices = _BANT_LABELS[ident]
        value = getattr(lead, ident)
        return f"{_(title)}: {choices(value).label}", ""
    return str(InteractionKind(ident).label), ""


def _interactions(lead: Lead, kind: str, rules: Rules, as_of: dt.datetime) -> Contribution:
    rule = rules.kinds[kind]
    rows = Interaction.objects.filter(kind=kind, occurred_at__lte=as_of)
    if lead.contact_id:
        rows = rows.filter(contact_id=lead.contact_id)
    else:
        rows = rows.filter(contact__isnull=True, organisation_id=lead.organisation_id or 0)
    found = list(rows.order_by("-occurred_at").values_list("pk", "occurred_at", "subject"))
    ages = np.array([(as_of - when).total_seconds() / 86400 for _pk, when, _s in found])
    weights = decay_weights(ages, rules.half_life_days) if found else np.zeros(0)
    sources = [
        Evidence(pk, when, subject, float(w), round(float(w) * rule.points, 1))
        for (pk, when, subject), w in zip(found, weights, strict=True)
    ]
    raw = float(weights.sum() * rule.points)
    capped = float(np.clip(raw, -rule.cap, rule.cap))
    contribution = Contribution(
        group="engagement",
        key=f"kind:{kind}",
        label=str(InteractionKind(kind).label),
        points=round(capped, 1),
        detail=_("%(count)s × %(points)s points, halved every %(days)s days")
        % {"count": len(found), "points": rule.points, "days": rules.half_life_days},
        interactions=sources[:LISTED],
        capped_by=round(raw - capped, 1),
        older=max(len(sources) - LISTED, 0),
        older_points=round(sum(s.points for s in sources[LISTED:]), 1),
    )
    return contribution


def explain(lead: Lead) -> Explanation | None:
    """The explanation of `lead`'s current scores, or None when it has not been scored."""
    stored = LeadScore.objects.select_related("model").filter(lead_id=lead.pk).first()
    if stored is None:
        return None
    model = stored.model
    rules = parse(model.definition)
    contributions: list[Contribution] = []
    for key, points in stored.parts.items():
        if key.startswith("kind:") and key[5:] in rules.kinds:
            behaviour = _interactions(lead, key[5:], rules, stored.as_of)
            behaviour.points = points  # the stored figure is the one the score was made of
            contributions.append(behaviour)
            continue
        label, detail = _label(key, lead, rules)
        contributions.append(Contribution("profile", key, label, points, detail))
    contributions.sort(key=lambda c: (c.group != "profile", -abs(c.points)))
    return Explanation(
        model=model,
        as_of=stored.as_of,
        stale=stored.model_version != model.version,
        profile=lead.profile_score or 0,
        engagement=lead.engagement_score or 0,
        grade=lead.grade,
        contributions=contributions,
    )
