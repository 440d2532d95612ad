"""Counts from segment member sets held in memory (`segments.axes.bitsets`): the sets follow
every membership change, and a count through them equals the database's answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cible.people.services import organisation_delete, organisation_update
from cible.segments.axes import bitsets, services
from cible.segments.axes.bitsets import MemberSet
from cible.segments.axes.membership import membership_rebuild
from cible.segments.axes.models import Axis, Segment
from cible.segments.targets import selectors
from cible.segments.targets.services import target_create
from tests.segments.targets.world import Base, fresh, seed_002_definition, segment


def ids(*values: int) -> MemberSet:
    return MemberSet.of(np.array(values, dtype=np.int64))


def test_union_and_intersection_of_sets_of_different_lengths() -> None:
    small, large = ids(1, 5, 9), ids(2, 5, 700)
    assert (small | large).ids().tolist() == [1, 2, 5, 9, 700]
    assert (large | small).ids().tolist() == [1, 2, 5, 9, 700]
    assert (small & large).ids().tolist() == [5]
    assert (large & small).ids().tolist() == [5]
    assert len(small | large) == 5 and len(small & ids(3)) == 0
    assert len(ids()) == 0 and (ids() | small).ids().tolist() == [1, 5, 9]


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Sets kept between counts, as in autocommit mode (a test runs inside a transaction)."""
    bitsets.forget()
    monkeypatch.setattr(bitsets, "_may_keep", lambda: True)
    yield
    bitsets.forget()


def versions(*segment_ids: int) -> list[int]:
    by_id = dict(Segment.objects.values_list("pk", "members_version"))
    return [by_id[pk] for pk in segment_ids]


def test_every_kind_of_membership_write_moves_the_versions_of_its_segments(
    cast: Any, base: Base
) -> None:
    eleven, over_20, lille = (
        segment("sales-team", "11-20"),
        segment("sales-team", "over-20"),
        segment("geography", "lille"),
    )
    before = versions(eleven, over_20, lille)
    # An edit that moves Nordis from 11–20 to > 20: both segments change, Lille does not.
    organisation_update(
        organisation=base.nordis, actor=cast.admin, channel="ui", data={"sales_team_size": 25}
    )
    after_edit = versions(eleven, over_20, lille)
    assert after_edit[0] > before[0] and after_edit[1] > before[1] and after_edit[2] == before[2]
    # A deleted organisation leaves its segments.
    organisation_delete(organisation=base.petit_lille, actor=cast.admin, channel="ui")
    assert versions(lille)[0] > after_edit[2]
    # A rebuild rewrites the segments it rebuilds.
    after_delete = versions(eleven)
    membership_rebuild(segment_ids=[eleven])
    assert versions(eleven)[0] > after_delete[0]
    # Placements by hand in a manual segment.
    axis = Axis.objects.create(code="key-accounts", name="Key accounts", exclusive=False)
    manual = services.segment_create(
        actor=cast.admin, channel="ui", axis=axis, data={"name": "Strategic", "kind": "manual"}
    )
    placed = versions(manual.pk)[0]
    services.segment_add_members(
        segment=manual, actor=cast.admin, channel="ui", organisation_ids=[base.hubert.pk]
    )
    assert versions(manual.pk)[0] > placed


def test_a_kept_count_follows_an_edit_and_a_deletion(cast: Any, base: Base, kept: None) -> None:
    definition = seed_002_definition()
    assert selectors.target_count(viewer=cast.admin, definition=definition).count == 2
    assert bitsets._held, "the sets read were kept"
    # Parisia's sales team shrinks to 3: it leaves "> 20", and the kept set must follow.
    organisation_update(
        organisation=base.parisia, actor=cast.admin, channel="ui", data={"sales_team_size": 3}
    )
    assert selectors.target_count(viewer=cast.admin, definition=definition).count == 1
    organisation_delete(organisation=base.nordis, actor=cast.admin, channel="ui")
    assert selectors.target_count(viewer=cast.admin, definition=definition).count == 0


def test_sets_read_inside_a_transaction_are_not_kept(cast: Any, base: Base) -> None:
    bitsets.forget()
    assert selectors.target_count(viewer=cast.admin, definition=seed_002_definition()).count == 2
    assert not bitsets._held


def test_a_segment_deleted_since_it_was_kept_counts_nobody(
    cast: Any, base: Base, kept: None
) -> None:
    hubspot = Segment.objects.get(axis__code="installed-crm", code="hubspot")
    target = target_create(
        actor=cast.admin,
        channel="ui",
        data={"name": "HubSpot users", "definition": {"segments": [hubspot.pk]}},
    )
    assert selectors.target_count(viewer=cast.admin, target=target).count == 1
    services.segment_delete(segment=hubspot, actor=cast.admin, channel="ui")
    assert selectors.target_count(viewer=cast.admin, target=target).count == 0


AXES = ("geography", "sales-team", "installed-crm", "size")
CONDITIONS = (
    None,
    {"match": "all", "conditions": [{"field": "headcount", "op": "gte", "value": 100}]},
    {"match": "any", "conditions": [{"field": "city", "op": "equals", "value": "Lille"}]},
)
CONTACTS = {"match": "all", "conditions": [{"field": "function", "op": "in", "value": ["sales"]}]}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_a_count_from_the_sets_equals_the_databases_count(
    cast: Any, base: Base, team_private: Any, data: Any
) -> None:
    """Random segments of random axes, a field condition or not, each level, three viewers:
    the count (from the sets) equals the count of the listed records (the database's plan
    over the membership indexes)."""
    segments: dict[str, list[int]] = {}
    for axis in data.draw(st.lists(st.sampled_from(AXES), min_size=1, max_size=3, unique=True)):
        choices = sorted(Segment.objects.filter(axis__code=axis).values_list("pk", flat=True))
        segments[axis] = data.draw(st.lists(st.sampled_from(choices), min_size=1, unique=True))
    level = data.draw(st.sampled_from(["organisation", "contact"]))
    definition = {
        "segments": segments,
        "organisation": data.draw(st.sampled_from(CONDITIONS)),
        "contact": CONTACTS if level == "contact" else None,
    }
    viewer = fresh(data.draw(st.sampled_from([cast.admin, cast.ae, cast.outsider])))
    counted = selectors.target_count(viewer=viewer, definition=definition, level=level)
    listed = selectors.target_queryset(viewer=viewer, definition=definition, level=level)
    assert counted.count == listed.count(), definition
