"""/api/v1/targets: saved searches, their live count, members and CSV export."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.api.conftest import assert_error_shape, fields_of
from tests.segments.targets.world import (
    SALES_DIRECTORS,
    Base,
    make_base,
    seed_002_definition,
    segment,
)


@pytest.fixture
def base(cast: Any) -> Base:
    return make_base(cast)


def create(api: Any, **data: Any) -> dict[str, Any]:
    data.setdefault("name", "Seed 002")
    data.setdefault("definition", seed_002_definition())
    response = api.post("/targets", data)
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_live_count_of_an_unsaved_definition(api_for: Any, cast: Any, base: Base) -> None:
    api = api_for(cast.ae)
    response = api.post("/targets/count", {"definition": seed_002_definition()})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], body["finished"], body["level"], body["message"]) == (
        2,
        True,
        "organisation",
        "",
    )
    contacts = api.post(
        "/targets/count",
        {"level": "contact", "definition": {**seed_002_definition(), "contact": SALES_DIRECTORS}},
    )
    assert contacts.json()["count"] == 2
    everything = api.post("/targets/count", {})
    assert everything.json()["count"] == 6


def test_a_bad_definition_is_a_422_naming_each_path(api_for: Any, cast: Any, base: Base) -> None:
    api = api_for(cast.ae)
    response = api.post(
        "/targets/count",
        {
            "definition": {
                "segments": {"geography": [999_999], "size": [segment("geography", "lille")]},
                "organisation": {"match": "all", "conditions": []},
            }
        },
    )
    body = assert_error_shape(response, 422)
    assert fields_of(body) == {
        "definition.segments.geography.0",
        "definition.segments.size.0",
        "definition.organisation.conditions",
    }
    wrong_level = api.post("/targets/count", {"level": "company", "definition": {}})
    assert fields_of(assert_error_shape(wrong_level, 422)) == {"level"}
    too_long = api.post("/targets/count", {"definition": {}, "timeout_ms": 3_600_000})
    assert fields_of(assert_error_shape(too_long, 422)) == {"timeout_ms"}


def test_create_read_update_delete(api_for: Any, cast: Any, base: Base) -> None:
    api = api_for(cast.ae)
    created = create(api, description="From the blog post", shared=True)
    assert created["owner"] == cast.ae.pk and created["shared"] and created["can_change"]
    assert {p["label"]: p["text"] for p in created["described"]}["Installed CRM"] == "Salesforce"
    pk = created["id"]
    assert api.get(f"/targets/{pk}").json()["name"] == "Seed 002"
    changed = api.patch(f"/targets/{pk}", {"version": 1, "name": "Seed 002 (Lille, Paris)"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["version"] == 2
    stale = api.patch(f"/targets/{pk}", {"version": 1, "name": "Lost"})
    assert_error_shape(stale, 409)
    missing_version = api.patch(f"/targets/{pk}", {"name": "No version"})
    assert fields_of(assert_error_shape(missing_version, 422)) == {"version"}
    assert api.delete(f"/targets/{pk}").status_code == 204
    assert_error_shape(api.get(f"/targets/{pk}"), 404)


def test_targets_list_is_paged_and_shows_mine_and_shared_ones(
    api_for: Any, cast: Any, base: Base
) -> None:
    alice = api_for(cast.ae)
    for name in ("A", "B", "C"):
        create(alice, name=name, shared=name != "B")
    create(api_for(cast.outsider), name="Olivier's")
    first = api_for(cast.ae2).get("/targets", limit=1, count="true").json()
    assert [t["name"] for t in first["items"]] == ["A"] and first["count"] == 2
    second = api_for(cast.ae2).get("/targets", limit=1, cursor=first["next_cursor"]).json()
    assert [t["name"] for t in second["items"]] == ["C"] and second["next_cursor"] is None
    assert [t["name"] for t in alice.get("/targets").json()["items"]] == ["A", "B", "C"]


def test_others_read_a_shared_target_but_only_the_owner_changes_it(
    api_for: Any, cast: Any, base: Base
) -> None:
    shared = create(api_for(cast.ae), name="Ours", shared=True)
    private = create(api_for(cast.ae), name="Mine")
    basile = api_for(cast.ae2)
    assert basile.get(f"/targets/{shared['id']}").json()["can_change"] is False
    assert_error_shape(basile.patch(f"/targets/{shared['id']}", {"version": 1, "name": "X"}), 403)
    assert_error_shape(basile.delete(f"/targets/{shared['id']}"), 403)
    assert_error_shape(basile.get(f"/targets/{private['id']}"), 404)
    assert_error_shape(basile.get(f"/targets/{private['id']}/members"), 404)
    assert_error_shape(basile.get(f"/targets/{private['id']}/export.csv"), 404)
    copy = basile.post(f"/targets/{shared['id']}/duplicate", {})
    assert copy.status_code == 201
    assert (copy.json()["name"], copy.json()["owner"]) == ("Copy of Ours", cast.ae2.pk)


def test_members_page_through_the_target(api_for: Any, cast: Any, base: Base) -> None:
    api = api_for(cast.ae)
    target = create(api, definition={"segments": [segment("geography", "lille")]})
    first = api.get(f"/targets/{target['id']}/members", limit=2, count="true").json()
    assert first["level"] == "organisation" and first["count"] == 3
    assert [o["legal_name"] for o in first["organisations"]] == ["Nordis", "Petit Lille"]
    assert first["contacts"] == []
    rest = api.get(f"/targets/{target['id']}/members", limit=2, cursor=first["next_cursor"])
    assert [o["legal_name"] for o in rest.json()["organisations"]] == ["Roubaix Sage"]
    contacts = create(
        api,
        name="Directors",
        level="contact",
        definition={**seed_002_definition(), "contact": SALES_DIRECTORS},
    )
    page = api.get(f"/targets/{contacts['id']}/members").json()
    assert [c["last_name"] for c in page["contacts"]] == ["Nora", "Paul"]
    assert api.get(f"/targets/{contacts['id']}/count").json()["count"] == 2


def test_an_ae_never_counts_another_teams_private_records(
    api_for: Any, cast: Any, base: Base, team_private: Any
) -> None:
    alice = api_for(cast.ae)
    assert alice.post("/targets/count", {"definition": seed_002_definition()}).json()["count"] == 1
    target = create(alice, shared=True)
    olivier = api_for(cast.outsider)
    assert olivier.get(f"/targets/{target['id']}/count").json()["count"] == 1
    page = olivier.get(f"/targets/{target['id']}/members").json()
    assert [o["legal_name"] for o in page["organisations"]] == ["Parisia"]
    assert api_for(cast.admin).get(f"/targets/{target['id']}/count").json()["count"] == 2


def test_export_csv(api_for: Any, cast: Any, base: Base) -> None:
    api = api_for(cast.ae)
    target = create(api)
    response = api.get(f"/targets/{target['id']}/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    assert [r["Name"] for r in csv.DictReader(io.StringIO(text))] == ["Nordis", "Parisia"]


def test_bad_bodies_are_422s(api_for: Any, cast: Any, base: Base) -> None:
    api = api_for(cast.ae)
    body = assert_error_shape(
        api.post("/targets", {"name": "X", "definition": [1, 2], "colour": "red"}), 422
    )
    assert fields_of(body) == {"definition", "colour"}
    empty = assert_error_shape(api.post("/targets", {"name": "X", "definition": {}}), 422)
    assert fields_of(empty) == {"definition"}
    contact_rule = api.post("/targets", {"name": "X", "definition": {"contact": SALES_DIRECTORS}})
    assert fields_of(assert_error_shape(contact_rule, 422)) == {"definition.contact"}
