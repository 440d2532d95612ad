"""A starting rule set for a new installation and the demo (seed 004 §4, seed 003): rotations
for the sales teams, rules from the most specific to a catch-all, then the live MQLs routed.

Everything goes through the services, so the demo's history reads like a real one: each lead's
page says which rule sent it where. The demo generator (a higher layer) calls `seed_routing`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

from cible.core.roles import Role
from cible.lifecycle.leads.models import Lead, Stage
from cible.people.models import Team, UserProfile
from cible.routing.assignment import services
from cible.routing.assignment.models import RoutingMember, RoutingRule

SELLERS = (Role.SDR, Role.IR, Role.AE)
# (team name, capacity of each member): SDRs and IRs hold more, shorter-lived leads than AEs.
ROTATIONS = {
    "SDR": 40,
    "Inbound": 40,
    "AE Paris": 25,
    "AE Lyon-Lille": 25,
    "AE PACA": 25,
    "AE Europe": 25,
}


def _rules(teams: Mapping[str, Team], program_id: int | None) -> list[dict[str, Any]]:
    def team(name: str) -> int | None:
        return teams[name].pk if name in teams else None

    def where(*conditions: dict[str, Any], match: str = "all") -> dict[str, Any]:
        return {"match": match, "conditions": list(conditions)}

    rules: list[dict[str, Any]] = [
        {
            "name": "Not a buyer: back to Marketing",
            "action": "recycle",
            "recycle_reason": "not_ready",
            # Outside the profile and barely engaged (grades run A1–C3, scoring's bands).
            "conditions": where(
                {"field": "grade", "op": "in", "value": ["C3"]},
                {"field": "engagement_score", "op": "lte", "value": 10},
            ),
        },
        {
            "name": "Hot inbound to the IRs",
            "team": team("Inbound"),
            "method": "least_loaded",
            "conditions": where(
                {"field": "source", "op": "in", "value": ["website", "inbound_call"]},
                {"field": "profile_score", "op": "gte", "value": 60},
            ),
        },
        {
            "name": "Île-de-France A accounts",
            "team": team("AE Paris"),
            "method": "weighted",
            "conditions": where(
                {"field": "region", "op": "in", "value": ["FR-IDF"]},
                {"field": "grade", "op": "in", "value": ["A1", "A2", "A3"]},
            ),
        },
        {
            "name": "Lyon and Lille",
            "team": team("AE Lyon-Lille"),
            "conditions": where({"field": "region", "op": "in", "value": ["FR-ARA", "FR-HDF"]}),
        },
        {
            "name": "Provence",
            "team": team("AE PACA"),
            "conditions": where({"field": "region", "op": "in", "value": ["FR-PAC"]}),
        },
        {
            "name": "Outside France",
            "team": team("AE Europe"),
            "conditions": where({"field": "country", "op": "not_in", "value": ["FR"]}),
        },
    ]
    if program_id is not None:
        rules.insert(
            1,
            {
                "name": "Not ready yet: the incubator",
                "action": "nurture",
                "program": program_id,
                "conditions": where({"field": "grade", "op": "in", "value": ["C2", "C3"]}),
            },
        )
    rules.append({"name": "Everything else to the SDRs", "team": team("SDR")})
    return [
        {"action": "assign_team", "method": "round_robin", **r}
        for r in rules
        if r.get("team") is not None or r.get("action") in ("recycle", "nurture")
    ]


def seed_routing(
    *, teams: Mapping[str, Team], actor: Any, program_id: int | None = None, route: bool = True
) -> dict[str, int]:
    """Rotations, rules, and (with `route`) the live MQLs routed. Idempotent: does nothing
    when rules exist already. Returns what it created."""
    if RoutingRule.objects.exists():
        return {"members": 0, "rules": 0, "routed": 0}
    members = 0
    for name, capacity in ROTATIONS.items():
        team = teams.get(name)
        if team is None:
            continue
        sellers = UserProfile.objects.filter(teams=team, role__in=SELLERS).select_related("user")
        for profile in sellers.order_by("user_id"):
            services.member_save(
                team=team,
                user=profile.user,
                actor=actor,
                channel="cli",
                data={"capacity": capacity},
            )
            members += 1
    # One person on holiday next week, as every team has in practice.
    first = RoutingMember.objects.order_by("id").first()
    if first is not None:
        today = timezone.localdate()
        services.member_save(
            team=first.team,
            user=first.user,
            actor=actor,
            channel="cli",
            data={
                "away_from": today + dt.timedelta(days=7),
                "away_until": today + dt.timedelta(days=11),
            },
        )
    rules = _rules(teams, program_id)
    for data in rules:
        services.rule_create(actor=actor, channel="cli", data=data)
    routed = 0
    if route:
        live = Lead.objects.filter(stage=Stage.MQL).values_list("pk", flat=True)
        routed = len(services.route(lead_ids=list(live), actor=None, channel="job"))
    return {"members": members, "rules": len(rules), "routed": routed}
