"""Issue 6, "done when", in one go: Marie builds a campaign and a web form, a visitor fills it in
from an ad, the lead the form opened is scored within the second — its explanation naming the
webinar — crosses the agreed MQL threshold and moves stage by itself; Marie then trains a
predictive model and reads its measured quality beside the rule model's."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from cible.engagement.capture import guard
from cible.engagement.capture.models import WebForm
from cible.lifecycle.leads.definitions import approve_definition, write_definition
from cible.lifecycle.leads.models import Lead, StageTransition
from cible.lifecycle.predictive.models import PredictiveModel
from cible.lifecycle.scoring.services import model_activate, model_create
from cible.people.services import profile_set_language
from tests.browser.helpers import login
from tests.cast import PASSWORD
from tests.lifecycle.predictive.test_views import history, three

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agreed_rules(cast: Any) -> None:
    """An active scoring model (a webinar is worth 40 points) and an MQL definition both sides
    agreed: "engagement 30 or more"."""
    model = model_create(
        actor=cast.marketer,
        name="Inbound",
        definition={
            "behaviour": {
                "half_life_days": 30,
                "kinds": {"webinar": {"points": 40, "cap": 60}, "web_visit": {"points": 2}},
            }
        },
    )
    model_activate(model=model, actor=cast.marketer)
    mql = write_definition(
        stage="mql",
        text="A lead who has engaged enough with us: at least 30 engagement points.",
        criteria={"min_engagement_score": 30},
        actor=cast.marketer,
    )
    approve_definition(definition=mql, actor=cast.marketer, side="marketing")
    approve_definition(definition=mql, actor=cast.manager, side="sales")


def test_from_a_campaign_and_a_form_to_a_scored_mql_and_two_models_compared(
    page: Page, browser: Browser, live_server: Any, cast: Any, agreed_rules: None, monkeypatch: Any
) -> None:
    monkeypatch.setattr(guard, "MIN_FILL_SECONDS", 1)
    profile_set_language(user=cast.marketer, language="en")
    login(page, live_server, "marie", PASSWORD)

    # The campaign, then the form that registers people for it.
    page.goto("/campaigns/")
    page.click("text=New")
    page.fill("#id_name", "Webinar CRM 2026")
    page.select_option("#id_type", "webinar")
    page.fill("#id_utm_campaign", "crm-2026")
    with page.expect_navigation():
        page.click("#save")
    page.goto("/forms/")
    with page.expect_navigation():
        page.click("#new-form")
    page.fill("#id_name", "Webinar registration")
    page.select_option("#id_interaction_kind", "webinar")
    page.select_option("#id_campaign", label="Webinar CRM 2026")
    page.fill("#id_title_en", "Register for the webinar")
    page.fill("#id_consent_text_en", "I agree to receive emails about this webinar.")
    page.fill("#id_consent_text_fr", "J'accepte de recevoir des e-mails sur ce webinaire.")
    with page.expect_navigation():
        page.click("#save")
    form = WebForm.objects.get()

    # A visitor, logged out, registers from an ad.
    visitor = browser.new_context(locale="en-GB", base_url=live_server.url)
    public = visitor.new_page()
    public.goto(f"/f/{form.key}/?lang=en&utm_source=linkedin&utm_campaign=crm-2026")
    public.fill("[name=email]", "paul.martin@globex.fr")
    public.fill("[name=first_name]", "Paul")
    public.fill("[name=last_name]", "Martin")
    public.check("[name=consent]")
    public.wait_for_timeout(1100)
    with public.expect_navigation():
        public.click("button[type=submit]")
    expect(public.locator("#thanks")).to_be_visible()
    visitor.close()

    # The lead was opened, scored (40 points of engagement) and moved to MQL by the definition.
    lead = Lead.objects.get(contact__email="paul.martin@globex.fr")
    assert (lead.stage, lead.engagement_score, lead.grade) == ("mql", 40, "C2")
    moves = list(StageTransition.objects.filter(lead=lead).order_by("occurred_at", "pk"))
    assert [(m.from_stage, m.to_stage, m.channel) for m in moves] == [
        ("", "prospect", "job"),
        ("prospect", "mql", "rule"),
    ]
    assert moves[-1].engagement_score == 40
    page.goto(f"/leads/{lead.pk}/")
    expect(page.locator("#lead-stage")).to_have_text("Marketing qualified lead (MQL)")
    explanation = page.locator(f"#score-explanation-{lead.pk}")
    expect(explanation.locator("[data-score=engagement]")).to_have_text("40")
    expect(explanation.locator("tr[data-contribution='kind:webinar']")).to_contain_text("Webinar")
    expect(explanation.locator("tr[data-contribution='kind:webinar'] [data-points]")).to_have_text(
        "+40"
    )
    expect(page.locator("#transitions")).to_contain_text("Stage definition")

    # Marie compares the rule model with a predictive one trained on the base's history.
    history(1000)
    page.goto("/predictive/")
    page.click("#train-now")
    model = PredictiveModel.objects.get()
    row = page.locator(f"tr[data-model='{model.pk}']")
    expect(row).to_have_attribute("data-status", "ready")
    row.locator("a").click()
    model.refresh_from_db()
    expect(page.locator("#auc")).to_have_text(three(model.auc))
    expect(page.locator("#rule-auc")).to_have_text(three(model.report["rule"]["auc"]))
    expect(page.locator("#lift-chart svg")).to_contain_text("Rule model")
