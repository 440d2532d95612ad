"""The scoring pages: the editor (what is typed is what is stored, each mistake next to its
input, a stale save refused), "Try on a lead", a model's page and its figures, the actions only
Marketing and administrators see, and a lead's score explained to those who may see the lead."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from cible.engagement.interactions.models import Interaction
from cible.lifecycle.leads.models import Lead
from cible.lifecycle.scoring import compute
from cible.lifecycle.scoring.models import LeadScore, RescoringRun, RunStatus, ScoringModel
from cible.lifecycle.scoring.services import model_activate, model_create, model_update
from cible.people.models import UserProfile
from cible.segments.axes import services as axes
from cible.segments.profiles.models import FitScore, IdealCustomerProfile
from cible.segments.profiles.services import persona_create
from tests import factories

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def scene(cast: Any) -> dict[str, Any]:
    """Nordis in Lille (fit 90 to "Conquest"), its sales director Durand with a live lead owned
    by Alice (AE Paris) and a history of web visits and a demo request; a persona matching
    sales directors and a "Lille" segment on a "Northern accounts" axis."""
    UserProfile.objects.update(language="en")
    lille = factories.organisation(cast.ae, legal_name="Nordis", city="Lille")
    director = factories.contact(
        cast.ae, last_name="Durand", function="sales", seniority="director", organisation=lille.pk
    )
    icp = IdealCustomerProfile.objects.create(name="Conquest", code="conquest")
    FitScore.objects.create(organisation=lille, profile=icp, score=90, matched=[])
    persona = persona_create(
        actor=cast.marketer,
        channel="ui",
        name="Sales directors",
        rule={
            "match": "all",
            "conditions": [
                {"field": "function", "op": "in", "value": ["sales"]},
                {"field": "seniority", "op": "in", "value": ["director"]},
            ],
        },
    )
    axis = axes.axis_create(actor=cast.marketer, channel="ui", data={"name": "Northern accounts"})
    north = axes.segment_create(
        actor=cast.marketer,
        channel="ui",
        axis=axis,
        data={
            "name": "Lille",
            "rule": {
                "match": "all",
                "conditions": [{"field": "city", "op": "equals", "value": "Lille"}],
            },
        },
    )
    lead = Lead.objects.create(
        contact=director,
        organisation=lille,
        owner=cast.ae,
        stage="prospect",
        source="referral",
        budget="approved",
        timing="within_quarter",
    )
    for days in (0, 10, 20, 30):
        Interaction.objects.create(
            kind="web_visit",
            contact=director,
            organisation=lille,
            occurred_at=NOW - dt.timedelta(days=days),
            subject=f"Pricing page, {days} days ago",
        )
    Interaction.objects.create(
        kind="demo_request",
        contact=director,
        organisation=lille,
        occurred_at=NOW - dt.timedelta(days=10),
        subject="Demo please",
    )
    return {"lead": lead, "icp": icp, "persona": persona, "north": north, "axis": axis}


def typed(scene: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The editor's inputs as Marie types them (blank inputs are simply not posted)."""
    data = {
        "name": "Standard",
        "description": "Fit first, then behaviour",
        "icp": str(scene["icp"].pk),
        "icp_weight": "40",
        f"persona_{scene['persona'].pk}": "20",
        f"segment_{scene['north'].pk}": "10",
        "source_referral": "5",
        "bant_budget_approved": "15",
        "bant_budget_none": "-10",
        "bant_timing_within_quarter": "10",
        "half_life_days": "10",
        "kind_web_visit_points": "5",
        "kind_web_visit_cap": "15",
        "kind_demo_request_points": "40",
        "kind_demo_request_cap": "40",
        "grade_A": "70",
        "grade_B": "40",
        "grade_1": "60",
        "grade_2": "30",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def expected(scene: dict[str, Any]) -> dict[str, Any]:
    return {
        "fit": {
            "icp": {"profile": scene["icp"].pk, "weight": 40},
            "personas": [{"persona": scene["persona"].pk, "points": 20}],
            "segments": [{"segment": scene["north"].pk, "points": 10}],
            "sources": {"referral": 5},
        },
        "bant": {"budget": {"none": -10, "approved": 15}, "timing": {"within_quarter": 10}},
        "behaviour": {
            "half_life_days": 10,
            "kinds": {
                "web_visit": {"points": 5, "cap": 15},
                "demo_request": {"points": 40, "cap": 40},
            },
        },
        "grades": {"profile": {"A": 70, "B": 40}, "engagement": {"1": 60, "2": 30}},
    }


def errors_of(html: str) -> dict[str, list[str]]:
    """The messages shown under each input, by input name."""
    found: dict[str, list[str]] = {}
    for name, message in re.findall(
        r'class="invalid-feedback d-block field-error" data-field="([^"]+)">([^<]*)<', html
    ):
        found.setdefault(name, []).append(message)
    return found


def input_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    if match is None:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


# --- the editor ---------------------------------------------------------------------------------


def test_what_marie_types_is_the_stored_definition_and_comes_back_in_the_editor(
    cast: Any, scene: dict[str, Any], client_for: Any
) -> None:
    client = client_for(cast.marketer)
    assert client.get("/scoring/new/").status_code == 200
    response = client.post("/scoring/new/", typed(scene, description="Fit, then behaviour"))
    model = ScoringModel.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/scoring/{model.pk}/"
    assert (model.name, model.description) == ("Standard", "Fit, then behaviour")
    assert model.definition == expected(scene)
    assert not model.is_active

    html = client.get(f"/scoring/{model.pk}/edit/").content.decode()
    assert input_value(html, "icp_weight") == "40"
    assert input_value(html, "bant_budget_none") == "-10"
    assert input_value(html, "kind_web_visit_cap") == "15"
    assert input_value(html, "kind_call_points") == ""
    assert input_value(html, "grade_B") == "40"
    assert f'<option value="{scene["icp"].pk}" selected>Conquest</option>' in html

    changed = typed(
        scene, version=str(model.version), kind_web_visit_points="2,5", source_referral=""
    )
    assert client.post(f"/scoring/{model.pk}/edit/", changed).status_code == 302
    model.refresh_from_db()
    assert model.definition["behaviour"]["kinds"]["web_visit"] == {"points": 2.5, "cap": 15}
    assert "sources" not in model.definition["fit"] and model.version == 2


def test_each_mistake_shows_next_to_its_input_and_nothing_is_stored(
    cast: Any, scene: dict[str, Any], client_for: Any
) -> None:
    client = client_for(cast.marketer)
    response = client.post(
        "/scoring/new/",
        typed(
            scene,
            name="",
            grade_A="40",
            grade_B="50",  # B would start above A
            kind_web_visit_points="10",
            kind_web_visit_cap="5",  # one visit would overshoot its cap
            source_website="plenty",
            bant_need_critical="150",
        ),
    )
    assert response.status_code == 422
    errors = errors_of(response.content.decode())
    assert errors["name"] == ["This field is required."]
    assert errors["grade_B"] == ["“B” must start below “A” (50.0 ≥ 40.0)."]
    assert errors["kind_web_visit_cap"] == [
        "The cap (5.0) is below the points of one interaction (10.0)."
    ]
    assert errors["source_website"] == ["Enter a number."]
    assert errors["bant_need_critical"] == ["Enter a number from -100 to 100."]
    assert set(errors) == {
        "name",
        "grade_B",
        "kind_web_visit_cap",
        "source_website",
        "bant_need_critical",
    }
    assert 'id="form-errors"' in response.content.decode()
    assert not ScoringModel.objects.exists()


def test_an_icp_weight_without_a_profile_is_refused_next_to_the_profile(
    cast: Any, scene: dict[str, Any], client_for: Any
) -> None:
    response = client_for(cast.marketer).post("/scoring/new/", typed(scene, icp=""))
    assert response.status_code == 422
    assert errors_of(response.content.decode()) == {"icp": ["Choose an ideal customer profile."]}


def test_a_stale_save_is_refused_with_a_clear_message(
    cast: Any, scene: dict[str, Any], client_for: Any
) -> None:
    model = model_create(actor=cast.marketer, name="Standard", definition=expected(scene))
    model_update(model=model, actor=cast.admin, version=1, name="Standard (Ada)")
    response = client_for(cast.marketer).post(
        f"/scoring/{model.pk}/edit/", typed(scene, version="1", name="Standard (Marie)")
    )
    html = response.content.decode()
    assert response.status_code == 422 and 'id="conflict-message"' in html
    assert "Someone else saved this record while you were editing it" in html
    model.refresh_from_db()
    assert (model.name, model.version) == ("Standard (Ada)", 2)


def test_an_ae_reads_models_but_cannot_change_them(
    cast: Any, scene: dict[str, Any], client_for: Any
) -> None:
    model = model_create(actor=cast.marketer, name="Standard", definition=expected(scene))
    client = client_for(cast.ae)
    assert client.get("/scoring/new/").status_code == 403
    assert client.post("/scoring/new/", typed(scene)).status_code == 403
    assert client.post(f"/scoring/{model.pk}/edit/", typed(scene, name="Mine")).status_code == 403
    for action in ("activate", "duplicate", "delete"):
        assert client.post(f"/scoring/{model.pk}/{action}/").status_code == 403
    assert client.post("/scoring/rescore/").status_code == 403
    assert client.post("/scoring/preview/", typed(scene)).status_code == 403
    page = client.get(f"/scoring/{model.pk}/").content.decode()
    assert "Standard" in page
    for button in ("model-edit", "model-activate", "model-duplicate", "model-delete"):
        assert f'id="{button}"' not in page
    model.refresh_from_db()
    assert (model.name, model.is_active, ScoringModel.objects.count()) == ("Standard", False, 1)
    marie = client_for(cast.marketer).get(f"/scoring/{model.pk}/").content.decode()
    for button in ("model-edit", "model-activate", "model-duplicate", "model-delete"):
        assert f'id="{button}"' in marie


# --- trying the rules on a lead -----------------------------------------------------------------


def test_try_on_a_lead_scores_the_unsaved_rules_and_writes_nothing(
    cast: Any, scene: dict[str, Any], client_for: Any
) -> None:
    lead = scene["lead"]
    client = client_for(cast.marketer)
    response = client.post("/scoring/preview/", typed(scene, try_lead=str(lead.pk)))
    html = response.content.decode()
    # 90 × 40 % + persona 20 + segment 10 + referral 5 + budget 15 + timing 10 = 96; visits
    # 5 × (1 + ½ + ¼ + ⅛) = 9.4 and the demo 40 × ½ = 20 → 29.
    assert re.search(r'id="preview-profile">96<', html)
    assert re.search(r'id="preview-engagement">29<', html)
    assert re.search(r'id="preview-grade">A3<', html)
    assert "Fit to the ideal customer profile “Conquest”" in html
    assert "Budget: Budget approved" in html and "not scored yet" in html
    assert re.search(r'data-part="kind:web_visit">.*?\+9\.4<', html, re.S)
    lead.refresh_from_db()
    assert (lead.profile_score, lead.grade, LeadScore.objects.count()) == (None, "", 0)
    assert not ScoringModel.objects.exists()

    wrong = client.post("/scoring/preview/", typed(scene, try_lead=str(lead.pk), grade_B="90"))
    assert "“B” must start below “A”" in wrong.content.decode()
    nobody = client.post("/scoring/preview/", typed(scene)).content.decode()
    assert "Choose a lead to try the rules on." in nobody
    Lead.objects.filter(pk=lead.pk).update(stage="customer")
    over = client.post("/scoring/preview/", typed(scene, try_lead=str(lead.pk)))
    assert "only live leads are scored" in over.content.decode()


def test_the_lead_lookup_offers_live_leads_by_name(
    cast: Any, scene: dict[str, Any], client_for: Any
) -> None:
    html = client_for(cast.marketer).get("/scoring/leads/lookup/", {"q": "dur"}).content.decode()
    assert f'data-value="{scene["lead"].pk}"' in html and "Durand" in html
    none = client_for(cast.marketer).get("/scoring/leads/lookup/", {"q": "zzz"}).content.decode()
    assert "No match." in none


# --- a model's page -----------------------------------------------------------------------------


def _active(cast: Any, scene: dict[str, Any]) -> ScoringModel:
    model = model_create(actor=cast.marketer, name="Standard", definition=expected(scene))
    model_activate(model=model, actor=cast.marketer)
    model.refresh_from_db()
    compute.rescore_leads([scene["lead"].pk], as_of=NOW)
    return model


def test_the_model_page_shows_its_rules_figures_and_stale_scores(
    cast: Any, scene: dict[str, Any], client_for: Any
) -> None:
    model = _active(cast, scene)
    compute.rescore_all(model=model, reason="manual", actor=cast.marketer, as_of=NOW)
    client = client_for(cast.marketer)
    html = client.get(f"/scoring/{model.pk}/").content.decode()
    assert "Matches the persona “Sales directors”" in html
    assert "In the segment “Northern accounts · Lille”" in html
    assert "per interaction, at most 15 in all" in html
    assert "Points halve every 10 days after the interaction." in html
    assert re.search(r'data-grade="A3"[^>]*>1<', html) and re.search(
        r'data-grade="A1"[^>]*>0<', html
    )
    assert "1 of the 1 live leads you may see carry this model" in html
    assert 'id="stale-notice"' not in html
    assert re.search(r'data-run="\d+" data-status="done"', html)

    model_update(model=model, actor=cast.marketer, version=model.version, definition={})
    html = client.get(f"/scoring/{model.pk}/").content.decode()
    assert "1 lead still carries the scores of an older version of these rules." in html


def test_the_list_and_the_model_page_take_a_fixed_number_of_queries(
    cast: Any, scene: dict[str, Any], client_for: Any, django_assert_max_num_queries: Any
) -> None:
    model = _active(cast, scene)
    compute.rescore_all(model=model, as_of=NOW)
    client = client_for(cast.marketer)
    with django_assert_max_num_queries(20) as first:
        assert client.get("/scoring/").status_code == 200
    with django_assert_max_num_queries(30) as detail:
        assert client.get(f"/scoring/{model.pk}/").status_code == 200
    for n in range(5):
        other = model_create(actor=cast.marketer, name=f"Trial {n}", definition=expected(scene))
        RescoringRun.objects.create(model=other, model_version=1, reason="manual")
        RescoringRun.objects.create(model=model, model_version=1, reason="decay")
        contact = factories.contact(cast.ae, last_name=f"Client {n}")
        Lead.objects.create(contact=contact, stage="prospect", source="website")
    compute.rescore_all(model=model, as_of=NOW)
    with django_assert_max_num_queries(len(first.captured_queries)):
        html = client.get("/scoring/").content.decode()
    assert html.index("Standard") < html.index("Trial 0")  # the active model first
    with django_assert_max_num_queries(len(detail.captured_queries)):
        html = client.get(f"/scoring/{model.pk}/").content.decode()
    assert "6 of the 6 live leads you may see carry this model" in html


def test_runs_are_polled_while_one_runs(cast: Any, scene: dict[str, Any], client_for: Any) -> None:
    model = _active(cast, scene)
    run = RescoringRun.objects.create(
        model=model, model_version=model.version, reason="model", steps_total=4, steps_done=1
    )
    client = client_for(cast.marketer)
    polled = client.get(f"/scoring/{model.pk}/runs/?poll=1", headers={"HX-Request": "true"})
    html = polled.content.decode()
    assert 'hx-trigger="every 2s"' in html and 'aria-valuenow="25"' in html
    RescoringRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE)
    done = client.get(f"/scoring/{model.pk}/runs/?poll=1", headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_activate_duplicate_and_delete(
    cast: Any, scene: dict[str, Any], client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(cast.marketer)
    first = model_create(actor=cast.marketer, name="Standard", definition=expected(scene))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/scoring/{first.pk}/activate/")
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.is_active
    lead = scene["lead"]
    lead.refresh_from_db()
    assert lead.grade == "A3"  # the activation rescored the base
    assert first.runs.get().status == RunStatus.DONE

    copy_response = client.post(f"/scoring/{first.pk}/duplicate/")
    copy = ScoringModel.objects.exclude(pk=first.pk).get()
    assert copy_response["Location"] == f"/scoring/{copy.pk}/edit/"
    assert (copy.name, copy.definition, copy.is_active) == (
        "Standard (copy)",
        first.definition,
        False,
    )

    refused = client.post(f"/scoring/{first.pk}/delete/", follow=True).content.decode()
    assert "The active model cannot be deleted" in refused
    assert client.post(f"/scoring/{copy.pk}/delete/").status_code == 302
    assert list(ScoringModel.objects.values_list("name", flat=True)) == ["Standard"]


# --- a lead's score explained -------------------------------------------------------------------


def test_the_explanation_adds_up_and_names_its_interactions(
    cast: Any, scene: dict[str, Any], client_for: Any
) -> None:
    _active(cast, scene)
    lead = scene["lead"]
    response = client_for(cast.ae2).get(
        f"/scoring/leads/{lead.pk}/explanation/", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert re.search(r'data-score="profile">96<', html)
    assert re.search(r'data-score="grade">A3<', html)
    points = [float(p) for p in re.findall(r'data-points="([-\d.]+)"', html)]
    assert sum(points[:6]) == 96 and round(sum(points[6:])) == 29
    assert "Pricing page, 10 days ago" in html and "50 %" in html
    assert "scored as of" in html and 'data-state="stale"' not in html
    page = client_for(cast.ae2).get(f"/scoring/leads/{lead.pk}/explanation/").content.decode()
    assert "<html" in page and "Why Durand has this score" in page


def test_the_explanation_says_what_the_cap_cut_and_when_the_rules_changed(
    cast: Any, scene: dict[str, Any], client_for: Any
) -> None:
    definition = expected(scene)
    definition["behaviour"]["kinds"]["web_visit"] = {"points": 5, "cap": 8}
    model = model_create(actor=cast.marketer, name="Tight", definition=definition)
    model_activate(model=model, actor=cast.marketer)
    compute.rescore_leads([scene["lead"].pk], as_of=NOW)
    url = f"/scoring/leads/{scene['lead'].pk}/explanation/"
    client = client_for(cast.marketer)
    html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    # Visits: 9.4 points, capped at 8; with the demo, 28.
    assert re.search(r'data-contribution="kind:web_visit">.*?data-points="8.0"', html, re.S)
    assert "The cap cut 1.4 points." in html
    assert re.search(r'data-score="engagement">28<', html)
    model.refresh_from_db()
    model_update(model=model, actor=cast.marketer, version=model.version, definition={})
    html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'data-state="stale"' in html and "a rescore is on its way" in html


def test_an_outsider_gets_404_on_a_team_private_leads_explanation(
    cast: Any, scene: dict[str, Any], client_for: Any, team_private: Any
) -> None:
    _active(cast, scene)
    url = f"/scoring/leads/{scene['lead'].pk}/explanation/"
    assert client_for(cast.outsider).get(url).status_code == 404
    assert client_for(cast.ae2).get(url).status_code == 200  # Alice's teammate
    assert client_for(cast.outsider).get("/scoring/leads/999999/explanation/").status_code == 404


def test_an_unscored_lead_says_so(cast: Any, scene: dict[str, Any], client_for: Any) -> None:
    url = f"/scoring/leads/{scene['lead'].pk}/explanation/"
    html = client_for(cast.ae).get(url, headers={"HX-Request": "true"}).content.decode()
    assert "This lead has not been scored yet." in html
