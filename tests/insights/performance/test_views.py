"""The segment-performance page, the cross-tab explorer and the accounts of a cell, as a user sees
them: real figures, the losing segment flagged, access rules on every count and list.

The book (deals closed ten days ago), seed 002's story:
- Lille Automation (Salesforce, Lille; Alice's): 12 deals, all lost;
- Paris Conseil (HubSpot, Paris; Alice's): 12 won at 1,000, 12 lost;
- Paris Industrie (Salesforce, Paris; Olivier's, another team): 3 won at 5,000, 3 lost.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from cible.people.models import UserProfile
from cible.segments.axes.models import Axis, Membership, Segment
from tests import factories
from tests.cast import Cast

CLOSED = timezone.localdate() - dt.timedelta(days=10)
SEGMENTS = reverse("performance:segments")
CROSSTAB = reverse("performance:crosstab")
ACCOUNTS = reverse("performance:accounts")


@dataclass
class Book:
    crm: Axis
    geo: Axis
    salesforce: Segment
    hubspot: Segment
    lille: Segment
    paris: Segment
    lille_automation: Any
    paris_conseil: Any
    paris_industrie: Any


def _axis(code: str, name: str, segments: list[str], position: int) -> tuple[Axis, list[Segment]]:
    axis = Axis.objects.create(code=code, name=name, position=position)
    return axis, [
        Segment.objects.create(axis=axis, code=s.lower(), name=s, kind="manual", position=i)
        for i, s in enumerate(segments)
    ]


def _join(organisation: Any, *segments: Segment) -> None:
    for segment in segments:
        Membership.objects.create(
            segment=segment, organisation=organisation, axis=segment.axis, since=timezone.now()
        )


def _deals(owner: Any, organisation: Any, n: int, stage: str, **data: Any) -> None:
    data.setdefault("closed_on", CLOSED)
    if stage == "lost":
        data.setdefault("lost_reason", "price")
    for _ in range(n):
        factories.opportunity(owner, organisation, stage=stage, **data)


@pytest.fixture(autouse=True)
def english(db: Any) -> None:
    """Pages follow the user's profile language (French by default); these tests read English."""
    UserProfile.objects.update(language="en")


@pytest.fixture
def book(cast: Cast) -> Book:
    UserProfile.objects.update(language="en")
    # Any axis seeded by migration is put aside: these two come first.
    Axis.objects.update(is_active=False)
    crm, (salesforce, hubspot) = _axis("crm", "Installed CRM", ["Salesforce", "HubSpot"], 0)
    geo, (lille, paris) = _axis("geo", "Geography", ["Lille", "Paris"], 1)
    lille_automation = factories.organisation(cast.ae, legal_name="Lille Automation", city="Lille")
    paris_conseil = factories.organisation(cast.ae, legal_name="Paris Conseil", city="Paris")
    paris_industrie = factories.organisation(cast.outsider, legal_name="Paris Industrie")
    _join(lille_automation, salesforce, lille)
    _join(paris_conseil, hubspot, paris)
    _join(paris_industrie, salesforce, paris)
    _deals(cast.ae, lille_automation, 12, "lost")
    _deals(cast.ae, paris_conseil, 12, "won", one_time_amount="1000")
    _deals(cast.ae, paris_conseil, 12, "lost")
    _deals(cast.outsider, paris_industrie, 3, "won", one_time_amount="5000")
    _deals(cast.outsider, paris_industrie, 3, "lost")
    factories.contact(cast.ae, last_name="Nord", organisation=lille_automation.pk)
    return Book(
        crm,
        geo,
        salesforce,
        hubspot,
        lille,
        paris,
        lille_automation,
        paris_conseil,
        paris_industrie,
    )


def _text(html: str) -> str:
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _row(html: str, segment: str) -> str:
    found = re.search(rf'<tr data-segment="{segment}".*?</tr>', html, re.S)
    assert found, f"no row for {segment}"
    return found.group(0)


def _measure(row: str, name: str) -> str:
    found = re.search(rf'data-measure="{name}"[^>]*>(.*?)</td>', row, re.S)
    assert found, f"no {name} in the row"
    return _text(found.group(1))


def _chart(html: str, element_id: str) -> dict[str, Any]:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert found
    data: dict[str, Any] = json.loads(found.group(1))
    return data


# --- segment performance -----------------------------------------------------------------------


