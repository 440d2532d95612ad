"""Opportunities: stage rules, amounts and who may touch them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.pipeline.models import Opportunity
from cible.pipeline.services import opportunity_create, opportunity_update
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(cast):
    return factories.organisation(cast.ae, legal_name="Acme")


def test_amounts_are_parsed_in_french_and_english(cast, account):
    deal = factories.opportunity(
        cast.ae, account, one_time_amount="12 500,50 €", recurring_amount="1,250.00"
    )
    assert deal.one_time_amount == Decimal("12500.50")
    assert deal.recurring_amount == Decimal("1250.00")
    assert deal.annual_value == Decimal("27500.50")
    assert deal.probability == 5


@time_machine.travel(dt.datetime(2026, 3, 15, 10, tzinfo=dt.UTC))
def test_winning_closes_the_deal_today_at_100_percent(cast, account):
    deal = factories.opportunity(cast.ae, account)
    opportunity_update(opportunity=deal, actor=cast.ae, channel="ui", data={"stage": "won"})
    deal.refresh_from_db()
    assert (deal.stage, deal.probability, deal.closed_on) == ("won", 100, dt.date(2026, 3, 15))


def test_losing_needs_a_reason(cast, account):
    deal = factories.opportunity(cast.ae, account)
    with pytest.raises(ValidationFailed) as failure:
        opportunity_update(opportunity=deal, actor=cast.ae, channel="ui", data={"stage": "lost"})
    assert [e.field for e in failure.value.errors] == ["lost_reason"]
    opportunity_update(
        opportunity=deal,
        actor=cast.ae,
        channel="ui",
        data={"stage": "lost", "lost_reason": "price"},
    )
    deal.refresh_from_db()
    assert (deal.stage, deal.probability, deal.lost_reason) == ("lost", 0, "price")


def test_reopening_clears_the_close_date(cast, account):
    deal = factories.opportunity(cast.ae, account, stage="won")
    opportunity_update(opportunity=deal, actor=cast.ae, channel="ui", data={"stage": "negotiation"})
    deal.refresh_from_db()
    assert (deal.closed_on, deal.probability) == (None, 80)


def test_an_organisation_is_required_and_must_be_visible(cast, team_private):
    with pytest.raises(ValidationFailed):
        opportunity_create(actor=cast.ae, channel="ui", data={"name": "Orphan"})
    hidden = factories.organisation(cast.outsider, legal_name="Lyon Only")
    with pytest.raises(ValidationFailed) as failure:
        opportunity_create(
            actor=cast.ae, channel="ui", data={"name": "X", "organisation": hidden.pk}
        )
    assert failure.value.errors[0].field == "organisation"
    assert Opportunity.objects.count() == 0


def test_marketing_may_not_create_deals_or_write_amounts(cast, account):
    with pytest.raises(PermissionDenied):
        opportunity_create(
            actor=cast.marketer, channel="ui", data={"name": "X", "organisation": account.pk}
        )
    deal = factories.opportunity(cast.ae, account)
    with pytest.raises(PermissionDenied):
        opportunity_update(
            opportunity=deal, actor=cast.marketer, channel="ui", data={"one_time_amount": "1"}
        )


def test_negative_amounts_and_probability_over_100_are_refused(cast, account):
    with pytest.raises(ValidationFailed) as failure:
        factories.opportunity(cast.ae, account, one_time_amount="-5", probability="150")
    assert {e.field for e in failure.value.errors} == {"one_time_amount", "probability"}
