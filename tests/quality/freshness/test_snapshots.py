"""Daily snapshots: one per day (taking it again replaces it), past days rebuilt from the
records, and trends that cover only what the viewer may see."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps

from cible.core.errors import ValidationFailed
from cible.people import services as people
from cible.quality.freshness import selectors, services, tally, tasks
from cible.quality.freshness.models import QualitySnapshot
from tests.quality.freshness.conftest import TODAY, Base, days_ago

pytestmark = pytest.mark.django_db


def summed(day: dt.date, entity: str, key: str) -> int:
    return sum(s.counts.get(key, 0) for s in QualitySnapshot.objects.filter(day=day, entity=entity))


def test_a_snapshot_is_taken_once_per_day(cast: Any, base: Base) -> None:
    first = services.snapshot_take()
    assert first.day == TODAY
    assert first.replaced == 0
    assert summed(TODAY, "organisation", "stale") == 4
    people.organisation_mark_verified(organisation=base.old_org, actor=cast.ae, channel="ui")
    again = services.snapshot_take()
    assert again.replaced == first.rows
    assert QualitySnapshot.objects.filter(day=TODAY).count() == first.rows
    assert summed(TODAY, "organisation", "stale") == 3
    assert summed(TODAY, "organisation", "total") == 6


def test_the_nightly_task_sweeps_then_snapshots(cast: Any, base: Base) -> None:
    tasks.nightly_sweep_and_snapshot.call_local()
    assert summed(TODAY, "contact", "stale") == 4
    assert {s.owner for s in QualitySnapshot.objects.filter(day=TODAY)} == {cast.ae, cast.outsider}


def test_a_past_day_is_rebuilt_from_the_records(cast: Any, base: Base) -> None:
    day = TODAY - dt.timedelta(days=15)
    services.snapshot_take(day=day)
    # Fifteen days ago Fraîche (verified 10 days ago) had never been verified; Nouvelle (5 days
    # old) did not exist.
    assert summed(day, "organisation", "total") == 5
    assert summed(day, "organisation", "stale:never") == 2
    with pytest.raises(ValidationFailed, match="future"):
        services.snapshot_take(day=TODAY + dt.timedelta(days=1))


def test_trends_cover_the_records_the_viewer_may_see(
    cast: Any, base: Base, team_private: Any
) -> None:
    services.snapshot_take(day=TODAY - dt.timedelta(days=7))
    services.snapshot_take()
    admin_points = selectors.trend(viewer=cast.admin)
    assert [p.day for p in admin_points] == [TODAY - dt.timedelta(days=7), TODAY]
    assert admin_points[-1].counts["organisation"]["total"] == 6
    outsider = type(cast.outsider).objects.get(pk=cast.outsider.pk)
    points = selectors.trend(viewer=outsider)
    assert points[-1].counts["organisation"]["total"] == 1
    assert points[-1].counts["contact"]["stale"] == 1  # Lyonnais only


def test_duplicate_pairs_are_counted_per_owner(cast: Any, base: Base) -> None:
    pair = apps.get_model("duplicates", "DuplicatePair")
    a, b = sorted([base.old_org.pk, base.lyon_org.pk])
    pair.objects.create(
        entity="organisation", record_a=a, record_b=b, score=0.95, detected_at=days_ago(20)
    )
    c, d = sorted([base.never_org.pk, base.new_org.pk])
    pair.objects.create(
        entity="organisation",
        record_a=c,
        record_b=d,
        score=0.9,
        status="not_duplicate",
        detected_at=days_ago(30),
        decided_at=days_ago(3),
    )
    tally.tally_catch_up()
    board = selectors.dashboard(viewer=cast.admin)
    orgs = next(f for f in board.entities if f.entity == "organisation")
    assert orgs.duplicates == 1
    rows = {r.name: r for r in board.owners}
    assert rows["Alice Martin"].duplicates["organisation"] == 1
    assert rows["Olivier Roux"].duplicates["organisation"] == 1  # the pair spans both owners
    # Ten days ago both were open: the second one was decided three days ago.
    services.snapshot_take(day=TODAY - dt.timedelta(days=10))
    past = QualitySnapshot.objects.filter(day=TODAY - dt.timedelta(days=10), entity="organisation")
    assert sum(s.duplicates for s in past) == 2
