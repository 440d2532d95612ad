"""The predictive pages: the models trained and the "Train a model" form (fields to leave out,
leaks to use anyway, known-after-contact fields already out), a model's report with real figures
beside the rule model's, who may train and choose a model, and a lead's probability explained to
those who may see the lead — never as 0 % or 100 %."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.utils import timezone

from cible.lifecycle.leads.models import Lead
from cible.lifecycle.predictive import services, training
from cible.lifecycle.predictive.models import PredictiveModel, TrainingStatus
from cible.lifecycle.predictive.selectors import shown_probability
from cible.people.models import UserProfile
from tests import factories

pytestmark = pytest.mark.django_db

START = timezone.now() - dt.timedelta(days=400)


def history(count: int, *, seed: int = 3, rule: bool = True) -> None:
    """Leads with an outcome: webinar attendees and frequent visitors convert far more often.
    A "Sales verdict" typed after the call gives the outcome away (a leak the training flags);
    "Lead Quality" is declared known after contact by the X Education preset; the rule model
    had scored every lead (unless not `rule`), less sharply than the truth."""
    rng = random.Random(seed)
    leads = []
    for n in range(count):
        webinar = rng.random() < 0.4
        visits = rng.randint(0, 30)
        won = rng.random() < 0.08 + 0.5 * webinar + 0.012 * visits
        leads.append(
            Lead(
                stage="customer" if won else "disqualified",
                arrived_at=START + dt.timedelta(hours=n),
                profile_score=rng.randint(0, 60) + (20 if webinar else 0) if rule else None,
                engagement_score=min(100, visits * 2 + rng.randint(0, 30)) if rule else None,
                properties={
                    "Channel": "webinar" if webinar else "search",
                    "Visits": visits,
                    "Sales verdict": "hot" if won else "cold",
                    "Lead Quality": "good" if rng.random() < 0.5 else "bad",
                },
            )
        )
    Lead.objects.bulk_create(leads)


def train(actor: Any, capture: Any, **config: Any) -> PredictiveModel:
    """Train through the service, its queued task run at commit (tasks run inline in tests)."""
    with capture(execute=True):
        model = services.train_now(actor=actor, channel="ui", config=config or None)
    model.refresh_from_db()
    return model


@pytest.fixture
def english_profiles(cast: Any) -> None:
    """Every member of the cast reads the pages in English (labels are asserted)."""
    UserProfile.objects.update(language="en")


@pytest.fixture
def trained(
    cast: Any, english_profiles: None, django_capture_on_commit_callbacks: Any
) -> PredictiveModel:
    history(1000)
    return train(cast.marketer, django_capture_on_commit_callbacks)


@pytest.fixture
def jeanne(cast: Any) -> Lead:
    """A live lead of Jeanne Dupont's, owned by Alice (AE Paris): a webinar attendee."""
    contact = factories.contact(cast.ae, first_name="Jeanne", last_name="Dupont")
    return Lead.objects.create(
        contact=contact,
        owner=cast.ae,
        stage="mql",
        properties={"Channel": "webinar", "Visits": 25, "Sales verdict": "hot"},
    )


