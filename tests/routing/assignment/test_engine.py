"""The engine: each method's spread, account matching, who is skipped, the actions, the reasons."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from cible.lifecycle.leads import services as leads
from cible.lifecycle.leads.models import Lead, Stage
from cible.routing.assignment import services
from cible.routing.assignment.models import Assignment, RoutingMember
from cible.routing.assignment.signals import leads_assigned
from tests import factories
from tests.cast import Cast
from tests.routing.assignment.conftest import paris_rule

pytestmark = pytest.mark.django_db


def owners(ids: list[int]) -> Counter[str]:
    return Counter(Lead.objects.filter(pk__in=ids).values_list("owner__first_name", flat=True))


def test_round_robin_gives_each_member_their_turn(cast: Cast, rotation: Any, mqls: Any) -> None:
    paris_rule(cast)
    ids = mqls(30)
    done = services.route(lead_ids=ids, actor=None, channel="job")
    assert owners(ids) == {"Alice": 10, "Basile": 10, "Sophie": 10}
    assert [a.user.first_name for a in done[:3]] == ["Alice", "Basile", "Sophie"]
    assert done[3].reason == (
        "Rule 1 “Paris inbound” → round robin in AE Paris: Alice Martin (2 of 20)"
    )
    assert RoutingMember.objects.get(user=cast.ae).assigned == 10


def test_weighted_follows_capacities_and_least_loaded_fills_the_emptiest(
    cast: Cast, rotation: Any, mqls: Any
) -> None:
    rotation["alice"].capacity, rotation["sophie"].capacity = 60, 30
    RoutingMember.objects.filter(pk=rotation["alice"].pk).update(capacity=60)
    RoutingMember.objects.filter(pk=rotation["sophie"].pk).update(capacity=30)
    rule = paris_rule(cast, method="weighted")
    ids = mqls(50)
    services.route(lead_ids=ids, actor=None, channel="job")
    assert owners(ids) == {"Alice": 30, "Basile": 5, "Sophie": 15}

    services.rule_update(rule=rule, actor=cast.admin, channel="ui", data={"method": "least_loaded"})
    more = mqls(20)
    services.route(lead_ids=more, actor=None, channel="job")
    # Open leads were 30 / 5 / 15: Basile fills up to his capacity of 10, then Sophie, the
    # least loaded left, takes the rest; Alice gets none.
    assert owners(more) == {"Basile": 5, "Sophie": 15}
    assert Lead.objects.filter(owner=cast.ae2, stage=Stage.MQL).count() == 10


def test_unavailable_away_and_full_members_are_skipped_then_the_manager_keeps_the_lead(
    cast: Cast, rotation: Any, mqls: Any
) -> None:
    today = timezone.localdate()
    services.member_save(
        team=cast.paris,
        user=cast.ae,
        actor=cast.admin,
        channel="ui",
        data={
            "away_from": today - dt.timedelta(days=1),
            "away_until": today + dt.timedelta(days=6),
        },
    )
    services.member_save(
        team=cast.paris, user=cast.ae2, actor=cast.admin, channel="ui", data={"available": False}
    )
    services.member_save(
        team=cast.paris, user=cast.sdr, actor=cast.admin, channel="ui", data={"capacity": 2}
    )
    paris_rule(cast)
    ids = mqls(3)
    done = services.route(lead_ids=ids, actor=None, channel="job")
    assert [a.user.first_name for a in done] == ["Sophie", "Sophie", "Sam"]
    until = (today + dt.timedelta(days=6)).strftime("%m/%d/%Y")
    assert done[2].method == "fallback"
    assert done[2].reason == (
        "Rule 1 “Paris inbound” → round robin in AE Paris: no one available (Alice Martin away "
        f"until {until}; Basile Durand unavailable; Sophie Leroy at capacity (2 of 2)); "
        "left with the manager Sam Manager"
    )

    # A team without a manager: the lead stays unassigned, with the reason, never dropped.
    services.rule_create(
        actor=cast.admin,
        channel="ui",
        data={"name": "Lyon", "action": "assign_team", "team": cast.lyon.pk, "position": 1},
    )
    [lost] = services.route(lead_ids=mqls(1), actor=None, channel="job")
    assert lost.user is None and lost.method == "unassigned"
    assert lost.reason.endswith("no one available (the team has no member); not assigned")


def test_account_owner_first_unless_away(cast: Cast, rotation: Any, mqls: Any) -> None:
    paris_rule(cast)
    acme = factories.organisation(cast.outsider, legal_name="Acme SAS")
    marketing_owned = factories.organisation(cast.marketer, legal_name="Marketing's own")
    [first] = services.route(lead_ids=mqls(1, organisation=acme), actor=None, channel="job")
    assert (first.user, first.method) == (cast.outsider, "account")
    assert first.reason == "Account matching: Acme SAS is owned by Olivier Roux"
    [to_rules] = services.route(
        lead_ids=mqls(1, organisation=marketing_owned), actor=None, channel="job"
    )
    assert to_rules.user == cast.ae  # a marketer's account: the rules decide

    services.member_save(
        team=cast.lyon,
        user=cast.outsider,
        actor=cast.admin,
        channel="ui",
        data={"away_from": timezone.localdate(), "away_until": None},
    )
    [second] = services.route(lead_ids=mqls(1, organisation=acme), actor=None, channel="job")
    assert second.user == cast.ae2
    assert second.reason.startswith("Account owner not available (Olivier Roux away); Rule 1")


def test_first_matching_active_rule_decides_and_no_match_is_recorded(
    cast: Cast, rotation: Any, mqls: Any
) -> None:
    services.rule_create(
        actor=cast.admin,
        channel="ui",
        data={
            "name": "Events to Basile",
            "action": "assign_user",
            "user": cast.ae2.pk,
            "conditions": {"conditions": [{"field": "source", "op": "in", "value": ["event"]}]},
        },
    )
    inactive = services.rule_create(
        actor=cast.admin,
        channel="ui",
        data={
            "name": "Old catch-all",
            "action": "assign_user",
            "user": cast.sdr.pk,
            "active": False,
        },
    )
    event, web = mqls(1, source="event")[0], mqls(1, source="website")[0]
    by_lead = {
        a.lead_id: a for a in services.route(lead_ids=[event, web], actor=None, channel="job")
    }
    assert by_lead[event].reason == "Rule 1 “Events to Basile” → Basile Durand"
    assert by_lead[web].method == "unassigned" and by_lead[web].user is None
    assert by_lead[web].reason == "No rule matches this lead: not assigned"
    assert inactive.position == 2


def test_a_lead_is_routed_once_per_stage_entry_and_the_move_triggers_it(
    cast: Cast, rotation: Any, django_capture_on_commit_callbacks: Any
) -> None:
    paris_rule(cast)
    heard: list[Any] = []

    def listen(sender: Any, assignments: list[Any], **kwargs: Any) -> None:
        heard.extend(assignments)

    leads_assigned.connect(listen)
    try:
        dupont = factories.contact(cast.marketer, last_name="Dupont", first_name="Jeanne")
        with django_capture_on_commit_callbacks(execute=True):
            lead = leads.open_lead(
                contact=dupont.pk, source="website", stage="mql", actor=cast.marketer, channel="ui"
            )
    finally:
        leads_assigned.disconnect(listen)
    lead.refresh_from_db()
    assert lead.owner == cast.ae
    assert [a.lead_id for a in heard] == [lead.pk]
    assert services.route(lead_ids=[lead.pk], actor=None, channel="job") == []
    [again] = services.route(lead_ids=[lead.pk], actor=cast.manager, channel="ui", force=True)
    assert (
        again.user == cast.ae2 and again.previous_owner == cast.ae and again.actor == cast.manager
    )


def test_recycle_and_nurture_actions(cast: Cast, mqls: Any) -> None:
    from cible.nurture.programs.models import Enrolment, NurtureProgram

    program = NurtureProgram.objects.create(name="Not ready yet", status="active")
    services.rule_create(
        actor=cast.admin,
        channel="ui",
        data={
            "name": "Students back",
            "action": "recycle",
            "recycle_reason": "not_ready",
            "conditions": {"conditions": [{"field": "grade", "op": "in", "value": ["D4"]}]},
        },
    )
    services.rule_create(
        actor=cast.admin,
        channel="ui",
        data={"name": "Incubate", "action": "nurture", "program": program.pk},
    )
    student = factories.contact(cast.marketer, last_name="Petit")
    warm = factories.contact(cast.marketer, last_name="Moreau")
    [low] = mqls(1, grade="D4", contact=student)
    [mid] = mqls(1, grade="B2", contact=warm)
    done = {a.lead_id: a for a in services.route(lead_ids=[low, mid], actor=None, channel="job")}
    recycled = Lead.objects.get(pk=low)
    assert (recycled.stage, recycled.recycle_reason) == (Stage.RECYCLED, "not_ready")
    assert recycled.transitions.last().note == "Routing rule “Students back”"
    assert (
        done[low].reason == "Rule 1 “Students back” → recycled to Marketing (Not ready to buy yet)"
    )
    assert done[mid].reason == "Rule 2 “Incubate” → nurture program “Not ready yet”"
    assert Enrolment.objects.filter(program=program, contact=warm).count() == 1


def test_reassign_gives_the_lead_to_another_member(cast: Cast, rotation: Any, mqls: Any) -> None:
    paris_rule(cast)
    [lead_id] = mqls(1)
    services.route(lead_ids=[lead_id], actor=None, channel="job")
    lead = Lead.objects.get(pk=lead_id)
    assert lead.owner == cast.ae
    moved = services.reassign(lead=lead, actor=None, channel="job", reason="SLA breached")
    assert moved is not None and moved.user == cast.ae2 and moved.previous_owner == cast.ae
    assert moved.reason == (
        "Reassigned (SLA breached) → round robin in AE Paris: Basile Durand (1 of 10)"
    )
    RoutingMember.objects.exclude(user=cast.ae2).update(available=False)
    lead.refresh_from_db()
    assert services.reassign(lead=lead, actor=None, channel="job", reason="again") is None
    assert Lead.objects.get(pk=lead_id).owner == cast.ae2
    assert Assignment.objects.filter(lead_id=lead_id).count() == 2


def test_target_and_segment_conditions(cast: Cast, rotation: Any, mqls: Callable[..., Any]) -> None:
    from cible.segments.targets.services import target_create

    lille = factories.organisation(
        cast.marketer, legal_name="Nord Tech", city="Lille", postal_code="59000"
    )
    paris = factories.organisation(cast.marketer, legal_name="Seine Soft", postal_code="75002")
    target = target_create(
        actor=cast.marketer,
        channel="ui",
        data={
            "name": "Hauts-de-France",
            "level": "organisation",
            "shared": True,
            "definition": {
                "organisation": {
                    "conditions": [{"field": "region", "op": "in", "value": ["FR-HDF"]}]
                }
            },
        },
    )
    services.rule_create(
        actor=cast.admin,
        channel="ui",
        data={
            "name": "North",
            "action": "assign_user",
            "user": cast.sdr.pk,
            "conditions": {"conditions": [{"field": "target", "op": "in", "value": [target.pk]}]},
        },
    )
    north, south = mqls(1, organisation=lille)[0], mqls(1, organisation=paris)[0]
    done = {
        a.lead_id: a for a in services.route(lead_ids=[north, south], actor=None, channel="job")
    }
    assert done[north].user == cast.sdr
    assert done[south].method == "unassigned"


def test_the_sweep_routes_leads_the_trigger_missed(cast: Cast, rotation: Any, mqls: Any) -> None:
    paris_rule(cast)
    routed, missed = mqls(1), mqls(2)
    services.route(lead_ids=routed, actor=None, channel="job")
    old = mqls(1)
    Lead.objects.filter(pk__in=old).update(stage_entered_at=timezone.now() - dt.timedelta(days=30))
    assert services.route_pending() == 2
    assert set(Assignment.objects.values_list("lead_id", flat=True)) == {*routed, *missed}
    assert services.route_pending() == 0  # safe to run twice


def test_the_starting_rule_set_is_seeded_once(cast: Cast, mqls: Any) -> None:
    from cible.routing.assignment.models import RoutingRule
    from cible.routing.assignment.seeding import seed_routing

    [lead_id] = mqls(1, grade="C3", engagement_score=5)
    made = seed_routing(teams={"AE Paris": cast.paris, "SDR": cast.lyon}, actor=cast.admin)
    assert made == {"members": 4, "rules": 3, "routed": 1}
    assert list(RoutingRule.objects.values_list("name", flat=True)) == [
        "Not a buyer: back to Marketing",
        "Île-de-France A accounts",
        "Everything else to the SDRs",
    ]
    assert Lead.objects.get(pk=lead_id).stage == Stage.RECYCLED
    assert seed_routing(teams={"AE Paris": cast.paris}, actor=cast.admin)["rules"] == 0