def test_segment_performance_shows_every_measure_per_segment(
    client_for: Any, cast: Cast, book: Book
) -> None:
    response = client_for(cast.admin).get(SEGMENTS, {"axis": "crm"})
    assert response.status_code == 200
    html = response.content.decode()
    salesforce = _row(html, "salesforce")
    assert _measure(salesforce, "accounts") == "2"
    assert _measure(salesforce, "contacts") == "1"
    assert (_measure(salesforce, "won"), _measure(salesforce, "lost")) == ("3", "15")
    assert _measure(salesforce, "win_rate") == "17 %"
    assert _measure(salesforce, "lost_share") == "83 %"
    assert _measure(salesforce, "revenue_won") == "15,000\u00a0€"
    assert _measure(salesforce, "average_deal") == "5,000\u00a0€"
    assert _measure(salesforce, "profit") == "costs unknown"
    hubspot = _row(html, "hubspot")
    assert _measure(hubspot, "win_rate") == "50 %"
    assert _measure(hubspot, "revenue_won") == "12,000\u00a0€"
    total = _row(html, "total")
    assert (_measure(total, "won"), _measure(total, "lost")) == ("15", "27")
    assert _measure(total, "win_rate") == "36 %"

    chart = _chart(html, "chart-win-rate-data")
    assert chart["labels"] == ["Salesforce", "HubSpot"]
    assert chart["values"] == [16.7, 50.0]
    assert chart["reference"] == {"name": "Overall", "value": 35.7}
    assert chart["links"][0] == f"{ACCOUNTS}?a=crm&sa={book.salesforce.pk}"


def test_the_segment_that_loses_every_deal_is_flagged_with_its_numbers(
    client_for: Any, cast: Cast, book: Book
) -> None:
    html = client_for(cast.admin).get(SEGMENTS, {"axis": "geo"}).content.decode()
    lille = _row(html, "lille")
    assert 'data-flag="under"' in lille
    assert "table-danger" in lille
    sentence = "Win rate 0 % (0 of 12 deals) — 95 % interval 0–24 %, well below the overall 36 %"
    assert sentence in _text(html.split('id="findings"')[1].split("</div>")[0])
    assert 'data-flag="under"' not in _row(html, "paris")
    chart = _chart(html, "chart-win-rate-data")
    assert chart["colours"][0] == "#dc3545" and chart["colours"][1] == "#0d6efd"


def test_a_shorter_period_leaves_older_deals_out(client_for: Any, cast: Cast, book: Book) -> None:
    today = timezone.localdate()
    response = client_for(cast.admin).get(
        SEGMENTS,
        {"axis": "crm", "period": "custom", "start": today.isoformat(), "end": today.isoformat()},
    )
    salesforce = _row(response.content.decode(), "salesforce")
    assert (_measure(salesforce, "won"), _measure(salesforce, "lost")) == ("0", "0")
    assert _measure(salesforce, "win_rate") == "—"
    assert _measure(salesforce, "accounts") == "2"  # accounts do not depend on the period


def test_an_ae_of_another_team_sees_smaller_counts(
    team_private: Any, client_for: Any, cast: Cast, book: Book
) -> None:
    html = client_for(cast.outsider).get(SEGMENTS, {"axis": "crm"}).content.decode()
    salesforce = _row(html, "salesforce")
    assert _measure(salesforce, "accounts") == "1"
    assert (_measure(salesforce, "won"), _measure(salesforce, "lost")) == ("3", "3")
    assert _measure(_row(html, "hubspot"), "accounts") == "0"
    assert _measure(_row(html, "total"), "win_rate") == "50 %"


def test_a_marketer_without_amounts_sees_no_money(client_for: Any, cast: Cast, book: Book) -> None:
    html = client_for(cast.marketer).get(SEGMENTS, {"axis": "crm"}).content.decode()
    assert 'data-measure="revenue_won"' not in html
    assert "Deal amounts are hidden for your role." in html
    assert _measure(_row(html, "salesforce"), "win_rate") == "17 %"


