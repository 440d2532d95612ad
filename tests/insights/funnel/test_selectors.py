"""The funnel's figures over hand-built leads (see conftest.py for the road of each lead)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cible.core.errors import ValidationFailed
from cible.engagement.campaigns.models import Campaign
from cible.insights.funnel import queries
from cible.insights.funnel.selectors import (
    Compare,
    FunnelReport,
    Mode,
    filters_from_params,
    funnel_report,
)
from cible.segments.axes.models import Axis, Membership, Segment
from tests.insights.funnel.conftest import START, YEAR_2025, Road, make_lead

TODAY = dt.date(2026, 1, 15)


def report(viewer: Any, **params: str) -> FunnelReport:
    filters = filters_from_params(params={**YEAR_2025, **params}, today=TODAY)
    return funnel_report(viewer=viewer, filters=filters)


def reached(result: FunnelReport) -> list[int]:
    return [row.reached for row in result.stages]


def by_stage(result: FunnelReport) -> dict[str, Any]:
    return {row.stage: row for row in result.stages}


def test_cohort_counts_every_stage_up_to_the_furthest(cast: Any, road: Road) -> None:
    result = report(cast.admin)
    # L3 jumped from Suspect to MQL: it counts as a Prospect too; L6 arrived in 2024.
    assert reached(result) == [5, 4, 3, 2, 1, 1, 1]
    assert result.leads == 5
    assert result.customers == 1
    assert result.overall == pytest.approx(0.2)


def test_conversions_to_next_and_from_first(cast: Any, road: Road) -> None:
    rows = report(cast.admin).stages
    assert [row.to_next for row in rows[:-1]] == pytest.approx([0.8, 0.75, 2 / 3, 0.5, 1, 1])
    assert rows[-1].to_next is None
    assert [row.from_first for row in rows] == pytest.approx([1, 0.8, 0.6, 0.4, 0.2, 0.2, 0.2])


def test_median_and_p75_days_between_stages_skip_the_jumps(cast: Any, road: Road) -> None:
    stages = by_stage(report(cast.admin))
    # Suspect → Prospect: L1 2 d, L2 4 d, L4 1 d; L3 jumped over Prospect: no time invented.
    to_prospect = stages["suspect"].step
    assert (to_prospect.timed, to_prospect.skipped) == (3, 1)
    assert to_prospect.median_days == pytest.approx(2)
    assert to_prospect.p75_days == pytest.approx(3)
    # Prospect → MQL: L1 3 d, L2 5 d; L3 skipped.
    to_mql = stages["prospect"].step
    assert (to_mql.timed, to_mql.skipped) == (2, 1)
    assert to_mql.median_days == pytest.approx(4)
    assert to_mql.p75_days == pytest.approx(4.5)
    # MQL → SAL: L1 1 d, L3 2 d.
    assert stages["mql"].step.median_days == pytest.approx(1.5)
    assert stages["mql"].step.skipped == 0
    assert stages["opportunity"].step.median_days == pytest.approx(30)
    assert stages["customer"].step is None


def test_where_leads_left_and_who_is_still_there(cast: Any, road: Road) -> None:
    stages = by_stage(report(cast.admin))
    assert stages["suspect"].disqualified == 1
    assert [(r.code, r.count) for r in stages["suspect"].reasons] == [("no_need", 1)]
    assert stages["suspect"].reasons[0].label == "No need"
    assert stages["prospect"].recycled == 1
    assert stages["prospect"].reasons[0].label == "Not ready to buy yet"
    assert [row.still_here for row in stages.values()] == [0, 0, 1, 1, 0, 0, 0]
    assert stages["mql"].lost == 0


def test_a_stage_never_entered_has_no_time(cast: Any, db: Any) -> None:
    make_lead(owner=cast.ae, source="website", path=[("suspect", 0), ("mql", 1)])
    stages = by_stage(report(cast.admin))
    assert stages["suspect"].step.timed == 0
    assert stages["suspect"].step.skipped == 1
    assert stages["suspect"].step.median_days is None
    assert stages["prospect"].reached == 1


def test_comparison_by_source(cast: Any, road: Road) -> None:
    groups = {group.key: group for group in report(cast.admin).groups}
    assert groups["website"].reached == (3, 2, 2, 1, 1, 1, 1)
    assert groups["website"].label == "Website"
    assert groups["event"].reached == (2, 2, 1, 1, 0, 0, 0)
    assert groups["event"].to_next[:3] == pytest.approx((1.0, 0.5, 1.0))
    assert groups["event"].overall == 0
    assert [group.key for group in report(cast.admin).groups] == ["website", "event"]


def test_comparison_by_campaign(cast: Any, db: Any) -> None:
    spring = Campaign.objects.create(name="Spring webinar", type="webinar")
    path = [("suspect", 0), ("prospect", 1)]
    make_lead(owner=cast.ae, source="webinar", path=path, campaign=spring)
    make_lead(owner=cast.ae, source="webinar", path=path[:1], campaign=spring)
    make_lead(owner=cast.ae, source="website", path=path)
    groups = {g.label: g for g in report(cast.admin, compare="campaign").groups}
    assert groups["Spring webinar"].reached[:2] == (2, 1)
    assert groups["No campaign"].reached[:2] == (1, 1)


def test_filters_by_source_campaign_owner_and_segment(cast: Any, road: Road) -> None:
    assert reached(report(cast.admin, source="event")) == [2, 2, 1, 1, 0, 0, 0]
    assert report(cast.admin, owner=str(cast.ae2.pk)).leads == 0
    assert report(cast.admin, owner=str(cast.ae.pk)).leads == 5
    axis = Axis.objects.create(name="Key accounts", code="key", exclusive=False)
    key = Segment.objects.create(axis=axis, name="Key", code="key", kind="manual")
    Membership.objects.create(segment=key, organisation=road.acme, axis=axis, since=START)
    assert reached(report(cast.admin, segment=str(key.pk))) == [2, 2, 2, 2, 1, 1, 1]
    spring = Campaign.objects.create(name="Spring", type="webinar")
    assert report(cast.admin, campaign=str(spring.pk)).leads == 0


def test_activity_counts_the_leads_that_moved_in_the_period(cast: Any, road: Road) -> None:
    # L6 arrived in 2024 but became an MQL in March 2025.
    assert reached(report(cast.admin, mode="activity")) == [6, 5, 4, 2, 1, 1, 1]
    march_2024 = {"period": "custom", "start": "2024-03-01", "end": "2024-03-31"}
    result = report(cast.admin, mode="activity", **march_2024)
    assert reached(result) == [1, 1, 1, 0, 0, 0, 0]
    assert result.stages[0].step.median_days == pytest.approx(0.5)
    assert report(cast.admin, **march_2024).leads == 1  # arrival: L6 arrived then


def test_activity_counts_moves_off_the_road_and_back_not_only_first_entries(
    cast: Any, road: Road
) -> None:
    before = report(cast.admin, mode="activity", source="event").leads
    # All three reached every road stage they ever will in 2024. In 2025 the first was only
    # recycled, the second came back from Recycled to MQL (an MQL since 2024: no first entry),
    # the third did nothing.
    old = dt.datetime(2024, 2, 1, 10, tzinfo=dt.UTC)
    for path in (
        [("prospect", 0), ("mql", 3), ("recycled", 400)],
        [("prospect", 0), ("mql", 3), ("recycled", 30), ("mql", 420)],
        [("prospect", 0), ("mql", 3)],
    ):
        make_lead(owner=cast.ae, source="event", arrived=old, path=path, reason="not_ready")
    assert report(cast.admin, mode="activity", source="event").leads == before + 2


def test_team_private_leads_are_not_counted_for_an_outsider(
    cast: Any, road: Road, team_private: Any
) -> None:
    make_lead(owner=cast.outsider, source="referral", path=[("suspect", 0)])
    assert report(cast.ae).leads == 5
    assert "referral" not in {group.key for group in report(cast.ae).groups}
    assert report(cast.outsider).leads == 1
    assert report(cast.admin).leads == 6


def test_query_count_does_not_grow_with_the_leads(
    cast: Any, road: Road, django_assert_max_num_queries: Any
) -> None:
    # The access policy (read once, with its savepoint), the funnel statement, the campaigns'
    # names: the same six at most for 5 leads or 25.
    with django_assert_max_num_queries(6):
        assert report(cast.ae, compare="campaign").leads == 5
    for _ in range(20):
        make_lead(owner=cast.ae, source="partner", path=[("suspect", 0), ("prospect", 3)])
    with django_assert_max_num_queries(6):
        assert report(cast.ae, compare="campaign").leads == 25
    with django_assert_max_num_queries(6):
        assert report(cast.ae, mode="activity").leads == 26


@pytest.mark.django_db(transaction=True)
def test_a_large_read_split_over_two_connections_counts_the_same(
    cast: Any, road: Road, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside a transaction, a scan over a wide id range is read in two halves at once.
    whole = report(cast.admin, mode="activity")
    monkeypatch.setattr(queries, "SPLIT_FROM", 1)
    halves: list[int] = []
    concatenate = queries._concatenate
    monkeypatch.setattr(
        queries, "_concatenate", lambda parts: halves.append(len(parts)) or concatenate(parts)
    )
    split = report(cast.admin, mode="activity")
    assert halves == [2]
    assert reached(split) == reached(whole) == [6, 5, 4, 2, 1, 1, 1]
    assert [s.step for s in split.stages] == [s.step for s in whole.stages]


def test_bad_filters_are_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        filters_from_params(
            params={
                "period": "custom",
                "start": "2025-13-01",
                "end": "2025-01-01",
                "mode": "both",
                "source": "tv",
                "campaign": "x",
            },
            today=TODAY,
        )
    fields = {error.field for error in caught.value.errors}
    assert fields == {"start", "mode", "source", "campaign"}


def test_default_filters(db: Any) -> None:
    filters = filters_from_params(params={}, today=TODAY)
    assert filters.mode == Mode.ARRIVAL
    assert filters.compare == Compare.SOURCE
    assert filters.period.end == TODAY


def test_few_leads_among_many_are_read_through_the_index(cast: Any, db: Any) -> None:
    """Two leads of Basile's at both ends of 60 ids: their transitions are read by lead
    (queries.SPARSE), with the same figures as a scan would give."""
    path = [("suspect", 0), ("prospect", 1), ("mql", 4)]
    make_lead(owner=cast.ae2, source="event", path=path)
    for _ in range(58):
        make_lead(owner=cast.ae, source="website", path=[("suspect", 0)])
    make_lead(owner=cast.ae2, source="event", path=path[:2])
    result = report(cast.admin, owner=str(cast.ae2.pk))
    assert reached(result) == [2, 2, 1, 0, 0, 0, 0]
    assert result.stages[0].step.median_days == pytest.approx(1)
    assert result.stages[1].step.median_days == pytest.approx(3)


def test_comparison_keeps_the_biggest_groups_and_sums_the_others(cast: Any, db: Any) -> None:
    sources = ["website", "event", "webinar", "referral", "partner", "social", "advertising"]
    sources += ["outbound", "inbound_call", "purchased_list"]
    for count, source in enumerate(sources, start=1):
        for _ in range(count if count > 2 else 1):
            make_lead(owner=cast.ae, source=source, path=[("suspect", 0), ("prospect", 1)])
    groups = report(cast.admin).groups
    assert len(groups) == 9
    assert groups[0].key == "purchased_list" and groups[0].leads == 10
    assert groups[-1].label == "Others (2)"
    assert groups[-1].reached[:2] == (2, 2)  # website and event, one lead each
