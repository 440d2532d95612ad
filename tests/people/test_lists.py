"""List pages: filters on fields, sorting, pagination, and a query count that does not grow."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(cast):
    rows = []
    for i, (city, postal) in enumerate(
        [("Paris", "75008"), ("Lyon", "69003"), ("Lille", "59000")] * 20
    ):
        rows.append(
            factories.organisation(
                cast.ae,
                legal_name=f"Société {i:02d}",
                postal_code=postal,
                city=city,
                headcount=str(5 + i * 10),
                installed_products="",
            )
        )
    return rows


def _names(response):
    return [row.display_name for row in response.context["page"].object_list]


def test_filters_sort_and_paginate(cast, accounts, client_for):
    client = client_for(cast.ae)
    response = client.get("/organisations/", {"region": "FR-IDF", "sort": "-name"})
    assert response.context["page"].paginator.count == 20
    assert _names(response)[0] == "Société 57"
    response = client.get(
        "/organisations/", {"headcount_min": "100", "headcount_max": "200", "sort": "headcount"}
    )
    assert _names(response) == [f"Société {i:02d}" for i in range(10, 20)]
    response = client.get("/organisations/", {"page": 3, "per_page": 25})
    assert len(_names(response)) == 10


def test_bad_filter_values_are_reported_not_crashing(cast, accounts, client_for):
    response = client_for(cast.ae).get(
        "/organisations/", {"headcount_min": "lots", "sort": "secret"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "headcount_min" in page and "secret" in page


@pytest.mark.parametrize("url", ["/organisations/", "/contacts/", "/opportunities/"])
def test_list_pages_issue_a_fixed_number_of_queries(
    cast, accounts, client_for, url, django_assert_max_num_queries
):
    for org in accounts[:30]:
        factories.contact(cast.ae, last_name=f"Nom {org.pk}", organisation=org.pk)
        factories.opportunity(cast.ae, org)
    client = client_for(cast.ae)
    client.get(url, {"per_page": 25})  # warm caches (content types, sessions)
    counts = []
    for per_page in (25, 100):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"per_page": per_page}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(15):
        client.get(url, {"per_page": 100})


def test_contact_phone_filter_finds_mobiles_typed_any_way(cast, client_for):
    factories.contact(cast.ae, last_name="Fixe", phone="01 23 45 67 89")
    factories.contact(cast.ae, last_name="Portable", mobile="06 12 34 56 78")
    client = client_for(cast.ae)
    found = client.get("/contacts/", {"phone": "+33 6 12 34 56 78"}).context["page"].object_list
    assert [c.last_name for c in found] == ["Portable"]
    found = client.get("/contacts/", {"phone": "0123456789"}).context["page"].object_list
    assert [c.last_name for c in found] == ["Fixe"]


def test_big_lists_count_up_to_a_cap_then_fetch_the_exact_figure(cast, client_for, monkeypatch):
    from cible.core import records

    for i in range(12):
        factories.organisation(cast.ae, legal_name=f"Org {i:02d}", installed_products="")
    monkeypatch.setattr(records, "COUNT_CAP", 10)
    monkeypatch.setattr(records.CappedPaginator.__init__, "__defaults__", (10,))
    client = client_for(cast.marketer)
    page = client.get("/organisations/", {"per_page": 25})
    assert page.context["page"].paginator.capped
    assert "More than 10 results" in page.content.decode()
    exact = client.get("/organisations/", {"count": "exact"}).content.decode()
    assert "12 results" in exact
