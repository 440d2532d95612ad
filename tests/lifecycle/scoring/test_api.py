"""The scoring API: models read by all, changed by Marketing with versions; every mistake of a
definition named by its dotted place; runs; a lead's score explained to those who may see it."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.services import api_token_create
from cible.lifecycle.scoring import compute
from cible.lifecycle.scoring.models import ScoringModel
from cible.lifecycle.scoring.services import model_activate, model_create
from tests.api.conftest import api_for, assert_error_shape, fields_of  # noqa: F401
from tests.api.fuzzing import never_a_server_error, operations
from tests.lifecycle.scoring.test_views import NOW, expected, scene  # noqa: F401

pytestmark = pytest.mark.django_db


def test_create_read_patch_and_delete_a_model(cast, api_for, scene):  # noqa: F811
    api = api_for(cast.marketer)
    created = api.post(
        "/scoring-models",
        {"name": "Standard", "description": "Fit first", "definition": expected(scene)},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["name"], body["is_active"], body["version"], body["last_run"]) == (
        "Standard",
        False,
        1,
        None,
    )
    assert body["definition"] == expected(scene)
    pk = body["id"]

    detail = api.get(f"/scoring-models/{pk}").json()
    assert detail["figures"] == {
        "live": 1,
        "scored": 0,
        "stale": 0,
        "others": 0,
        "grades": {grade: 0 for grade in ("A1", "A2", "A3", "B1", "B2", "B3", "C1", "C2", "C3")},
        "profile_bins": [0] * 10,
        "engagement_bins": [0] * 10,
    }
    patched = api.patch(f"/scoring-models/{pk}", {"version": 1, "name": "Standard v2"})
    assert (patched.json()["name"], patched.json()["version"]) == ("Standard v2", 2)
    stale = assert_error_shape(api.patch(f"/scoring-models/{pk}", {"version": 1, "name": "X"}), 409)
    assert "Someone else saved this record" in stale["detail"]
    assert [m["name"] for m in api.get("/scoring-models").json()] == ["Standard v2"]

    assert api.delete(f"/scoring-models/{pk}").status_code == 204
    assert not ScoringModel.objects.exists()
    assert_error_shape(api.get(f"/scoring-models/{pk}"), 404)


def test_a_bad_definition_lists_every_mistake_with_its_dotted_field(
    cast,
    api_for,  # noqa: F811
    scene,  # noqa: F811
):
    definition = expected(scene)
    definition["grades"]["profile"] = {"A": 40, "B": 50}
    definition["behaviour"]["kinds"]["web_visit"] = {"points": 10, "cap": 5}
    definition["behaviour"]["kinds"]["teleport"] = {"points": 5}
    definition["bant"]["budget"]["huge"] = 30
    definition["fit"]["personas"].append({"persona": scene["persona"].pk, "points": 5})
    refused = assert_error_shape(
        api_for(cast.marketer).post(
            "/scoring-models", {"name": "Broken", "definition": definition}
        ),
        422,
    )
    assert fields_of(refused) == {
        "grades.profile.B",
        "behaviour.kinds.web_visit.cap",
        "behaviour.kinds.teleport",
        "bant.budget.huge",
        "fit.personas.1.persona",
    }
    messages = {e["field"]: e["message"] for e in refused["errors"]}
    assert messages["fit.personas.1.persona"] == "Listed twice."
    assert not ScoringModel.objects.exists()

    shape = assert_error_shape(
        api_for(cast.marketer).post("/scoring-models", {"name": "X", "definition": [1]}), 422
    )
    assert fields_of(shape) == {"definition"}
    gone = expected(scene)
    gone["fit"]["segments"] = [{"segment": 999999, "points": 5}]
    missing = assert_error_shape(
        api_for(cast.marketer).post("/scoring-models", {"name": "X", "definition": gone}), 422
    )
    assert missing["errors"] == [
        {"field": "fit.segments.0.segment", "message": "This segment no longer exists."}
    ]


def test_an_ae_reads_models_but_cannot_change_them(cast, api_for, scene):  # noqa: F811
    model = model_create(actor=cast.marketer, name="Standard", definition=expected(scene))
    api = api_for(cast.ae)
    assert [m["id"] for m in api.get("/scoring-models").json()] == [model.pk]
    assert api.get(f"/scoring-models/{model.pk}").status_code == 200
    for response in (
        api.post("/scoring-models", {"name": "Mine", "definition": {}}),
        api.patch(f"/scoring-models/{model.pk}", {"version": 1, "name": "Mine"}),
        api.delete(f"/scoring-models/{model.pk}"),
        api.post(f"/scoring-models/{model.pk}/activate", {}),
        api.post("/scoring-models/rescore", {}),
    ):
        body = assert_error_shape(response, 403)
        assert body["detail"] == "Only Marketing and administrators change scoring models."
    model.refresh_from_db()
    assert (model.name, model.is_active, ScoringModel.objects.count()) == ("Standard", False, 1)


def test_activate_rescores_and_the_lead_score_explains_itself(
    cast,
    api_for,  # noqa: F811
    scene,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    api = api_for(cast.marketer)
    assert_error_shape(api.post("/scoring-models/rescore", {}), 422)  # nothing active yet
    model = model_create(actor=cast.marketer, name="Standard", definition=expected(scene))
    with django_capture_on_commit_callbacks(execute=True):
        activated = api.post(f"/scoring-models/{model.pk}/activate", {})
    assert activated.status_code == 200 and activated.json()["is_active"] is True
    refused = assert_error_shape(api.delete(f"/scoring-models/{model.pk}"), 422)
    assert "The active model cannot be deleted" in refused["detail"]

    runs = api.get(f"/scoring-models/{model.pk}/runs", count="true").json()
    assert runs["count"] == 1
    run = runs["items"][0]
    assert (run["status"], run["reason"], run["leads"], run["changed"], run["percent"]) == (
        "done",
        "model",
        1,
        1,
        100,
    )
    with django_capture_on_commit_callbacks(execute=True):
        queued = api.post("/scoring-models/rescore", {})
    assert queued.status_code == 202 and queued.json()["model"] == model.pk
    assert api.get(f"/scoring-models/{model.pk}/runs").json()["items"][0]["reason"] == "manual"

    lead = scene["lead"]
    compute.rescore_leads([lead.pk], as_of=NOW)
    score = api_for(cast.ae).get(f"/leads/{lead.pk}/score").json()
    assert (score["scored"], score["profile"], score["engagement"], score["grade"]) == (
        True,
        96,
        29,
        "A3",
    )
    assert score["model"] == {"id": model.pk, "name": "Standard", "version": 1}
    profile = [c["points"] for c in score["contributions"] if c["group"] == "profile"]
    engagement = [c for c in score["contributions"] if c["group"] == "engagement"]
    assert sum(profile) == 96 and round(sum(c["points"] for c in engagement)) == 29
    visits = next(c for c in engagement if c["key"] == "kind:web_visit")
    assert [e["points"] for e in visits["interactions"]] == [5.0, 2.5, 1.2, 0.6]
    assert visits["interactions"][1]["weight"] == pytest.approx(0.5, abs=0.001)

    detail = api.get(f"/scoring-models/{model.pk}").json()
    assert (detail["figures"]["scored"], detail["figures"]["grades"]["A3"]) == (1, 1)


def test_a_lead_score_is_404_for_those_who_may_not_see_the_lead(
    cast,
    api_for,  # noqa: F811
    scene,  # noqa: F811
    team_private,
):
    lead = scene["lead"]
    assert_error_shape(api_for(cast.outsider).get(f"/leads/{lead.pk}/score"), 404)
    unscored = api_for(cast.ae2).get(f"/leads/{lead.pk}/score").json()
    assert (unscored["scored"], unscored["contributions"], unscored["model"]) == (False, [], None)
    model = model_create(actor=cast.marketer, name="Standard", definition=expected(scene))
    model_activate(model=model, actor=cast.marketer)
    compute.rescore_leads([lead.pk], as_of=NOW)
    assert_error_shape(api_for(cast.outsider).get(f"/leads/{lead.pk}/score"), 404)
    assert api_for(cast.ae2).get(f"/leads/{lead.pk}/score").json()["grade"] == "A3"


OPERATIONS = operations(r"^/api/v1/(scoring-models(/.*)?|leads/\{pk\}/score)$")


@pytest.fixture
def token(cast: Any, in_test_transaction: None, scene: Any) -> str:  # noqa: F811
    model = model_create(actor=cast.marketer, name="Standard", definition=expected(scene))
    model_activate(model=model, actor=cast.marketer)
    _token, key = api_token_create(user=cast.marketer, name="fuzz")
    return key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_scoring_api_never_answers_a_server_error(label: str, token: str) -> None:
    never_a_server_error(OPERATIONS[label], token)
