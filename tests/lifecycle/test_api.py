"""The leads API: open, read, patch BANT, move, Sales' answers, convert, definitions; access."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from cible.lifecycle.leads import services
from cible.lifecycle.leads.models import Lead, StageDefinition
from cible.pipeline.models import Opportunity
from tests.api.conftest import assert_error_shape, fields_of
from tests.api.fuzzing import never_a_server_error, operations
from tests.lifecycle.conftest import scored

pytestmark = pytest.mark.django_db


def test_open_read_and_list_a_lead(cast, api_for, dupont, acme):
    api = api_for(cast.ae)
    created = api.post("/leads", {"contact": dupont.pk, "source": "website", "stage": "prospect"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["stage"], body["contact"], body["organisation"]) == (
        "prospect",
        dupont.pk,
        acme.pk,
    )
    again = assert_error_shape(api.post("/leads", {"contact": dupont.pk, "source": "website"}), 409)
    assert f"#{body['id']}" in again["detail"]
    page = api.get("/leads", stage="prospect", q="dupo", count="true").json()
    assert [item["id"] for item in page["items"]] == [body["id"]] and page["count"] == 1
    assert api.get("/leads", stage="mql").json()["items"] == []
    counts = {row["stage"]: row["count"] for row in api.get("/leads/stage-counts").json()}
    assert counts["prospect"] == 1 and counts["mql"] == 0
    bad = assert_error_shape(api.get("/leads", stage="tepid"), 422)
    assert fields_of(bad) == {"stage"}


def test_a_forbidden_move_is_a_422_naming_both_stages(cast, api_for, lead):
    api = api_for(cast.ae)
    assert api.post(f"/leads/{lead.pk}/move", {"to_stage": "sql"}).json()["stage"] == "sql"
    refused = assert_error_shape(api.post(f"/leads/{lead.pk}/move", {"to_stage": "prospect"}), 422)
    assert refused["errors"] == [
        {
            "field": "to_stage",
            "message": "A lead cannot move from Sales qualified lead (SQL) to Prospect: "
            "the way back is Recycled, with a reason",
        }
    ]
    recycle = assert_error_shape(api.post(f"/leads/{lead.pk}/move", {"to_stage": "recycled"}), 422)
    assert fields_of(recycle) == {"reason", "requalify_on"}


def test_patch_bant_with_versions_and_the_rule_moves_it(cast, api_for, lead, agreed):
    api = api_for(cast.sdr)
    scored(lead, 80, 60)
    services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui")
    accepted = api.post(f"/leads/{lead.pk}/accept", {}).json()
    assert accepted["stage"] == "sal"
    bant = {
        "budget": "approved",
        "authority": "decision_maker",
        "need": "identified",
        "timing": "within_quarter",
    }
    stale = assert_error_shape(
        api.patch(f"/leads/{lead.pk}", {"version": accepted["version"] - 1, **bant}), 409
    )
    assert "Someone else saved this record" in stale["detail"]
    patched = api.patch(f"/leads/{lead.pk}", {"version": accepted["version"], **bant}).json()
    assert (patched["stage"], patched["budget"]) == ("sql", "approved")
    history = api.get(f"/leads/{lead.pk}/transitions").json()
    assert [(t["to_stage"], t["channel"], t["actor_name"]) for t in history] == [
        ("prospect", "ui", "Alice Martin"),
        ("mql", "ui", "Marie Petit"),
        ("sal", "api", "Sophie Leroy"),
        ("sql", "rule", "Sophie Leroy"),
    ]
    assert history[-1]["definition"] == agreed["sql"].pk


def test_reject_and_convert(cast, api_for, lead, dupont):
    api = api_for(cast.ae)
    services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui")
    missing = assert_error_shape(api.post(f"/leads/{lead.pk}/reject", {}), 422)
    assert fields_of(missing) == {"reason"}
    rejected = api.post(f"/leads/{lead.pk}/reject", {"reason": "no project"}).json()
    assert (rejected["stage"], rejected["recycle_reason"]) == ("recycled", "rejected_by_sales")
    early = assert_error_shape(api.post(f"/leads/{lead.pk}/convert", {"name": "x"}), 422)
    assert "this one is at Recycled" in early["detail"]
    lead.refresh_from_db()
    services.move(lead=lead, to_stage="mql", actor=cast.marketer, channel="ui")
    services.move(lead=lead, to_stage="sql", actor=cast.ae, channel="ui")
    converted = api.post(f"/leads/{lead.pk}/convert", {"name": "Acme CRM", "one_time_amount": 5000})
    assert converted.status_code == 201, converted.content
    body = converted.json()
    assert body["lead"]["stage"] == "opportunity"
    assert Opportunity.objects.get(pk=body["opportunity"]).lead_id == lead.pk


def test_stage_definitions_through_the_api(cast, api_for):
    marketing, sales = api_for(cast.marketer), api_for(cast.manager)
    bad = assert_error_shape(
        marketing.post(
            "/stage-definitions",
            {"stage": "mql", "text": "x", "criteria": {"min_profile_score": -1, "tone": 1}},
        ),
        422,
    )
    assert fields_of(bad) == {"criteria.min_profile_score", "criteria.tone"}
    draft = marketing.post(
        "/stage-definitions", {"stage": "mql", "text": "Fits.", "criteria": {"grades": ["A1"]}}
    ).json()
    assert (draft["version"], draft["status"]) == (1, "draft")
    marketing.post(f"/stage-definitions/{draft['id']}/approve", {"side": "marketing"})
    agreed = sales.post(f"/stage-definitions/{draft['id']}/approve", {"side": "sales"}).json()
    assert agreed["status"] == "agreed"
    assert {(a["side"], a["approver_name"]) for a in agreed["approvals"]} == {
        ("marketing", "Marie Petit"),
        ("sales", "Sam Manager"),
    }
    denied = assert_error_shape(
        sales.post(f"/stage-definitions/{draft['id']}/approve", {"side": "marketing"}), 403
    )
    assert "marketing" in denied["detail"].lower()
    assert [d["id"] for d in sales.get("/stage-definitions").json()] == [draft["id"]]


def test_an_outsider_does_not_see_a_team_private_lead(
    cast,
    api_for,
    lead,
    team_private,
):
    Lead.objects.filter(pk=lead.pk).update(owner=cast.ae)
    outsider = api_for(cast.outsider)
    assert outsider.get("/leads", count="true").json() == {
        "items": [],
        "next_cursor": None,
        "count": 0,
    }
    counts = {row["stage"]: row["count"] for row in outsider.get("/leads/stage-counts").json()}
    assert sum(counts.values()) == 0
    assert_error_shape(outsider.get(f"/leads/{lead.pk}"), 404)
    assert_error_shape(outsider.get(f"/leads/{lead.pk}/transitions"), 404)
    assert_error_shape(outsider.post(f"/leads/{lead.pk}/move", {"to_stage": "mql"}), 404)
    assert api_for(cast.ae2).get(f"/leads/{lead.pk}").status_code == 200  # a teammate


OPERATIONS = operations(r"^/api/v1/(leads|stage-definitions)(/\{pk\})?(/[a-z-]+)?$")


@pytest.fixture
def token(cast: Any, in_test_transaction: None, dupont: Any) -> str:
    services.open_lead(contact=dupont, source="website", actor=cast.ae, channel="ui")
    StageDefinition.objects.create(stage="mql", version=1, text="Fits.")
    _token, key = api_token_create(user=cast.ae, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_leads_api_never_answers_a_server_error(label: str, token: str) -> None:
    never_a_server_error(OPERATIONS[label], token)