def three(value: float) -> str:
    """A figure as the page shows it (Django rounds half up)."""
    return str(Decimal(str(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def text_of(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match is not None, element_id
    return match.group(1).strip()


# --- the list and the form ----------------------------------------------------------------------


def test_marie_trains_a_model_from_the_form_and_sees_it_listed_with_both_aucs(
    cast: Any, english_profiles: None, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    history(1000)
    client = client_for(cast.marketer)
    html = client.get("/predictive/").content.decode()
    assert 'id="train-form"' in html and "No predictive model trained yet." in html
    # Before any training, the fields come from the leads; "Lead Quality" is already out.
    assert 'value="Channel"' in html and 'data-declared="Lead Quality"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/predictive/train/",
            {
                "target": "customer",
                "exclude": ["Source"],
                "order_by": "arrived_at",
                "validation_share": "0.25",
            },
        )
    assert response.status_code == 302 and response["Location"] == "/predictive/"
    model = PredictiveModel.objects.get()
    assert model.status == TrainingStatus.READY and model.trained_by == cast.marketer
    assert model.config == {
        "exclude": ["Source"],
        "include": [],
        "order_by": "arrived_at",
        "validation_share": 0.25,
    }
    assert model.report["validation"]["leads"] == 250
    assert model.report["declared_after_contact"] == ["Lead Quality"]

    html = client.get("/predictive/").content.decode()
    row = re.search(rf'<tr data-model="{model.pk}".*?</tr>', html, re.S)
    assert row is not None
    assert three(model.auc) in row.group(0)
    assert three(model.report["rule"]["auc"]) in row.group(0)
    assert "by Marie Petit" in row.group(0)
    assert 'data-training="no"' in html and 'hx-get="/predictive/models/"' not in html
    # The form starts again from these settings: "Source" is offered, and still left out.
    assert re.search(r'name="exclude" value="Source"[^>]*checked', html)
    assert re.search(r'<option value="0.25" selected>25 %</option>', html)


def test_the_form_offers_the_last_reports_fields_and_its_leaks_to_use_anyway(
    cast: Any, trained: PredictiveModel, client_for: Any
) -> None:
    html = client_for(cast.marketer).get("/predictive/").content.decode()
    assert f"The fields model #{trained.pk} learnt from." in html
    leak = re.search(r'<tr data-leak="Sales verdict">.*?</tr>', html, re.S)
    assert leak is not None
    assert "1.000" in leak.group(0) and 'name="include" value="Sales verdict"' in leak.group(0)
    assert 'name="exclude" value="Sales verdict"' not in html  # a leak is out unless included
    assert 'name="exclude" value="Visits"' in html
    assert '<option value="property:Visits">Visits</option>' in html


def test_bad_settings_are_refused_next_to_their_input_and_nothing_is_trained(
    cast: Any, trained: PredictiveModel, client_for: Any
) -> None:
    response = client_for(cast.marketer).post(
        "/predictive/train/",
        {"target": "revenue", "order_by": "property:Colour", "validation_share": "0.9"},
    )
    assert response.status_code == 422
    fields = set(re.findall(r'field-error" data-field="([^"]+)"', response.content.decode()))
    assert fields == {"target", "order_by", "validation_share"}
    assert PredictiveModel.objects.count() == 1


def test_the_list_polls_while_a_model_trains_and_stops_once_it_is_done(
    cast: Any, trained: PredictiveModel, client_for: Any
) -> None:
    running = PredictiveModel.objects.create(target="customer", trained_by=cast.manager)
    client = client_for(cast.manager)
    html = client.get("/predictive/").content.decode()
    assert 'data-training="yes"' in html and 'hx-get="/predictive/models/"' in html
    assert re.search(rf'<tr data-model="{running.pk}" data-status="training">', html)
    PredictiveModel.objects.filter(pk=running.pk).update(status=TrainingStatus.FAILED)
    table = client.get("/predictive/models/", HTTP_HX_REQUEST="true").content.decode()
    assert 'data-training="no"' in table and "hx-get" not in table
    assert f'<tr data-model="{running.pk}" data-status="failed">' in table


def test_the_list_takes_the_same_queries_for_two_models_or_twenty(
    cast: Any,
    trained: PredictiveModel,
    client_for: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(cast.marketer)
    # Each page includes the navbar's bell: 2 queries (unread count, latest).
    with django_assert_max_num_queries(8):
        assert client.get("/predictive/").status_code == 200
    for _n in range(19):
        PredictiveModel.objects.create(
            target="customer", status="ready", report=trained.report, trained_by=cast.admin
        )
    with django_assert_max_num_queries(8):
        html = client.get("/predictive/").content.decode()
    assert html.count("<tr data-model=") == 20


# --- a model's report ---------------------------------------------------------------------------


def test_the_report_shows_the_auc_beside_the_rule_models_factors_and_the_leak(
    cast: Any, trained: PredictiveModel, client_for: Any
) -> None:
    report = trained.report
    html = client_for(cast.ae).get(f"/predictive/{trained.pk}/").content.decode()
    assert text_of(html, "auc") == three(report["validation"]["auc"])
    assert text_of(html, "rule-auc") == three(report["rule"]["auc"])
    assert 0.7 < report["validation"]["auc"] < 0.95
    assert report["rule"]["auc"] < report["validation"]["auc"]
    assert "among the 200 newest leads" in html
    factors = re.findall(r'<tr data-factor="([^"]+)">', html)
    assert factors == [f["field"] for f in report["factors"]] and "Channel" in factors
    first = re.search(r'<tr data-factor="[^"]+">.*?</tr>', html, re.S)
    assert first is not None
    assert re.search(rf'<td class="text-end">{report["factors"][0]["leads"]}</td>', first.group(0))
    strongest = report["factors"][0]
    assert f"×{training.np.exp(strongest['weight']):.2f}" in html
    leak = re.search(r'<li data-leak="Sales verdict">(.*?)</li>', html, re.S)
    assert leak is not None and "ROC AUC of 1.000" in leak.group(1)
    assert '<li data-declared="Lead Quality">Lead Quality</li>' in html
    converted = re.search(r'data-count="converted">([^<]+)<', html)
    assert converted is not None and converted.group(1) == str(report["converted"])
    assert "calibration-data" in html and "lift-data" in html
    # An AE reads the report but may not choose the model.
    assert 'id="model-activate"' not in html


def test_without_rule_scores_the_report_says_there_is_nothing_to_compare_with(
    cast: Any,
    english_profiles: None,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    history(600, rule=False)
    model = train(cast.marketer, django_capture_on_commit_callbacks)
    assert model.report["rule"] is None
    html = client_for(cast.marketer).get(f"/predictive/{model.pk}/").content.decode()
    assert text_of(html, "rule-auc") == "—"
    assert "The rule model had not scored these leads, so there is nothing to compare with." in html
    assert text_of(html, "auc") == three(model.auc)


def test_a_model_without_enough_history_shows_its_message_and_nothing_else(
    cast: Any, english_profiles: None, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    history(60)
    model = train(cast.marketer, django_capture_on_commit_callbacks)
    assert model.status == TrainingStatus.INSUFFICIENT
    html = client_for(cast.marketer).get(f"/predictive/{model.pk}/").content.decode()
    assert 'id="model-message"' in html and model.message in html
    assert model.message.startswith("Not enough history to learn from: ")
    assert 'id="figures"' not in html and 'id="model-activate"' not in html


def test_a_failed_model_shows_its_error(cast: Any, english_profiles: None, client_for: Any) -> None:
    model = PredictiveModel.objects.create(
        target="customer", status="failed", message="Singular matrix"
    )
    html = client_for(cast.marketer).get(f"/predictive/{model.pk}/").content.decode()
    assert "The training failed:" in html and "<code>Singular matrix</code>" in html
    assert 'id="figures"' not in html


def test_a_training_model_page_polls_then_reloads_when_it_is_done(
    cast: Any, english_profiles: None, client_for: Any
) -> None:
    model = PredictiveModel.objects.create(target="customer")
    client = client_for(cast.marketer)
    html = client.get(f"/predictive/{model.pk}/").content.decode()
    assert f'hx-get="/predictive/{model.pk}/status/"' in html
    assert client.get(f"/predictive/{model.pk}/status/").status_code == 200
    PredictiveModel.objects.filter(pk=model.pk).update(status="ready")
    done = client.get(f"/predictive/{model.pk}/status/")
    assert done["HX-Refresh"] == "true"


def test_only_marketing_managers_and_admins_train_and_choose_a_model(
    cast: Any, trained: PredictiveModel, client_for: Any
) -> None:
    ae = client_for(cast.ae)
    assert 'id="train-form"' not in ae.get("/predictive/").content.decode()
    assert ae.post("/predictive/train/", {"target": "customer"}).status_code == 403
    assert ae.post(f"/predictive/{trained.pk}/activate/").status_code == 403
    assert PredictiveModel.objects.count() == 1 and not trained.is_active

    manager = client_for(cast.manager)
    html = manager.get(f"/predictive/{trained.pk}/").content.decode()
    assert "Use this model for the leads' probabilities" in html
    response = manager.post(f"/predictive/{trained.pk}/activate/")
    assert response["Location"] == f"/predictive/{trained.pk}/"
    trained.refresh_from_db()
    assert trained.is_active
    html = manager.get(f"/predictive/{trained.pk}/").content.decode()
    assert 'id="model-active"' in html and 'id="model-activate"' not in html


def test_a_model_that_did_not_finish_cannot_be_chosen(
    cast: Any, english_profiles: None, client_for: Any
) -> None:
    model = PredictiveModel.objects.create(target="customer", status="insufficient")
    response = client_for(cast.admin).post(f"/predictive/{model.pk}/activate/", follow=True)
    assert "Only a model that finished training can be used." in response.content.decode()
    model.refresh_from_db()
    assert not model.is_active


# --- a lead's prediction ------------------------------------------------------------------------


def test_a_leads_probability_is_explained_by_the_factors_pushing_it_up_and_down(
    cast: Any, trained: PredictiveModel, jeanne: Lead, client_for: Any
) -> None:
    services.activate(model=trained, actor=cast.marketer, channel="ui")
    jeanne.refresh_from_db()
    html = client_for(cast.ae).get(f"/predictive/leads/{jeanne.pk}/", HTTP_HX_REQUEST="true")
    html = html.content.decode()
    assert 'data-state="scored"' in html and "<html" not in html
    shown = re.search(r"data-probability>([^<]+)<", html)
    assert shown is not None and shown.group(1) == shown_probability(jeanne.predicted_probability)
    up = re.search(r'data-factors="up">(.*?)</table>', html, re.S)
    assert up is not None and 'data-factor="Channel"' in up.group(1)  # a webinar attendee
    assert "starting point of the model" in html


def test_the_edges_read_below_one_and_above_ninety_nine_percent(
    cast: Any, trained: PredictiveModel, jeanne: Lead, client_for: Any
) -> None:
    """A model pushed to certainty (its intercept moved far out) still never shows 0 or 100 %."""
    client = client_for(cast.ae)
    for intercept, shown in ((12.0, "&gt; 99 %"), (-12.0, "&lt; 1 %")):
        parameters = {**trained.parameters, "intercept": intercept}
        PredictiveModel.objects.filter(pk=trained.pk).update(parameters=parameters)
        trained.refresh_from_db()
        services.activate(model=trained, actor=cast.marketer, channel="ui")
        html = client.get(f"/predictive/leads/{jeanne.pk}/").content.decode()
        assert f"data-probability>{shown}<" in html
        jeanne.refresh_from_db()
        assert 0 < jeanne.predicted_probability < 1
    assert [shown_probability(p) for p in (0.001, 0.0099, 0.01, 0.4449, 0.99, 0.9901, 0.999)] == [
        "< 1 %",
        "< 1 %",
        "1 %",
        "44 %",
        "99 %",
        "> 99 %",
        "> 99 %",
    ]


def test_no_model_not_enough_history_and_over_say_so(
    cast: Any,
    english_profiles: None,
    jeanne: Lead,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(cast.ae)
    html = client.get(f"/predictive/leads/{jeanne.pk}/").content.decode()
    assert 'data-state="no_model"' in html and "No predictive model is in use yet" in html
    history(60)
    train(cast.marketer, django_capture_on_commit_callbacks)
    html = client.get(f"/predictive/leads/{jeanne.pk}/").content.decode()
    assert 'data-state="insufficient"' in html and "Not enough history to learn from" in html
    Lead.objects.filter(pk=jeanne.pk).update(stage="disqualified")
    html = client.get(f"/predictive/leads/{jeanne.pk}/").content.decode()
    assert "This lead is over (Disqualified): it has an outcome, not a probability." in html


def test_an_outsider_does_not_see_a_team_private_leads_prediction(
    cast: Any, team_private: Any, trained: PredictiveModel, jeanne: Lead, client_for: Any
) -> None:
    services.activate(model=trained, actor=cast.marketer, channel="ui")
    assert client_for(cast.outsider).get(f"/predictive/leads/{jeanne.pk}/").status_code == 404
    assert client_for(cast.ae2).get(f"/predictive/leads/{jeanne.pk}/").status_code == 200
    assert client_for(cast.outsider).get("/predictive/leads/999999/").status_code == 404
