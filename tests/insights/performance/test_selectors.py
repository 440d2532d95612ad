"""Segment performance and the cross-tab, with real values, through the viewer's access rights.

The book of deals (closed in the last 12 months unless said otherwise), seed 002's story:
- Lille Automation (Salesforce, Lille; Alice's): 12 deals, all lost — plus one lost long ago;
- Paris Conseil (HubSpot, Paris; Alice's): 12 won at 1,600 a year each, 12 lost, 30-day cycle;
- Paris Industrie (Salesforce, Paris; Olivier's, another team): 3 won at 5,000, 3 lost;
- Sans Segment (in no segment, nobody's): one open deal of 1,000 + 100 a month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.insights.performance.charts import heatmap_chart
from cible.insights.performance.periods import Period, Preset
from cible.insights.performance.selectors import (
    crosstab,
    crosstab_accounts,
    measure_choices,
    segment_performance,
)
from cible.insights.performance.stats import FlagKind
from cible.people.models import Organisation
from cible.pipeline.models import Opportunity
from cible.segments.axes.models import Axis, Membership, Segment
from tests import factories
from tests.cast import Cast

TODAY = timezone.localdate()
PERIOD = Period.of(Preset.LAST_12_MONTHS, today=TODAY)
CLOSED = TODAY - dt.timedelta(days=10)


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
    sans_segment: Any


def _axis(code: str, names: list[str], *, exclusive: bool = True) -> tuple[Axis, list[Segment]]:
    axis = Axis.objects.create(code=code, name=code.title(), exclusive=exclusive)
    segments = [
        Segment.objects.create(
            axis=axis, code=name.lower(), name=name, kind="manual", position=position
        )
        for position, name in enumerate(names)
    ]
    return axis, segments


def _join(organisation: Any, *segments: Segment) -> None:
    for segment in segments:
        Membership.objects.create(
            segment=segment, organisation=organisation, axis=segment.axis, since=timezone.now()
        )


def _deals(owner: Any, organisation: Any, n: int, stage: str, **data: Any) -> list[Any]:
    data.setdefault("closed_on", CLOSED)
    if stage == "lost":
        data.setdefault("lost_reason", "price")
    return [factories.opportunity(owner, organisation, stage=stage, **data) for _ in range(n)]


@pytest.fixture
def book(cast: Cast) -> Book:
    crm, (salesforce, hubspot) = _axis("crm", ["Salesforce", "HubSpot"])
    geo, (lille, paris) = _axis("geo", ["Lille", "Paris"])
    lille_automation = factories.organisation(cast.ae, legal_name="Lille Automation")
    paris_conseil = factories.organisation(cast.ae, legal_name="Paris Conseil")
    paris_industrie = factories.organisation(cast.outsider, legal_name="Paris Industrie")
    sans_segment = factories.organisation(cast.admin, legal_name="Sans Segment")
    _join(lille_automation, salesforce, lille)
    _join(paris_conseil, hubspot, paris)
    _join(paris_industrie, salesforce, paris)

    _deals(cast.ae, lille_automation, 12, "lost")
    _deals(cast.ae, lille_automation, 1, "lost", closed_on=TODAY - dt.timedelta(days=800))
    won = _deals(cast.ae, paris_conseil, 12, "won", one_time_amount="1000", recurring_amount="50")
    Opportunity.objects.filter(pk__in=[d.pk for d in won]).update(
        created_at=timezone.make_aware(
            dt.datetime.combine(CLOSED - dt.timedelta(days=30), dt.time(12))
        )
    )
    _deals(cast.ae, paris_conseil, 12, "lost", one_time_amount="777")
    _deals(cast.outsider, paris_industrie, 3, "won", one_time_amount="5000")
    _deals(cast.outsider, paris_industrie, 3, "lost")
    factories.opportunity(
        cast.admin, sans_segment, stage="proposal", one_time_amount="1000", recurring_amount="100"
    )
    Opportunity.objects.filter(organisation=sans_segment).update(owner=None)
    Organisation.objects.filter(pk=sans_segment.pk).update(owner=None)  # everybody's
    factories.contact(cast.ae, last_name="Nord", organisation=lille_automation.pk)
    factories.contact(cast.ae, last_name="Lefebvre", organisation=lille_automation.pk)
    factories.contact(cast.ae, last_name="Martin", organisation=paris_conseil.pk)
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
        sans_segment,
    )


# --- one axis --------------------------------------------------------------------------------


def test_segment_performance_gives_every_measure_per_segment(cast: Cast, book: Book) -> None:
    result = segment_performance(viewer=cast.admin, axis=book.crm, period=PERIOD)
    names = [row.segment.name for row in result.rows]
    assert names == ["Salesforce", "HubSpot", "Unsegmented"]
    salesforce, hubspot, unsegmented = (row.measures for row in result.rows)

    assert (salesforce.accounts, salesforce.contacts) == (2, 2)
    assert (salesforce.won, salesforce.lost, salesforce.closed) == (3, 15, 18)
    assert salesforce.win_rate == pytest.approx(3 / 18)
    assert salesforce.lost_share == pytest.approx(15 / 18)
    assert salesforce.revenue_won == Decimal("15000.00")
    assert salesforce.average_deal == Decimal("5000.00")

    assert (hubspot.accounts, hubspot.contacts, hubspot.won, hubspot.lost) == (1, 1, 12, 12)
    assert hubspot.win_rate == 0.5
    assert hubspot.revenue_won == Decimal("19200.00")  # 12 × (1,000 + 12 × 50)
    assert hubspot.average_deal == Decimal("1600.00")
    assert hubspot.sales_cycle_days == 30.0
    assert hubspot.open_deals == 0 and hubspot.open_amount == Decimal("0")

    assert (unsegmented.accounts, unsegmented.contacts, unsegmented.closed) == (1, 0, 0)
    assert unsegmented.open_deals == 1
    assert unsegmented.open_amount == Decimal("2200.00")  # 1,000 + 12 × 100
    assert unsegmented.win_rate is None and unsegmented.average_deal is None
    assert all(row.measures.profit is None for row in result.rows)  # no cost recorded anywhere

    assert (result.total.accounts, result.total.won, result.total.lost) == (4, 15, 27)
    assert result.overall_win_rate == pytest.approx(15 / 42)


def test_a_deal_closed_before_the_period_does_not_count(cast: Cast, book: Book) -> None:
    two_years = Period.of(Preset.LAST_2_YEARS, today=TODAY + dt.timedelta(days=100))
    result = segment_performance(viewer=cast.admin, axis=book.crm, period=two_years)
    assert result.rows[0].measures.lost == 15
    longer = Period(TODAY - dt.timedelta(days=900), TODAY)
    result = segment_performance(viewer=cast.admin, axis=book.crm, period=longer)
    assert result.rows[0].measures.lost == 16


def test_segment_flags_need_enough_deals(cast: Cast, book: Book) -> None:
    result = segment_performance(viewer=cast.admin, axis=book.geo, period=PERIOD)
    lille = result.rows[0]
    assert lille.segment.name == "Lille"
    assert lille.flag is not None and lille.flag.kind == FlagKind.UNDER
    assert (lille.flag.won, lille.flag.closed) == (0, 12)
    assert [row.segment.name for row in result.flagged] == ["Lille"]
    lenient = segment_performance(viewer=cast.admin, axis=book.geo, period=PERIOD, min_deals=13)
    assert lenient.flagged == []


# --- the cross-tab -----------------------------------------------------------------------------


def test_crosstab_flags_the_segment_that_loses_every_deal(cast: Cast, book: Book) -> None:
    tab = crosstab(viewer=cast.admin, axis_a=book.crm, axis_b=book.geo, period=PERIOD)
    assert [r.name for r in tab.rows] == ["Salesforce", "HubSpot", "Unsegmented"]
    assert [c.name for c in tab.columns] == ["Lille", "Paris", "Unsegmented"]

    losing = tab.cell(book.salesforce.pk, book.lille.pk)
    assert (losing.measures.won, losing.measures.lost) == (0, 12)
    assert losing.flag is not None and losing.flag.kind == FlagKind.UNDER
    assert losing.flag.sentence == (
        "Win rate 0 % (0 of 12 deals) — 95 % interval 0–24 %, well below the overall 36 %"
    )
    assert tab.flagged == [losing]  # half won elsewhere: nothing else stands out

    paris_hubspot = tab.cell(book.hubspot.pk, book.paris.pk)
    assert (paris_hubspot.measures.won, paris_hubspot.measures.closed) == (12, 24)
    assert paris_hubspot.flag is None
    paris_salesforce = tab.cell(book.salesforce.pk, book.paris.pk)
    assert paris_salesforce.measures.revenue_won == Decimal("15000.00")
    assert tab.cell(book.hubspot.pk, book.lille.pk).measures.closed == 0
    assert tab.cell(None, None).measures.open_deals == 1

    assert tab.rows[-1].unsegmented and not tab.rows[0].unsegmented
    salesforce_row = tab.row_totals[0]
    assert salesforce_row.column.is_total and not salesforce_row.column.unsegmented
    assert (salesforce_row.measures.won, salesforce_row.measures.lost) == (3, 15)
    paris_column = tab.column_totals[1]
    assert (paris_column.measures.won, paris_column.measures.lost) == (15, 15)
    assert (tab.total.won, tab.total.lost, tab.total.open_deals) == (15, 27, 1)
    assert tab.total.revenue_won == Decimal("34200.00")
    # The default measure counts no account: a million of them cost more than the deals.
    assert tab.total.accounts is None


def test_crosstab_counts_accounts_and_contacts_when_asked(cast: Cast, book: Book) -> None:
    accounts = crosstab(
        viewer=cast.admin, axis_a=book.crm, axis_b=book.geo, period=PERIOD, measure="accounts"
    )
    assert accounts.cell(book.salesforce.pk, book.paris.pk).measures.accounts == 1
    assert accounts.cell(book.hubspot.pk, book.lille.pk).measures.accounts == 0
    assert accounts.total.accounts == 4
    assert accounts.total.contacts is None
    contacts = crosstab(
        viewer=cast.admin, axis_a=book.crm, axis_b=book.geo, period=PERIOD, measure="contacts"
    )
    assert contacts.cell(book.salesforce.pk, book.lille.pk).measures.contacts == 2
    assert contacts.row_totals[1].measures.contacts == 1
    assert contacts.total.contacts == 3


def test_crosstab_runs_the_same_queries_whatever_the_number_of_segments(
    cast: Cast, book: Book, django_assert_max_num_queries: Any
) -> None:
    crosstab(viewer=cast.admin, axis_a=book.crm, axis_b=book.geo, period=PERIOD)  # warm caches
    for position in range(10):
        Segment.objects.create(
            axis=book.geo,
            code=f"extra-{position}",
            name=f"Extra {position}",
            kind="manual",
            position=10 + position,
        )
    # Segments of A, of B, the deals, the policy, the axes' member sets (their versions, and
    # their members: read again here, where a test's transaction keeps nothing in memory).
    with django_assert_max_num_queries(6):
        tab = crosstab(viewer=cast.admin, axis_a=book.crm, axis_b=book.geo, period=PERIOD)
    assert len(tab.columns) == 13


def test_totals_count_an_account_in_two_segments_of_a_non_exclusive_axis_once(
    cast: Cast, book: Book
) -> None:
    tags, (key, partner) = _axis("tags", ["Key account", "Partner"], exclusive=False)
    _join(book.paris_conseil, key, partner)
    _join(book.lille_automation, key)
    tab = crosstab(
        viewer=cast.admin, axis_a=tags, axis_b=book.crm, period=PERIOD, measure="accounts"
    )
    assert tab.cell(key.pk, book.hubspot.pk).measures.accounts == 1
    assert tab.cell(partner.pk, book.hubspot.pk).measures.accounts == 1
    hubspot_column = tab.column_totals[[c.id for c in tab.columns].index(book.hubspot.pk)]
    assert hubspot_column.measures.accounts == 1
    assert (hubspot_column.measures.won, hubspot_column.measures.lost) == (12, 12)
    assert tab.total.accounts == 4
    assert (tab.total.won, tab.total.lost) == (15, 27)
    key_row = tab.row_totals[0]
    assert (key_row.measures.accounts, key_row.measures.won, key_row.measures.lost) == (2, 12, 24)


def test_crosstab_refuses_bad_choices(cast: Cast, book: Book) -> None:
    with pytest.raises(ValidationFailed) as caught:
        crosstab(viewer=cast.admin, axis_a=book.crm, axis_b=book.crm, period=PERIOD)
    assert caught.value.errors[0].field == "axis_b"
    with pytest.raises(ValidationFailed) as caught:
        crosstab(viewer=cast.admin, axis_a=book.crm, axis_b=book.geo, period=PERIOD, measure="luck")
    assert caught.value.errors[0].field == "measure"
    assert "Unknown measure “luck”" in caught.value.errors[0].message


def test_heatmap_chart_is_ready_for_echarts(cast: Cast, book: Book) -> None:
    tab = crosstab(viewer=cast.admin, axis_a=book.crm, axis_b=book.geo, period=PERIOD)
    chart = heatmap_chart(tab)
    assert chart["kind"] == "heatmap" and chart["name"] == "Win rate"
    assert chart["y_labels"] == ["Salesforce", "HubSpot", "Unsegmented"]
    assert chart["x_labels"] == ["Lille", "Paris", "Unsegmented"]
    assert [0, 0, 0.0] in chart["data"]  # Salesforce × Lille: 0 %
    assert [1, 1, 50.0] in chart["data"]  # HubSpot × Paris: 50 %
    assert [0, 1, "-"] in chart["data"]  # HubSpot × Lille: no closed deal
    assert chart["keys"][0] == [book.salesforce.pk, book.lille.pk]
    assert (chart["min"], chart["max"], chart["suffix"]) == (0.0, 50.0, " %")
    assert chart["flags"] == [
        {
            "x": 0,
            "y": 0,
            "kind": "under",
            "sentence": tab.cell(book.salesforce.pk, book.lille.pk).flag.sentence,
        }  # type: ignore[union-attr]
    ]


# --- access ------------------------------------------------------------------------------------


def test_an_ae_of_another_team_never_counts_the_other_teams_deals(cast: Cast, book: Book) -> None:
    tab = crosstab(viewer=cast.outsider, axis_a=book.crm, axis_b=book.geo, period=PERIOD)
    assert tab.cell(book.salesforce.pk, book.lille.pk).measures.closed == 0
    assert tab.cell(book.salesforce.pk, book.lille.pk).flag is None
    assert tab.cell(book.hubspot.pk, book.paris.pk).measures.closed == 0
    assert (tab.total.won, tab.total.lost, tab.total.open_deals) == (3, 3, 1)
    alice = crosstab(viewer=cast.ae, axis_a=book.crm, axis_b=book.geo, period=PERIOD)
    assert (alice.total.won, alice.total.lost) == (12, 24)


def test_private_accounts_are_not_counted_for_another_team(
    team_private: Any, cast: Cast, book: Book
) -> None:
    result = segment_performance(viewer=cast.outsider, axis=book.crm, period=PERIOD)
    salesforce, hubspot, unsegmented = (row.measures for row in result.rows)
    assert (salesforce.accounts, salesforce.contacts, salesforce.closed) == (1, 0, 6)
    assert (unsegmented.accounts, unsegmented.open_deals) == (1, 1)
    assert (hubspot.accounts, hubspot.closed) == (0, 0)
    assert result.total.accounts == 2
    listed = crosstab_accounts(viewer=cast.outsider, axis_a=book.crm, segment_a=book.salesforce)
    assert [o.legal_name for o in listed] == ["Paris Industrie"]


def test_marketing_counts_deals_but_sees_no_amount(cast: Cast, book: Book) -> None:
    tab = crosstab(viewer=cast.marketer, axis_a=book.crm, axis_b=book.geo, period=PERIOD)
    assert (tab.total.won, tab.total.lost) == (15, 27)
    assert tab.total.revenue_won is None and tab.total.average_deal is None
    assert tab.total.open_amount is None
    assert "revenue_won" not in [m.code for m in measure_choices(cast.marketer)]
    with pytest.raises(PermissionDenied):
        crosstab(
            viewer=cast.marketer,
            axis_a=book.crm,
            axis_b=book.geo,
            period=PERIOD,
            measure="revenue_won",
        )


# --- the accounts of a cell --------------------------------------------------------------------


def test_crosstab_accounts_lists_the_organisations_of_a_cell(cast: Cast, book: Book) -> None:
    def names(**kwargs: Any) -> list[str]:
        return [o.legal_name for o in crosstab_accounts(viewer=cast.admin, **kwargs)]

    assert names(
        axis_a=book.crm, segment_a=book.salesforce, axis_b=book.geo, segment_b=book.lille
    ) == ["Lille Automation"]
    assert names(axis_a=book.crm, segment_a=book.salesforce) == [
        "Lille Automation",
        "Paris Industrie",
    ]
    assert names(axis_a=book.crm, segment_a=None, axis_b=book.geo, segment_b=None) == [
        "Sans Segment"
    ]
    with pytest.raises(ValidationFailed) as caught:
        names(axis_a=book.crm, segment_a=book.lille)
    assert caught.value.errors[0].field == "segment_a"
