"""The routing API: rules CRUD, reorder, simulate, rotations, assignments, route; access; errors."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from cible.routing.assignment import services
from tests.api.conftest import assert_error_shape, fields_of
from tests.api.fuzzing import never_a_server_error, operations
from tests.cast import Cast
from tests.routing.assignment.conftest import paris_rule

pytestmark = pytest.mark.django_db


def test_rules_crud_reorder_and_errors_by_path(cast: Cast, api_for: Any) -> None:
    api = api_for(cast.manager)
    first = api.post("/routing/rules", {"name": "Paris", "team": cast.paris.pk})
    assert first.status_code == 201, first.content
    body = api.post(
        "/routing/rules",
        {
            "name": "Events",
            "action": "assign_user",
            "user": cast.sdr.pk,
            "position": 1,
            "conditions": {"conditions": [{"field": "source", "op": "in", "value": ["event"]}]},
        },
    ).json()
    assert [(r["name"], r["position"]) for r in api.get("/routing/rules").json()] == [
        ("Events", 1),
        ("Paris", 2),
    ]
    bad = assert_error_shape(
        api.post(
            "/routing/rules",
            {
                "name": "",
                "action": "assign_team",
                "conditions": {"conditions": [{"field": "grade", "op": "in", "value": ["Q7"]}]},
            },
        ),
        422,
    )
    assert fields_of(bad) == {"name", "team", "conditions.conditions.0.value"}
    changed = api.patch(
        f"/routing/rules/{body['id']}", {"version": body["version"], "active": False}
    )
    assert changed.json()["active"] is False
    stale = api.patch(f"/routing/rules/{body['id']}", {"version": body["version"], "name": "x"})
    assert_error_shape(stale, 409)
    order = api.post("/routing/rules/reorder", {"ids": [first.json()["id"], body["id"]]}).json()
    assert [r["name"] for r in order] == ["Paris", "Events"]
    assert fields_of(assert_error_shape(api.post("/routing/rules/reorder", {"ids": [1]}), 422)) == {
        "ids"
    }
    assert api.delete(f"/routing/rules/{body['id']}").status_code == 204
    assert [r["position"] for r in api.get("/routing/rules").json()] == [1]

    ae = api_for(cast.ae)
    assert len(ae.get("/routing/rules").json()) == 1  # Sales reads how leads reach them …
    assert_error_shape(
        ae.post("/routing/rules", {"name": "Mine", "user": cast.ae.pk, "action": "assign_user"}),
        403,
    )  # … not edits
    assert_error_shape(ae.post("/routing/rules/simulate", {"rule": {"name": "x"}}), 403)


def test_simulate_members_route_and_assignments(
    cast: Cast, api_for: Any, rotation: Any, mqls: Any, team_private: Any
) -> None:
    paris_rule(cast)
    ids = mqls(4)
    api = api_for(cast.admin)
    sim = api.post(
        "/routing/rules/simulate",
        {
            "rule": {"name": "All to Olivier", "action": "assign_user", "user": cast.outsider.pk},
            "lead_ids": ids,
        },
    ).json()
    # The draft goes after the catch-all "Paris inbound": it never applies.
    assert sim["size"] == 4 and sim["changed"] == 0
    assert sim["warnings"] == [
        "Rule 1 “Paris inbound” matches every lead of the sample: the rules below it never apply.",
        "Rule 2 “All to Olivier” is shadowed: every lead it matches is taken first by "
        "rule 1 “Paris inbound”.",
    ]
    members = api.get("/routing/members").json()
    assert [(m["user"], m["capacity"], m["open_leads"]) for m in members] == [
        (cast.ae.pk, 20, 0),
        (cast.ae2.pk, 10, 0),
        (cast.sdr.pk, 10, 0),
    ]
    away = api.patch(
        f"/routing/members/{members[0]['id']}",
        {"away_from": "2026-12-01", "away_until": "2026-11-01"},
    )
    assert fields_of(assert_error_shape(away, 422)) == {"away_until"}
    routed = api.post("/routing/route", {"lead_ids": ids}).json()
    assert [a["user"] for a in routed] == [cast.ae.pk, cast.ae2.pk, cast.sdr.pk, cast.ae.pk]
    assert api.get("/routing/members").json()[0]["open_leads"] == 2
    page = api.get("/routing/assignments", count="true").json()
    assert page["count"] == 4 and page["items"][0]["channel"] == "api"
    # Olivier (AE Lyon) does not see AE Paris's private leads, nor how they were routed.
    assert api_for(cast.outsider).get("/routing/assignments", count="true").json()["count"] == 0
    assert_error_shape(api_for(cast.ae).post("/routing/route", {"lead_ids": ids}), 403)


OPERATIONS = operations(r"^/api/v1/routing/")


@pytest.fixture
def token(cast: Any, in_test_transaction: None, rotation: Any) -> str:
    paris_rule(cast)
    _token, key = api_token_create(user=cast.manager, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_routing_api_never_answers_a_server_error(label: str, token: str) -> None:
    never_a_server_error(OPERATIONS[label], token, examples=15)


def test_rule_change_is_refused_to_a_stale_editor_in_services(cast: Cast) -> None:
    rule = paris_rule(cast)
    services.rule_update(rule=rule, actor=cast.admin, channel="ui", data={"name": "A"})
    from cible.core.errors import ConflictError
    from cible.routing.assignment.models import RoutingRule

    stale = RoutingRule.objects.get(pk=rule.pk)
    stale.version -= 1
    with pytest.raises(ConflictError):
        services.rule_update(rule=stale, actor=cast.admin, channel="ui", data={"name": "B"})


def test_simulating_on_no_leads_answers_with_an_empty_sample(
    cast: Cast, api_for: Any, rotation: Any
) -> None:
    paris_rule(cast)
    response = api_for(cast.admin).post(
        "/routing/rules/simulate",
        {
            "rule": {"name": "All to Olivier", "action": "assign_user", "user": cast.outsider.pk},
            "lead_ids": [],
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["size"] == 0 and response.json()["changed"] == 0
