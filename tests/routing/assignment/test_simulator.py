"""The simulator: where a sample would go under a draft, what changes, and the warnings. It writes
nothing."""

from __future__ import annotations

from typing import Any

import pytest

from cible.lifecycle.leads.models import Lead
from cible.routing.assignment import drafts, simulator
from cible.routing.assignment.models import Assignment, RoutingMember, RoutingRule
from tests.cast import Cast
from tests.routing.assignment.conftest import paris_rule

pytestmark = pytest.mark.django_db


def test_draft_set_outcomes_differences_and_warnings(cast: Cast, rotation: Any, mqls: Any) -> None:
    paris_rule(cast, name="Everything to Paris")
    events = mqls(3, source="event")
    web = mqls(5, source="website")
    draft_rules = [
        drafts.clean(
            {
                "name": "Events to Sophie",
                "action": "assign_user",
                "user": cast.sdr.pk,
                "conditions": {"conditions": [{"field": "source", "op": "in", "value": ["event"]}]},
            }
        ),
        drafts.clean(
            {
                "name": "Webinars",
                "action": "assign_user",
                "user": cast.ae.pk,
                "conditions": {
                    "conditions": [{"field": "source", "op": "in", "value": ["webinar"]}]
                },
            }
        ),
        drafts.clean({"name": "Catch-all", "action": "assign_team", "team": cast.paris.pk}),
        drafts.clean(
            {
                "name": "Grade A events",
                "action": "assign_user",
                "user": cast.ae2.pk,
                "conditions": {"conditions": [{"field": "source", "op": "in", "value": ["event"]}]},
            }
        ),
        drafts.clean({"name": "Everything else", "action": "recycle", "recycle_reason": "other"}),
    ]
    sim = simulator.simulate(viewer=cast.manager, drafts=draft_rules, lead_ids=events + web)

    assert sim.size == 8
    assert dict(sim.draft_counts) == {"AE Paris": 5, "Sophie Leroy": 3}
    assert dict(sim.current_counts) == {"AE Paris": 8}
    assert sim.changed == 3
    by_lead = {row.lead_id: row for row in sim.rows}
    assert by_lead[events[0]].draft == "Sophie Leroy" and by_lead[events[0]].changed
    assert by_lead[events[0]].current.startswith("AE Paris: ")
    assert by_lead[web[0]].draft_reason.startswith("Rule 3 “Catch-all” → round robin in AE Paris")
    assert sim.warnings == [
        "Rule 2 “Webinars” matches none of the 8 leads of the sample.",
        "Rule 3 “Catch-all” matches every lead of the sample: the rules below it never apply.",
        "Rule 4 “Grade A events” is shadowed: every lead it matches is taken first by "
        "rule 1 “Events to Sophie”.",
        "Rule 5 “Everything else” is shadowed: every lead it matches is taken first by "
        "rule 1 “Events to Sophie”, rule 3 “Catch-all”.",
    ]
    # Nothing written: no assignment, no owner, no counter moved.
    assert Assignment.objects.count() == 0
    assert not Lead.objects.filter(owner__isnull=False).exists()
    assert set(RoutingMember.objects.values_list("assigned", flat=True)) == {0}
    assert RoutingRule.objects.count() == 1