def test_bad_choices_are_named_and_the_page_still_shows(
    client_for: Any, cast: Cast, book: Book
) -> None:
    client = client_for(cast.admin)
    response = client.get(SEGMENTS, {"axis": "crm", "period": "custom", "start": "31/12/2024"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "“31/12/2024” is not a date (YYYY-MM-DD)." in html
    assert "Give a date (YYYY-MM-DD)." in html  # the missing end
    assert _measure(_row(html, "salesforce"), "won") == "3"  # the last 12 months instead
    response = client.get(SEGMENTS, {"axis": "no-such-axis", "period": "someday"})
    html = response.content.decode()
    assert "Select a valid choice. no-such-axis is not one of the available choices." in html
    assert "Unknown period “someday”" in html
    assert 'data-segment="salesforce"' in html  # the first axis instead


def test_numbers_and_money_follow_the_users_language(
    client_for: Any, cast: Cast, book: Book
) -> None:
    UserProfile.objects.filter(user=cast.admin).update(language="fr")
    html = client_for(cast.admin).get(SEGMENTS, {"axis": "crm"}).content.decode()
    salesforce = _row(html, "salesforce")
    assert _measure(salesforce, "revenue_won") == "15\u00a0000\u00a0€"
    assert _measure(salesforce, "win_rate").startswith("17")


def test_performance_pages_need_a_login(client: Any, book: Book) -> None:
    for url in (SEGMENTS, CROSSTAB, ACCOUNTS):
        assert client.get(url).status_code == 302


# --- the cross-tab -----------------------------------------------------------------------------


def test_the_crosstab_flags_the_losing_cell_and_links_each_cell_to_its_accounts(
    client_for: Any, cast: Cast, book: Book
) -> None:
    response = client_for(cast.admin).get(CROSSTAB, {"a": "crm", "b": "geo"})
    assert response.status_code == 200
    html = response.content.decode()
    finding = re.search(r'<li class="mb-1 finding"(.*?)</li>', html, re.S)
    assert finding is not None
    assert 'data-row="salesforce" data-column="lille" data-flag="under"' in finding.group(0)
    assert "Salesforce × Lille : Win rate 0 % (0 of 12 deals) — 95 % interval" in _text(
        finding.group(0)
    )

    chart = _chart(html, "chart-crosstab-data")
    assert chart["y_labels"] == ["Salesforce", "HubSpot"]
    assert chart["x_labels"] == ["Lille", "Paris"]
    assert [0, 0, 0.0] in chart["data"] and [1, 1, 50.0] in chart["data"]
    assert [flag["kind"] for flag in chart["flags"]] == ["under"]
    cell_url = chart["links"][0]
    assert cell_url == (f"{ACCOUNTS}?a=crm&sa={book.salesforce.pk}&b=geo&sb={book.lille.pk}")
    assert chart["tooltips"][0][:3] == [
        "Salesforce × Lille",
        "Win rate: 0 %",
        "12 deals closed: 0 won, 12 lost",
    ]
    assert chart["link_target"] == "#cell-accounts"

    table = html.split('id="crosstab-table"')[1]
    salesforce_row = re.search(r'<tr data-row="salesforce">.*?</tr>', table, re.S)
    assert salesforce_row is not None
    assert 'data-column="lille" data-flag="under"' in salesforce_row.group(0)
    totals = re.search(r'<tr data-row="all">.*?</tr>', table, re.S)
    assert totals is not None and "36 %" in _text(totals.group(0))

    accounts = client_for(cast.admin).get(cell_url, HTTP_HX_REQUEST="true")
    assert accounts.status_code == 200
    listed = _text(accounts.content.decode())
    assert "Lille Automation" in listed and "Paris" not in listed.split("Owner")[1]
    assert "1 account" in listed


def test_the_crosstab_measure_can_be_money_or_counts(
    client_for: Any, cast: Cast, book: Book
) -> None:
    client = client_for(cast.admin)
    html = client.get(CROSSTAB, {"a": "crm", "b": "geo", "measure": "revenue_won"}).content.decode()
    chart = _chart(html, "chart-crosstab-data")
    assert [1, 0, 15000.0] in chart["data"]  # Salesforce × Paris
    assert chart["suffix"] == "\u00a0€"
    totals = re.search(r'<tr data-row="all">.*?</tr>', html, re.S)
    assert totals is not None and "27,000\u00a0€" in _text(totals.group(0))
    html = client.get(CROSSTAB, {"a": "geo", "b": "crm", "measure": "accounts"}).content.decode()
    chart = _chart(html, "chart-crosstab-data")
    assert [0, 1, 1] in chart["data"]  # Paris × Salesforce: one account


def test_the_crosstab_names_bad_choices(client_for: Any, cast: Cast, book: Book) -> None:
    client = client_for(cast.admin)
    html = client.get(CROSSTAB, {"a": "crm", "b": "crm"}).content.decode()
    assert "Choose two different axes." in html
    assert 'id="heatmap"' not in html
    html = client.get(CROSSTAB, {"a": "crm", "b": "geo", "measure": "luck"}).content.decode()
    assert "Select a valid choice. luck is not one of the available choices." in html
    assert 'id="heatmap"' in html  # the win rate instead


def test_a_marketer_may_not_chart_amounts(client_for: Any, cast: Cast, book: Book) -> None:
    client = client_for(cast.marketer)
    html = client.get(CROSSTAB, {"a": "crm", "b": "geo"}).content.decode()
    assert 'value="revenue_won"' not in html
    html = client.get(CROSSTAB, {"a": "crm", "b": "geo", "measure": "revenue_won"}).content.decode()
    assert "revenue_won is not one of the available choices" in html


def test_another_teams_ae_sees_neither_the_losing_cell_nor_its_accounts(
    team_private: Any, client_for: Any, cast: Cast, book: Book
) -> None:
    client = client_for(cast.outsider)
    html = client.get(CROSSTAB, {"a": "crm", "b": "geo"}).content.decode()
    assert 'id="findings"' not in html
    chart = _chart(html, "chart-crosstab-data")
    assert chart["flags"] == []
    assert [0, 0, "-"] in chart["data"]  # Salesforce × Lille: no deal they may see
    cell = client.get(
        ACCOUNTS, {"a": "crm", "sa": book.salesforce.pk, "b": "geo", "sb": book.lille.pk}
    )
    assert "No account you can see here." in cell.content.decode()
    row = client.get(ACCOUNTS, {"a": "crm", "sa": book.salesforce.pk})
    assert "Paris Industrie" in row.content.decode()
    assert "Lille Automation" not in row.content.decode()


# --- the accounts of a segment or a cell -------------------------------------------------------


def test_accounts_of_a_segment_are_paginated(client_for: Any, cast: Cast, book: Book) -> None:
    for n in range(25):
        organisation = factories.organisation(cast.ae, legal_name=f"Nordic {n:02d}")
        _join(organisation, book.lille)
    client = client_for(cast.admin)
    first = client.get(ACCOUNTS, {"a": "geo", "sa": book.lille.pk}, HTTP_HX_REQUEST="true")
    html = first.content.decode()
    assert "26 accounts" in _text(html)
    assert "Page 1 of 2" in _text(html)
    assert html.count("data-organisation=") == 20
    assert 'hx-target="closest .accounts-panel"' in html
    second = client.get(ACCOUNTS, {"a": "geo", "sa": book.lille.pk, "page": 2})
    assert second.status_code == 200
    assert second.content.decode().count("data-organisation=") == 6
    assert "<nav" in second.content.decode()  # the full page, outside HTMX


def test_accounts_in_no_segment_of_an_axis(client_for: Any, cast: Cast, book: Book) -> None:
    factories.organisation(cast.ae, legal_name="Nowhere SARL")
    html = client_for(cast.admin).get(ACCOUNTS, {"a": "crm", "sa": "none"}).content.decode()
    assert "Nowhere SARL" in html and "Lille Automation" not in html
    assert "Unsegmented" in html


def test_bad_account_queries_answer_with_the_problem(
    client_for: Any, cast: Cast, book: Book
) -> None:
    client = client_for(cast.admin)
    response = client.get(ACCOUNTS, {"a": "nope", "sa": "1"})
    assert response.status_code == 404
    assert "No axis with the code “nope”." in response.content.decode()
    response = client.get(ACCOUNTS, {"a": "crm", "sa": "999999"})
    assert response.status_code == 404
    assert "sa: No segment #999999." in _text(response.content.decode())
    response = client.get(ACCOUNTS, {"a": "crm", "sa": book.lille.pk})
    assert response.status_code == 422
    assert "Segment “Lille” is not on axis “Installed CRM”." in response.content.decode()
    htmx = client.get(ACCOUNTS, {"a": "crm", "sa": "x"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200  # HTMX swaps only successful answers
    assert 'id="accounts-error"' in htmx.content.decode()
