"""A rebuild computes an axis from the organisations as it read them, then writes. An edit
committed in between is refreshed at once, and the rebuild's write would put the older answer
back: the rebuild refreshes again, once it has written, what was refreshed meanwhile."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cible.people.services import organisation_update
from cible.segments.axes import rebuild, services
from cible.segments.axes.models import Membership, RefreshMark
from tests import factories
from tests.segments.axes.conftest import placed, segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def edit_between_read_and_write(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`(axis, edit)`: runs `edit` once, after the rebuild has read the organisations for `axis`
    and before it writes that axis's membership."""
    pending: dict[int, Any] = {}
    apply = rebuild._apply

    def late_apply(cursor: Any, axis_id: int, *args: Any) -> Any:
        if axis_id in pending:
            pending.pop(axis_id)()
        return apply(cursor, axis_id, *args)

    monkeypatch.setattr(rebuild, "_apply", late_apply)
    return lambda axis, edit: pending.__setitem__(axis.pk, edit)


def test_an_edit_made_while_a_rebuild_computes_is_not_overwritten(
    cast: Any, edit_between_read_and_write: Any
) -> None:
    acme = factories.organisation(cast.ae, legal_name="Acme", headcount=5)
    assert placed(acme)["size"] == "tpe"
    edit_between_read_and_write(
        segment("size", "tpe").axis,
        lambda: organisation_update(
            organisation=acme, actor=cast.ae, channel="ui", data={"headcount": 120}
        ),
    )

    services.membership_rebuild()

    assert placed(acme)["size"] == "pme"
    assert segment("size", "tpe").member_count == 0
    assert segment("size", "pme").member_count == 1


def test_a_placement_by_hand_made_while_a_rebuild_computes_keeps_the_axis_exclusive(
    cast: Any, edit_between_read_and_write: Any
) -> None:
    size = segment("size", "pme").axis
    strategic = services.segment_create(
        actor=cast.manager, channel="ui", axis=size, data={"name": "Strategic", "kind": "manual"}
    )
    acme = factories.organisation(cast.ae, legal_name="Acme", headcount=42)
    edit_between_read_and_write(
        size,
        lambda: services.segment_add_members(
            segment=strategic, actor=cast.manager, channel="ui", organisation_ids=[acme.pk]
        ),
    )

    services.membership_rebuild()

    in_size = Membership.of_organisations([acme.pk]).filter(axis=size)
    assert list(in_size.values_list("segment__code", flat=True)) == ["strategic"]
    assert segment("size", "pme").member_count == 0


def test_marks_older_than_a_day_are_forgotten_by_the_next_rebuild(cast: Any) -> None:
    acme = factories.organisation(cast.ae, legal_name="Acme", headcount=5)
    RefreshMark.objects.filter(organisation_id=acme.pk).update(
        at=timezone.now() - dt.timedelta(days=2)
    )
    other = factories.organisation(cast.ae, legal_name="Nordis", headcount=5)

    services.membership_rebuild()

    assert set(RefreshMark.objects.values_list("organisation_id", flat=True)) == {other.pk}
