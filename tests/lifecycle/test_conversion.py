"""A qualified lead becomes a deal; the deal's closing moves the lead on."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.lifecycle.leads import services
from cible.lifecycle.leads.models import Lead
from cible.pipeline.conversion import convert_lead
from cible.pipeline.models import Opportunity
from cible.pipeline.services import opportunity_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def sql_lead(cast, lead):
    return services.move(lead=lead, to_stage="sql", actor=cast.ae, channel="ui")


def test_converting_a_sql_creates_the_deal_and_moves_the_lead(cast, dupont, acme, sql_lead):
    deal = convert_lead(
        lead=sql_lead,
        actor=cast.ae,
        name="Acme — CRM",
        one_time_amount="12 000",
        recurring_amount="900",
        expected_close_date="2027-03-31",
    )
    deal.refresh_from_db()
    assert (deal.name, deal.organisation, deal.owner, deal.lead) == (
        "Acme — CRM",
        acme,
        cast.ae,
        sql_lead,
    )
    assert deal.one_time_amount == Decimal("12000")
    sql_lead.refresh_from_db()
    assert sql_lead.stage == "opportunity"
    assert sql_lead.transitions.order_by("-id").first().from_stage == "sql"
    dupont.refresh_from_db()
    assert dupont.lifecycle_stage == "opportunity"


def test_only_a_qualified_lead_converts(cast, lead):
    with pytest.raises(ValidationFailed) as caught:
        convert_lead(lead=lead, actor=cast.ae, name="Too early")
    assert "this one is at Prospect" in str(caught.value)
    assert not Opportunity.objects.exists()


def test_a_sal_converts_only_when_the_agreed_sql_definition_holds(cast, lead, agreed):
    services.move(lead=lead, to_stage="sal", actor=cast.ae, channel="ui")
    with pytest.raises(ValidationFailed) as caught:
        convert_lead(lead=lead, actor=cast.ae, name="Early")
    assert "The agreed definition of Sales qualified lead (SQL) (version 1) is not met" in str(
        caught.value
    )
    assert not Opportunity.objects.exists()
    Lead.objects.filter(pk=lead.pk).update(
        budget="planned", authority="influencer", need="identified", timing="within_half"
    )
    lead.refresh_from_db()
    convert_lead(lead=lead, actor=cast.ae, name="Ready")
    step = lead.transitions.order_by("-id").first()
    assert (step.from_stage, step.to_stage, step.definition) == (
        "sal",
        "opportunity",
        agreed["sql"],
    )


def test_a_failed_deal_creation_leaves_the_lead_as_it_was(cast, sql_lead):
    with pytest.raises(PermissionDenied):
        convert_lead(lead=sql_lead, actor=cast.marketer, name="Marketing may not sell")
    sql_lead.refresh_from_db()
    assert sql_lead.stage == "sql" and sql_lead.transitions.count() == 2
    with pytest.raises(ValidationFailed):
        convert_lead(lead=sql_lead, actor=cast.ae, name="x", one_time_amount="lots")
    assert Lead.objects.get(pk=sql_lead.pk).stage == "sql"


def test_winning_the_deal_makes_a_customer(cast, dupont, sql_lead):
    deal = convert_lead(lead=sql_lead, actor=cast.ae, name="Acme — CRM")
    opportunity_update(opportunity=deal, actor=cast.ae, channel="ui", data={"stage": "won"})
    sql_lead.refresh_from_db()
    assert sql_lead.stage == "customer"
    dupont.refresh_from_db()
    assert dupont.lifecycle_stage == "customer"


def test_losing_the_deal_recycles_the_lead(cast, sql_lead):
    deal = convert_lead(lead=sql_lead, actor=cast.ae, name="Acme — CRM")
    opportunity_update(
        opportunity=deal,
        actor=cast.ae,
        channel="ui",
        data={"stage": "lost", "lost_reason": "price"},
    )
    sql_lead.refresh_from_db()
    assert (sql_lead.stage, sql_lead.recycle_reason) == ("recycled", "opportunity_lost")
    assert sql_lead.requalify_on is not None
    assert sql_lead.transitions.order_by("-id").first().reason == "opportunity_lost"


def test_a_deal_without_a_lead_closes_as_before(cast, acme):
    from tests import factories

    deal = factories.opportunity(cast.ae, acme)
    opportunity_update(opportunity=deal, actor=cast.ae, channel="ui", data={"stage": "won"})
    assert Opportunity.objects.get(pk=deal.pk).stage == "won"


def test_campaign_results_count_the_visible_leads(cast, dupont, team_private):
    from cible.engagement.campaigns.hooks import campaign_results
    from cible.engagement.campaigns.models import Campaign

    fair = Campaign.objects.create(name="Salon", type="event")
    lead = services.open_lead(
        contact=dupont, source="event", campaign=fair, actor=cast.ae, channel="ui"
    )
    Lead.objects.filter(pk=lead.pk).update(owner=cast.ae)
    assert campaign_results(cast.ae, [fair.pk])[fair.pk]["leads"] == 1
    assert campaign_results(cast.outsider, [fair.pk])[fair.pk].get("leads", 0) == 0
