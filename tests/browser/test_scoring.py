"""Rule scoring in the browser (issue 6, seed 004 §3): Marie, from Marketing, writes a scoring
model on one page — fit, BANT, behaviour and grades —, is told where a cap is too low, tries the
rules on Durand's lead before saving, activates the model, watches the run, then opens the lead's
explanation and sees the contributions add up to its scores."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cible.lifecycle.scoring.models import ScoringModel
from tests.browser.helpers import login
from tests.cast import PASSWORD
from tests.lifecycle.scoring.test_views import scene  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def points(page: Page, name: str, value: str) -> None:
    page.fill(f"input[name={name}]", value)


def test_marie_builds_tries_and_activates_a_model_then_reads_a_score(
    page: Page,
    live_server: Any,
    cast: Any,
    scene: dict[str, Any],  # noqa: F811
) -> None:
    lead = scene["lead"]
    login(page, live_server, "marie", PASSWORD)
    page.goto("/scoring/")
    expect(page.locator("#models tbody")).to_contain_text("No scoring model yet.")
    page.click("#model-new")

    page.fill("#id_name", "Standard")
    page.select_option("#id_icp", label="Conquest")
    points(page, "icp_weight", "40")
    points(page, f"persona_{scene['persona'].pk}", "20")
    axis = page.locator(f"details[data-axis='{scene['axis'].pk}']")
    axis.locator("summary").click()
    points(page, f"segment_{scene['north'].pk}", "10")
    points(page, "source_referral", "5")
    points(page, "bant_budget_approved", "15")
    points(page, "bant_timing_within_quarter", "10")
    points(page, "half_life_days", "10")
    points(page, "kind_web_visit_points", "5")
    points(page, "kind_web_visit_cap", "3")  # below one visit's points
    points(page, "kind_demo_request_points", "40")
    points(page, "kind_demo_request_cap", "40")
    page.click("#save")

    expect(page.locator("#form-errors")).to_be_visible()
    error = page.locator(".field-error[data-field=kind_web_visit_cap]")
    expect(error).to_have_text("The cap (3.0) is below the points of one interaction (5.0).")
    expect(page.locator("input[name=kind_web_visit_cap]")).to_have_class(
        "form-control-sm points form-control is-invalid"
    )
    expect(page.locator("input[name=bant_budget_approved]")).to_have_value("15")
    assert not ScoringModel.objects.exists()
    points(page, "kind_web_visit_cap", "15")

    # Try the rules, unsaved, on Durand's lead.
    page.fill("#id_try_lead_search", "Dur")
    page.locator(f".lookup-option[data-value='{lead.pk}']").click()
    page.click("#try-rules")
    expect(page.locator("#preview-profile")).to_have_text("96")
    expect(page.locator("#preview-engagement")).to_have_text("29")
    expect(page.locator("#preview-grade")).to_have_text("A3")
    expect(page.locator("#preview-parts")).to_contain_text("Matches the persona “Sales directors”")
    page.click("#save")

    expect(page.locator("#model-name")).to_have_text("Standard")
    expect(page.locator("#model-inactive")).to_be_visible()
    expect(page.locator("#rules")).to_contain_text("In the segment “Northern accounts · Lille”")
    expect(page.locator("#rules")).to_contain_text("per interaction, at most 15 in all")

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#model-activate")
    expect(page.locator(".alert-success")).to_contain_text("is now the active model")
    expect(page.locator("#model-active")).to_be_visible()
    run = page.locator("#runs-table tbody tr").first
    expect(run).to_have_attribute("data-status", "done")
    expect(run.locator("td").nth(3)).to_have_text("1")
    expect(page.locator("#grade-matrix td[data-grade=A3]")).to_have_text("1")
    expect(page.locator("#scored-summary")).to_contain_text("1 of the 1 live leads you may see")
    expect(page.locator(".chart svg")).to_have_count(2)

    # The lead's explanation: each contribution, the visits behind behaviour, adding up.
    page.goto(f"/scoring/leads/{lead.pk}/explanation/")
    box = page.locator(f"#score-explanation-{lead.pk}")
    expect(box.locator("[data-score=profile]")).to_have_text("96")
    expect(box.locator("[data-score=engagement]")).to_have_text("29")
    expect(box.locator("[data-score=grade]")).to_have_text("A3")
    profile = box.locator("[data-group=profile] tr[data-contribution] [data-points]")
    expect(profile).to_have_count(6)
    total = sum(float(p) for p in profile.evaluate_all("cells => cells.map(c => c.dataset.points)"))
    assert total == 96
    expect(box.locator("[data-group=profile] [data-total]")).to_have_text("96 points")
    visits = box.locator("tr[data-interactions='kind:web_visit'] tr[data-interaction]")
    expect(visits).to_have_count(4)
    expect(visits.nth(1)).to_contain_text("Pricing page, 10 days ago")
    expect(visits.nth(1)).to_contain_text("50 %")
    expect(box.locator("[data-scored-at]")).to_contain_text("by “Standard”")
