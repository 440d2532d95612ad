"""The funnel page as a user sees it: figures in the table, the chart's data, the HTMX refresh,
localised numbers, access rules and a fixed number of queries."""

from __future__ import annotations

import json
import re
from typing import Any

from django.urls import reverse

from cible.people.models import UserProfile
from tests.insights.funnel.conftest import YEAR_2025, Road, make_lead

URL = reverse("funnel:report")


def cell(html: str, stage: str, measure: str) -> str:
    row = re.search(rf'<tr data-stage="{stage}">(.*?)</tr>', html, re.S)
    assert row, stage
    found = re.search(rf'data-measure="{measure}">(.*?)</', row.group(1), re.S)
    assert found, (stage, measure)
    return found.group(1).strip()


def chart(html: str) -> dict[str, Any]:
    found = re.search(r'id="funnel-chart-data" type="application/json">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def test_the_page_shows_the_funnel(cast: Any, road: Road, client_for: Any) -> None:
    html = client_for(cast.marketer).get(URL, YEAR_2025).content.decode()
    assert cell(html, "suspect", "reached") == "5"
    assert cell(html, "suspect", "to_next") == "80.0 %"
    assert cell(html, "prospect", "from_first") == "80.0 %"
    assert cell(html, "suspect", "median").startswith("2.0 d")
    assert "1 skipped a stage: no time" in html
    assert cell(html, "prospect", "p75") == "4.5 d"
    assert cell(html, "mql", "still_here") == "1"
    assert "Not ready to buy yet (1)" in html
    assert chart(html)["values"] == [5, 4, 3, 2, 1, 1, 1]
    assert 'data-group="website"' in html and 'data-group="event"' in html


def test_french_numbers(cast: Any, road: Road, client_for: Any) -> None:
    UserProfile.objects.filter(user=cast.marketer).update(language="fr")
    html = client_for(cast.marketer).get(URL, YEAR_2025).content.decode()
    assert cell(html, "suspect", "to_next") == "80,0 %"
    assert cell(html, "prospect", "p75") == "4,5 j"


def test_htmx_refresh_returns_the_report_only(cast: Any, road: Road, client_for: Any) -> None:
    client = client_for(cast.marketer)
    response = client.get(URL, {**YEAR_2025, "source": "event"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html
    assert cell(html, "suspect", "reached") == "2"
    assert chart(html)["values"] == [2, 2, 1, 1, 0, 0, 0]


def test_bad_filters_are_named_and_the_default_shown(cast: Any, client_for: Any) -> None:
    html = client_for(cast.marketer).get(URL, {"source": "tv", "mode": "x"}).content.decode()
    assert 'data-field="source"' in html and 'data-field="mode"' in html
    assert "Unknown source “tv”" in html
    assert 'id="no-leads"' in html  # no lead in the default period


def test_outsider_does_not_count_private_leads(
    cast: Any, road: Road, team_private: Any, client_for: Any
) -> None:
    make_lead(owner=cast.outsider, source="event", path=[("suspect", 0)])
    html = client_for(cast.outsider).get(URL, YEAR_2025).content.decode()
    assert cell(html, "suspect", "reached") == "1"
    html = client_for(cast.ae).get(URL, YEAR_2025).content.decode()
    assert cell(html, "suspect", "reached") == "5"


def test_page_queries_are_fixed(
    cast: Any, road: Road, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for(cast.marketer)
    client.get(URL, YEAR_2025)  # warm the session and the policy
    with django_assert_max_num_queries(16) as few:
        client.get(URL, YEAR_2025)
    for _ in range(15):
        make_lead(owner=cast.ae, source="partner", path=[("suspect", 0)])
    with django_assert_max_num_queries(len(few)):
        html = client.get(URL, YEAR_2025).content.decode()
    assert cell(html, "suspect", "reached") == "20"


def test_login_required(db: Any, client: Any) -> None:
    assert client.get(URL).status_code == 302
