"""Predictive scoring in the browser (issue 6 item 7): Marie, from Marketing, trains a model on a
thousand past leads, opens its report and sees its ROC AUC beside the rule model's on the same
newest leads, the calibration and lift charts drawn, and the "Sales verdict" typed after the call
set aside as a probable leak; she chooses the model, then opens Jeanne's lead prediction."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cible.lifecycle.leads.models import Lead
from cible.lifecycle.predictive.models import PredictiveModel
from cible.lifecycle.predictive.selectors import shown_probability
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD
from tests.lifecycle.predictive.test_views import history, three

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_marie_trains_reads_the_report_chooses_the_model_and_opens_a_prediction(
    page: Page, live_server: Any, cast: Any
) -> None:
    history(1000)
    contact = factories.contact(cast.ae, first_name="Jeanne", last_name="Dupont")
    jeanne = Lead.objects.create(
        contact=contact,
        owner=cast.ae,
        stage="mql",
        properties={"Channel": "webinar", "Visits": 25, "Sales verdict": "hot"},
    )
    login(page, live_server, "marie", PASSWORD)
    page.goto("/predictive/")
    expect(page.locator("#models tbody")).to_contain_text("No predictive model trained yet.")
    expect(page.locator("[data-declared='Lead Quality'] input")).to_be_checked()
    expect(page.locator("[data-declared='Lead Quality'] input")).to_be_disabled()
    page.check("input[name=exclude][value='Source']")
    page.click("#train-now")

    model = PredictiveModel.objects.get()
    row = page.locator(f"tr[data-model='{model.pk}']")
    expect(row).to_have_attribute("data-status", "ready")
    model.refresh_from_db()
    expect(row.locator("[data-auc]")).to_have_text(three(model.auc))
    row.locator("a").click()

    expect(page.locator("#model-name")).to_have_text(f"Predictive model #{model.pk}")
    expect(page.locator("#auc")).to_have_text(three(model.auc))
    expect(page.locator("#rule-auc")).to_have_text(three(model.report["rule"]["auc"]))
    expect(page.locator("#figures")).to_contain_text("among the 200 newest leads")
    expect(page.locator("#calibration-chart svg")).to_be_visible()
    expect(page.locator("#lift-chart svg")).to_contain_text("Rule model")
    expect(page.locator("#leaks [data-leak='Sales verdict']")).to_contain_text("ROC AUC of 1.000")
    expect(page.locator("#declared")).to_have_text("Lead Quality")
    expect(page.locator("#factors tbody tr").first).to_be_visible()
    expect(page.locator("#factors")).to_contain_text("Channel")

    page.click("#model-activate")
    expect(page.locator("#model-active")).to_be_visible()
    expect(page.locator(".alert-success")).to_contain_text(
        f"Model #{model.pk} now gives the leads their probabilities"
    )
    jeanne.refresh_from_db()
    assert jeanne.predicted_probability is not None

    page.goto(f"/predictive/leads/{jeanne.pk}/")
    card = page.locator(f"#lead-prediction-{jeanne.pk}")
    expect(card).to_have_attribute("data-state", "scored")
    expect(card.locator("[data-probability]")).to_have_text(
        shown_probability(jeanne.predicted_probability)
    )
    expect(card.locator("[data-factors=up] [data-factor='Channel']")).to_be_visible()
