"""Opportunities through the API, with amounts hidden from those who may not see them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cible.people.services import organisation_create
from cible.pipeline.models import Opportunity
from cible.pipeline.services import opportunity_create
from tests.api.conftest import assert_error_shape, fields_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(cast):
    return organisation_create(actor=cast.ae, channel="ui", data={"legal_name": "Acme"})


@pytest.fixture
def deal(cast, acme):
    return opportunity_create(
        actor=cast.ae,
        channel="ui",
        data={
            "name": "Acme CRM",
            "organisation": acme.pk,
            "one_time_amount": "12 000",
            "recurring_amount": "1 500",
            "stage": "proposal",
            "expected_close_date": "31/12/2026",
        },
    )


def test_create_parses_amounts_and_dates(cast, api_for, acme):
    response = api_for(cast.ae).post(
        "/opportunities",
        {
            "name": "Acme CRM",
            "organisation": acme.pk,
            "one_time_amount": "12 000,50",
            "recurring_amount": 1500,
            "stage": "Discovery",
            "expected_close_date": "31/12/2026",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert Decimal(body["one_time_amount"]) == Decimal("12000.50")
    assert Decimal(body["recurring_amount"]) == Decimal("1500")
    assert Decimal(body["annual_value"]) == Decimal("30000.50")
    assert body["stage"] == "discovery"
    assert body["probability"] == 20
    assert body["expected_close_date"] == "2026-12-31"
    assert body["organisation"] == acme.pk
    assert body["owner"] == cast.ae.pk


def test_an_organisation_is_required(cast, api_for):
    body = assert_error_shape(api_for(cast.ae).post("/opportunities", {"name": "Orphan"}), 422)
    assert fields_of(body) == {"organisation"}


def test_lost_needs_a_reason(cast, api_for, deal):
    body = assert_error_shape(
        api_for(cast.ae).patch(f"/opportunities/{deal.pk}", {"stage": "lost", "version": 1}), 422
    )
    assert fields_of(body) == {"lost_reason"}
    deal.refresh_from_db()
    assert deal.stage == "proposal"


def test_bad_values_are_named(cast, api_for, acme):
    body = assert_error_shape(
        api_for(cast.ae).post(
            "/opportunities",
            {
                "name": "X",
                "organisation": acme.pk,
                "one_time_amount": "-5",
                "probability": "150",
                "expected_close_date": "someday",
                "stage": "won-ish",
            },
        ),
        422,
    )
    assert fields_of(body) == {"one_time_amount", "probability", "expected_close_date", "stage"}
    assert not Opportunity.objects.exists()


def test_stale_version_is_a_409(cast, api_for, deal):
    client = api_for(cast.ae)
    assert (
        client.patch(f"/opportunities/{deal.pk}", {"probability": 70, "version": 1}).status_code
        == 200
    )
    assert_error_shape(
        client.patch(f"/opportunities/{deal.pk}", {"probability": 10, "version": 1}), 409
    )
    deal.refresh_from_db()
    assert (deal.probability, deal.version) == (70, 2)


def test_delete(cast, api_for, deal):
    assert api_for(cast.ae).delete(f"/opportunities/{deal.pk}").status_code == 204
    assert not Opportunity.objects.exists()


def test_marketing_sees_deals_without_amounts(cast, api_for, deal):
    marketer = api_for(cast.marketer)
    listed = marketer.get("/opportunities").json()["items"]
    assert [o["name"] for o in listed] == ["Acme CRM"]
    for body in (listed[0], marketer.get(f"/opportunities/{deal.pk}").json()):
        assert body["one_time_amount"] is None
        assert body["recurring_amount"] is None
        assert body["annual_value"] is None
        assert body["stage"] == "proposal"
    assert (
        Decimal(api_for(cast.ae).get(f"/opportunities/{deal.pk}").json()["one_time_amount"])
        == 12000
    )


def test_marketing_cannot_filter_or_sort_by_amounts(cast, api_for, deal):
    marketer = api_for(cast.marketer)
    body = assert_error_shape(marketer.get("/opportunities", one_time_amount_min="10000"), 403)
    assert fields_of(body) == {"one_time_amount_min"}
    assert_error_shape(marketer.get("/opportunities", sort="-one_time_amount"), 422)
    assert api_for(cast.ae).get("/opportunities", one_time_amount_min="10000").json()["items"]


def test_marketing_cannot_write_amounts(cast, api_for, deal, acme):
    marketer = api_for(cast.marketer)
    assert_error_shape(
        marketer.patch(f"/opportunities/{deal.pk}", {"one_time_amount": "1", "version": 1}), 403
    )
    assert_error_shape(
        marketer.post(
            "/opportunities", {"name": "X", "organisation": acme.pk, "one_time_amount": "1"}
        ),
        403,
    )
    deal.refresh_from_db()
    assert deal.one_time_amount == Decimal("12000")


def test_marketing_with_the_grant_sees_amounts(cast, api_for, deal):
    cast.marketer.profile.sees_deal_amounts = True
    cast.marketer.profile.save()
    body = api_for(cast.marketer).get(f"/opportunities/{deal.pk}").json()
    assert Decimal(body["one_time_amount"]) == 12000


def test_deals_of_another_team_are_invisible(cast, api_for, deal, team_private):
    outsider = api_for(cast.outsider)
    assert outsider.get("/opportunities", count="true").json()["count"] == 0
    assert_error_shape(outsider.get(f"/opportunities/{deal.pk}"), 404)


def test_pages_by_close_date(cast, api_for, acme):
    for i in range(9):
        opportunity_create(
            actor=cast.ae,
            channel="ui",
            data={
                "name": f"Deal {i}",
                "organisation": acme.pk,
                "expected_close_date": f"2026-0{1 + i % 4}-15" if i % 3 else "",
            },
        )
    client = api_for(cast.ae)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "sort": "close", **({"cursor": cursor} if cursor else {})}
        body = client.get("/opportunities", **params).json()
        seen += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 9
    assert seen == [
        o["id"] for o in client.get("/opportunities", sort="close", limit=50).json()["items"]
    ]
