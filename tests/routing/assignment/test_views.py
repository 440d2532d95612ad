"""The routing pages: rules with their order, the editor and its simulator, rotations, history,
and the Routing card on a lead's page."""

from __future__ import annotations

from typing import Any

import pytest

from cible.people.services import profile_set_language
from cible.routing.assignment import services
from cible.routing.assignment.models import RoutingRule
from tests.cast import Cast
from tests.routing.assignment.conftest import paris_rule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english_pages(cast: Cast) -> None:
    for user in (cast.admin, cast.manager, cast.ae):
        profile_set_language(user=user, language="en")


def test_lists_keep_a_fixed_number_of_queries(
    cast: Cast, client_for: Any, rotation: Any, mqls: Any, django_assert_max_num_queries: Any
) -> None:
    paris_rule(cast)
    services.rule_create(
        actor=cast.admin,
        channel="ui",
        data={"name": "Events to Sophie", "action": "assign_user", "user": cast.sdr.pk},
    )
    services.route(lead_ids=mqls(30), actor=None, channel="job")
    client = client_for(cast.manager)
    with django_assert_max_num_queries(12):
        page = client.get("/routing/").content.decode()
    assert page.index("Paris inbound") < page.index("Events to Sophie")
    assert "every lead" in page and "Assign to a team: AE Paris (round robin)" in page
    with django_assert_max_num_queries(12):
        page = client.get("/routing/members/").content.decode()
    assert "Basile Durand" in page and 'title="10 / 10"' in page
    with django_assert_max_num_queries(14):
        page = client.get("/routing/assignments/").content.decode()
    assert page.count('class="assignment"') == 30
    assert "round robin in AE Paris: Sophie Leroy (10 of 10)" in page


def test_write_simulate_and_save_a_rule_in_the_editor(
    cast: Cast, client_for: Any, rotation: Any, mqls: Any
) -> None:
    mqls(2, source="event", grade="A1")
    client = client_for(cast.manager)
    form = {
        "name": "Hot events",
        "active": "on",
        "action": "assign_user",
        "method": "round_robin",
        "user": str(cast.sdr.pk),
        "match": "all",
        "field_0": "source",
        "op_0": "in",
        "value_0": "Event or trade show",
        "field_1": "grade",
        "op_1": "in",
        "value_1": "A1, A2",
        "field_2": "profile_score",
        "op_2": "gte",
        "value_2": "abc",
    }
    bad = client.post("/routing/rules/simulate/", form).content.decode()
    assert "conditions.conditions.2.value: profile score is a number: “abc” is not one" in bad
    form["value_2"], form["op_2"] = "", "is_empty"
    sim = client.post("/routing/rules/simulate/", form).content.decode()
    assert "2 leads simulated, 2 would go elsewhere than today." in sim
    assert '<span class="badge text-bg-primary">2</span> Sophie Leroy' in sim
    saved = client.post("/routing/rules/new/", form)
    assert saved.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.conditions["conditions"][0] == {"field": "source", "op": "in", "value": ["event"]}
    editor = client.get(f"/routing/rules/{rule.pk}/").content.decode()
    assert '">\nA1\nA2</textarea>' in editor  # one value per line, as the help text says
    assert client_for(cast.ae).post("/routing/rules/new/", form).status_code == 422  # an AE
    assert client_for(cast.ae).post("/routing/rules/simulate/", form).status_code == 403


def test_move_toggle_and_settings(cast: Cast, client_for: Any) -> None:
    first = paris_rule(cast, name="First")
    second = paris_rule(cast, name="Second")
    client = client_for(cast.admin)
    client.post(f"/routing/rules/{second.pk}/up/")
    client.post(f"/routing/rules/{first.pk}/toggle/")
    assert list(RoutingRule.objects.values_list("name", "position", "active")) == [
        ("Second", 1, True),
        ("First", 2, False),
    ]
    client.post("/routing/settings/", {"trigger_stages": ["mql", "sal"], "on_arrival": "on"})
    from cible.routing.assignment.models import RoutingSettings

    current = RoutingSettings.current()
    assert (current.trigger_stages, current.on_arrival, current.account_matching) == (
        ["mql", "sal"],
        True,
        False,
    )


def test_the_lead_page_shows_why_it_went_where(
    cast: Cast, client_for: Any, rotation: Any, mqls: Any
) -> None:
    paris_rule(cast)
    [lead_id] = mqls(1)
    services.route(lead_ids=[lead_id], actor=None, channel="job")
    page = client_for(cast.ae).get(f"/leads/{lead_id}/").content.decode()
    assert 'id="lead-section-routing"' in page
    assert "Rule 1 “Paris inbound” → round robin in AE Paris: Alice Martin (1 of 20)" in page
