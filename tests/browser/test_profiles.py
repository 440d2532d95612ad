"""Ideal customer profiles in the browser (issue 5, seed 001: a conquest ICP differs from a
retention ICP): Marie, from Marketing, builds both with the rule builder, sees the best fits
scored, then opens an organisation and reads its fit to each profile, explained criterion by
criterion — the points adding up to the score. She also describes the people to address: a
persona matching the sales directors who make the decision."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from cible.people.models import CompetitorProduct, UserProfile
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def base(cast: Any) -> dict[str, Any]:
    CompetitorProduct.objects.create(name="Salesforce", vendor="Salesforce", category="CRM")
    CompetitorProduct.objects.create(name="HubSpot", vendor="HubSpot", category="CRM")
    org = factories.organisation
    found = {
        # Salesforce (3) but an ETI (not 2): 60 to conquer; a customer (2) with a small sales
        # team (not 1): 67 to grow.
        "nordis": org(
            cast.ae,
            legal_name="Nordis Automatisme",
            postal_code="59000",
            city="Lille",
            headcount=800,
            status="customer",
            sales_team_size=4,
            installed_products=["Salesforce"],
        ),
        "seine": org(
            cast.ae,
            legal_name="Seine Conseil",
            city="Paris",
            headcount=40,
            status="prospect",
            installed_products=["Salesforce"],
        ),
        "gones": org(cast.ae, legal_name="Gones Services", city="Lyon", headcount=3),
    }
    factories.contact(
        cast.ae,
        first_name="Nadia",
        last_name="Brunet",
        function="sales",
        seniority="director",
        buying_role="decision_maker",
        organisation=found["nordis"].pk,
    )
    factories.contact(
        cast.ae,
        first_name="Inès",
        last_name="Garnier",
        function="sales",
        seniority="director",
        buying_role="user",
        organisation=found["seine"].pk,
    )
    factories.contact(
        cast.ae,
        first_name="Hugo",
        last_name="Morel",
        function="it",
        seniority="director",
        organisation=found["nordis"].pk,
    )
    UserProfile.objects.update(language="en")
    return found


def choose_field(page: Page, builder: str, index: int, field: str) -> Locator:
    """Add a condition to the builder and choose its field; the server redraws the builder."""
    page.click(f"#{builder}-g-root-add")
    page.select_option(f"#{builder}-c-{index}-field", field)
    condition = page.locator(f"#{builder}-c-{index}")
    expect(condition.locator(f"#{builder}-c-{index}-op")).to_be_visible()
    return condition


def add_criterion(page: Page, row: int, label: str, weight: int) -> str:
    if row:
        page.click("#add-criterion")
    expect(page.locator(f"#id_c{row}-label")).to_be_visible()
    page.fill(f"#id_c{row}-label", label)
    page.fill(f"#id_c{row}-weight", str(weight))
    return f"id_c{row}-rule"


def test_build_two_profiles_and_see_a_fit_explained(
    page: Page, live_server: Any, cast: Any, base: Any
) -> None:
    login(page, live_server, "marie", PASSWORD)
    page.goto("/profiles/")
    expect(page.locator("#profiles tbody")).to_contain_text("No ideal customer profile yet.")

    # Conquest: companies on Salesforce (×3), ideally SMEs (×2).
    page.click("#profile-new")
    page.fill("#id_name", "Conquest: CRM switchers")
    expect(page.locator("#id_purpose")).to_have_value("conquest")
    builder = add_criterion(page, 0, "Salesforce installed", 3)
    condition = choose_field(page, builder, 0, "installed_products")
    condition.get_by_text("Salesforce", exact=True).click()
    builder = add_criterion(page, 1, "SME", 2)
    condition = choose_field(page, builder, 0, "size_class")
    condition.get_by_text("SME (PME, 10–249)").click()
    page.click("#save")

    expect(page.locator("#profile-name")).to_have_text("Conquest: CRM switchers")
    expect(page.locator(".alert-success")).to_contain_text("Its fit scores are up to date.")
    expect(page.locator("#criteria tbody tr")).to_have_count(2)
    expect(page.locator("#criteria tbody tr").nth(0)).to_contain_text(
        "Installed products includes “Salesforce”"
    )
    fits = page.locator("#top-fits-table tbody tr")
    expect(fits).to_have_count(3)
    expect(fits.nth(0)).to_contain_text("Seine Conseil")
    expect(fits.nth(0).locator("[data-score]")).to_have_text("100")
    expect(fits.nth(1)).to_contain_text("Nordis Automatisme")
    expect(fits.nth(1).locator("[data-score]")).to_have_text("60")
    expect(fits.nth(2).locator("[data-score]")).to_have_text("0")
    expect(page.locator("#bands tr[data-band='60'] td").nth(1)).to_have_text("1")
    expect(page.locator(".chart svg")).to_have_count(1)

    # Retention: customers (×2) with a sales team of more than 10 (×1) — another profile.
    page.goto("/profiles/new/")
    page.fill("#id_name", "Retention: grow customers")
    page.select_option("#id_purpose", "retention")
    builder = add_criterion(page, 0, "Customer", 2)
    condition = choose_field(page, builder, 0, "status")
    condition.get_by_text("Customer", exact=True).click()
    builder = add_criterion(page, 1, "Sales team over 10", 1)
    choose_field(page, builder, 0, "sales_team_size")
    with page.expect_response("**/rule-builder/"):
        page.select_option(f"#{builder}-c-0-op", "gt")
    page.fill(f"#{builder}-c-0-value", "10")
    page.click("#save")
    expect(page.locator("#profile-purpose")).to_have_text(
        "Retention and growth (existing customers)"
    )

    page.goto("/profiles/")
    expect(page.locator("#profiles tbody tr")).to_have_count(2)
    expect(
        page.locator("#profiles tr[data-profile=retention-grow-customers] [data-criteria]")
    ).to_have_text("2")

    # Nordis's page: its fit to each profile, explained; the points add up to the score.
    page.goto(f"/organisations/{base['nordis'].pk}/")
    page.click("button[data-bs-target='#tab-fit']")
    conquest = page.locator("[data-fit-profile=conquest-crm-switchers]")
    expect(conquest.locator("[data-fit-score]")).to_have_text("60")
    lines = conquest.locator("tbody tr")
    expect(lines.nth(0)).to_have_attribute("data-matched", "yes")
    expect(lines.nth(0).locator("[data-points]")).to_contain_text("+60")
    expect(lines.nth(1)).to_have_attribute("data-matched", "no")
    expect(lines.nth(1).locator("[data-points]")).to_contain_text("0")
    expect(conquest.locator("[data-total]")).to_have_text("60")
    retention = page.locator("[data-fit-profile=retention-grow-customers]")
    expect(retention.locator("[data-fit-score]")).to_have_text("67")
    expect(retention.locator("tbody tr").nth(0)).to_contain_text("Customer")
    expect(retention.locator("tbody tr").nth(0).locator("[data-points]")).to_contain_text("+67")
    expect(retention.locator("tbody tr").nth(1)).to_contain_text("Sales team over 10")
    expect(retention.locator("tbody tr").nth(1)).to_have_attribute("data-matched", "no")

    # From the profile, "Why?" gives the same explanation on a page of its own.
    page.click("[data-fit-profile=conquest-crm-switchers] h3 a")
    page.locator(f"#top-fits-table tr[data-organisation='{base['nordis'].pk}'] .why").click()
    expect(page.locator("h1")).to_have_text(
        "Fit of Nordis Automatisme to “Conquest: CRM switchers”"
    )
    expect(page.locator(".fit [data-fit-score]")).to_have_text("60")


def test_a_persona_matches_the_sales_directors_who_decide(
    page: Page, live_server: Any, cast: Any, base: Any
) -> None:
    """Function, seniority and buying role: Inès, a sales director who only uses the tools,
    is left out."""
    login(page, live_server, "marie", PASSWORD)
    page.goto("/profiles/personas/")
    page.click("#persona-new")
    page.fill("#id_name", "Sales directors")
    condition = choose_field(page, "id_rule", 0, "function")
    condition.get_by_text("Sales", exact=True).click()
    condition = choose_field(page, "id_rule", 1, "seniority")
    condition.get_by_text("Director / VP").click()
    condition = choose_field(page, "id_rule", 2, "buying_role")
    condition.get_by_text("Decision maker").click()
    page.click("#save")
    expect(page.locator("#persona-name")).to_have_text("Sales directors")
    expect(page.locator("#persona-rule")).to_have_text(
        "Function is Sales and seniority is Director / VP and buying role is Decision maker"
    )
    expect(page.locator("#persona-count")).to_have_text("1")
    expect(page.locator("#persona-contacts tbody tr")).to_contain_text("Nadia Brunet")
    page.goto("/profiles/personas/")
    expect(page.locator("#personas tr[data-persona=sales-directors] [data-count]")).to_have_text(
        "1"
    )
