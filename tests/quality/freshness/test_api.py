"""The freshness endpoints under /api/v1/quality."""

from __future__ import annotations

from typing import Any

import pytest

from cible.quality.freshness.models import VerificationTask
from tests.api.conftest import assert_error_shape
from tests.quality.freshness.conftest import Base

pytestmark = pytest.mark.django_db


def test_dashboard_figures(cast: Any, base: Base, api_for: Any) -> None:
    response = api_for(cast.admin).get("/quality/dashboard")
    assert response.status_code == 200, response.content
    body = response.json()
    orgs = next(e for e in body["entities"] if e["entity"] == "organisation")
    assert orgs["total"] == 6
    assert orgs["stale"] == 4
    assert {r["code"]: r["count"] for r in orgs["reasons"]} == {"age": 2, "never": 1, "closed": 1}
    siren = next(f for f in orgs["fields"] if f["name"] == "siren")
    assert (siren["filled"], siren["expected"], siren["percent"]) == (1, 2, 50.0)
    assert {o["name"] for o in body["owners"]} == {"Alice Martin", "Olivier Roux"}


def test_stale_records_with_reasons_paged(cast: Any, base: Base, api_for: Any) -> None:
    client = api_for(cast.admin)
    first = client.get("/quality/stale/contact", limit=2).json()
    assert len(first["items"]) == 2
    second = client.get("/quality/stale/contact", limit=2, cursor=first["next_cursor"]).json()
    items = first["items"] + second["items"]
    assert {i["name"]: i["reasons"] for i in items} == {
        "Rebond": ["bounced"],
        "Parti": ["left"],
        "Ferme": ["closed"],
        "Lyonnais": ["never"],
    }
    assert second["next_cursor"] is None
    bounced = client.get("/quality/stale/contact", reason="bounced").json()
    assert [i["name"] for i in bounced["items"]] == ["Rebond"]
    assert_error_shape(client.get("/quality/stale/contact", owner="alice"), 422)
    assert_error_shape(client.get("/quality/stale/lead"), 422)


def test_tasks_verify_and_resolve(cast: Any, base: Base, api_for: Any) -> None:
    manager = api_for(cast.manager)
    created = manager.post(
        "/quality/tasks", {"entity": "organisation", "owner": str(cast.ae.pk)}
    ).json()
    assert created["created"] == 3
    alice = api_for(cast.ae)
    tasks = alice.get("/quality/tasks").json()
    assert sorted(t["record"] for t in tasks) == ["Ancienne SARL", "Fermée SAS", "Jamais SA"]
    jamais = next(t for t in tasks if t["record"] == "Jamais SA")
    resolved = alice.post(f"/quality/tasks/{jamais['id']}/resolve", {"action": "closed"}).json()
    assert resolved["outcome"] == "closed"
    verified = alice.post(
        "/quality/verify", {"entity": "organisation", "ids": [base.old_org.pk]}
    ).json()
    assert verified == {"verified": 1, "refused": 0}
    assert [t["record"] for t in alice.get("/quality/tasks").json()] == ["Fermée SAS"]
    assert VerificationTask.objects.get(organisation=base.old_org).outcome == "verified"
    refused = alice.post(f"/quality/tasks/{jamais['id']}/resolve", {"action": "verify"})
    assert "already done" in assert_error_shape(refused, 422)["detail"]


def test_policy_read_and_changed_by_admins_only(cast: Any, api_for: Any) -> None:
    assert api_for(cast.ae).get("/quality/policy").json()["organisation_max_age_days"] == 365
    assert_error_shape(api_for(cast.ae).patch("/quality/policy", {"task_due_days": 3}), 403)
    admin = api_for(cast.admin)
    changed = admin.patch("/quality/policy", {"contact_max_age_days": "180", "contact_left": False})
    assert changed.status_code == 200, changed.content
    assert changed.json()["contact_max_age_days"] == 180
    assert changed.json()["contact_left"] is False
    bad = assert_error_shape(admin.patch("/quality/policy", {"task_due_days": 0}), 422)
    assert bad["errors"][0]["field"] == "task_due_days"
    unknown = assert_error_shape(admin.patch("/quality/policy", {"colour": "red"}), 422)
    assert unknown["errors"][0]["field"] == "colour"
