"""/api/v1/axes and /api/v1/segments: seed 002's axes, their segments, members and rebuilds."""

from __future__ import annotations

from typing import Any

import pytest

from cible.segments.axes.models import RebuildRun
from tests.api.conftest import assert_error_shape, fields_of
from tests.segments.targets.world import Base, make_base, segment


@pytest.fixture
def base(cast: Any) -> Base:
    return make_base(cast)


def counts(axis: dict[str, Any]) -> dict[str, int]:
    return {s["code"]: s["count"] for s in axis["segments"]}


def test_seed_002_axes_with_the_members_each_caller_may_see(
    api_for: Any, cast: Any, base: Base, team_private: Any
) -> None:
    axes = api_for(cast.admin).get("/axes").json()
    assert [a["code"] for a in axes] == [
        "geography",
        "size",
        "sales-team",
        "installed-crm",
        "target-sectors",
    ]
    geography = axes[0]
    assert geography["name"] == "Geography" and geography["exclusive"]
    assert counts(geography) == {
        "paca": 0,
        "paris": 2,
        "lyon": 1,
        "lille": 3,
        "other-france": 0,
        "europe": 0,
        "world": 0,
    }
    lille = next(s for s in geography["segments"] if s["code"] == "lille")
    assert lille["kind"] == "rule" and "59" in lille["rule_text"]
    # Olivier (AE Lyon) sees his own two organisations only: Parisia and Roubaix Sage.
    olivier = api_for(cast.outsider).get(f"/axes/{geography['id']}").json()
    assert counts(olivier)["lille"] == 1 and counts(olivier)["paris"] == 1


def test_segments_list_detail_and_members(api_for: Any, cast: Any, base: Base) -> None:
    api = api_for(cast.ae)
    lille = segment("geography", "lille")
    listed = api.get("/segments", axis=api.get(f"/segments/{lille}").json()["axis"]).json()
    assert [s["code"] for s in listed][:4] == ["paca", "paris", "lyon", "lille"]
    detail = api.get(f"/segments/{lille}").json()
    assert (detail["axis_code"], detail["name"], detail["count"]) == ("geography", "Lille", 3)
    page = api.get(f"/segments/{lille}/members", limit=2, count="true").json()
    assert [o["legal_name"] for o in page["items"]] == ["Nordis", "Petit Lille"]
    assert page["count"] == 3
    assert_error_shape(api.get("/segments/999999"), 404)


def test_marketing_builds_an_axis_with_a_rule_segment_and_a_manual_one(
    api_for: Any, cast: Any, base: Base
) -> None:
    api = api_for(cast.marketer)
    axis = api.post("/axes", {"name": "Key accounts", "exclusive": False})
    assert axis.status_code == 201, axis.content
    axis_id = axis.json()["id"]
    assert axis.json()["code"] == "key-accounts"
    rule = {"match": "all", "conditions": [{"field": "headcount", "op": "gte", "value": 100}]}
    big = api.post("/segments", {"axis": axis_id, "name": "Big", "rule": rule})
    assert big.status_code == 201, big.content
    assert big.json()["count"] == 3  # Nordis 120, Parisia 600, Hubert 200
    chosen = api.post("/segments", {"axis": axis_id, "name": "Chosen", "kind": "manual"})
    chosen_id = chosen.json()["id"]
    added = api.post(f"/segments/{chosen_id}/members", {"organisations": [base.petit_lille.pk]})
    assert added.json() == {"added": 1, "removed": 0}
    assert api.get(f"/segments/{chosen_id}").json()["count"] == 1
    removed = api.post(
        f"/segments/{chosen_id}/members/remove", {"organisations": [base.petit_lille.pk]}
    )
    assert removed.json()["removed"] == 1
    renamed = api.patch(f"/segments/{big.json()['id']}", {"version": 1, "name": "Large"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Large"
    assert api.delete(f"/segments/{chosen_id}").status_code == 204
    assert api.delete(f"/axes/{axis_id}").status_code == 204


def test_an_ae_may_read_but_not_change_segmentation(api_for: Any, cast: Any, base: Base) -> None:
    api = api_for(cast.ae)
    assert_error_shape(api.post("/axes", {"name": "Mine"}), 403)
    lille = segment("geography", "lille")
    assert_error_shape(api.patch(f"/segments/{lille}", {"version": 1, "name": "Lil"}), 403)
    assert_error_shape(api.post("/segments/rebuilds", {}), 403)


def test_bad_rules_are_422s_naming_the_path(api_for: Any, cast: Any, base: Base) -> None:
    api = api_for(cast.marketer)
    axis = api.post("/axes", {"name": "Tries"}).json()
    body = assert_error_shape(
        api.post(
            "/segments",
            {
                "axis": axis["id"],
                "name": "Bad",
                "rule": {"match": "all", "conditions": [{"field": "headcount", "op": "gt"}]},
            },
        ),
        422,
    )
    assert fields_of(body) == {"rule.conditions.0.value"}
    no_axis = api.post("/segments", {"axis": 999_999, "name": "Lost", "kind": "manual"})
    assert fields_of(assert_error_shape(no_axis, 422)) == {"axis"}


def test_a_rebuild_is_started_and_followed(api_for: Any, cast: Any, base: Base) -> None:
    api = api_for(cast.manager)
    started = api.post("/segments/rebuilds", {"segments": [segment("geography", "lille")]})
    assert started.status_code == 202, started.content
    run = started.json()
    assert run["status"] == "running"
    followed = api.get(f"/segments/rebuilds/{run['id']}").json()
    assert followed["id"] == run["id"] and RebuildRun.objects.filter(pk=run["id"]).exists()
    unknown = api.post("/segments/rebuilds", {"segments": [999_999]})
    assert fields_of(assert_error_shape(unknown, 422)) == {"segments"}


def test_rule_fields_for_the_editors(api_for: Any, cast: Any) -> None:
    fields = {f["name"]: f for f in api_for(cast.ae).get("/rules/fields", level="contact").json()}
    assert "in" in fields["function"]["operators"]
    assert {"value": "sales", "label": "Sales"} in fields["function"]["choices"]
    assert fields["organisation.region"]["kind"] == "choice"
