"""Counts and member lists follow each viewer's access: a user counts what they may see."""

from __future__ import annotations

from typing import Any

import pytest

from cible.core.errors import NotFound
from cible.people.models import Organisation
from cible.segments.axes import selectors
from tests import factories
from tests.segments.axes.conftest import segment

pytestmark = pytest.mark.django_db


@pytest.fixture
def lille_pmes(cast: Any) -> dict[str, Any]:
    """Three PMEs in Lille: Alice's (AE Paris), Olivier's (AE Lyon) and an unowned one."""
    return {
        "alice": factories.organisation(
            cast.ae, legal_name="Acme", postal_code="59000", headcount=42
        ),
        "olivier": factories.organisation(
            cast.outsider, legal_name="Lyon Outsider", postal_code="59800", headcount=60
        ),
        "nobody": unowned(
            factories.organisation(cast.admin, legal_name="Free", postal_code="59000", headcount=15)
        ),
    }


def unowned(organisation: Any) -> Any:
    Organisation.objects.filter(pk=organisation.pk).update(owner=None)
    return organisation


def test_segment_members_for_an_ae_show_only_visible_organisations(
    cast: Any, team_private: Any, lille_pmes: dict[str, Any]
) -> None:
    pme = segment("size", "pme")
    names = lambda user: sorted(  # noqa: E731
        o.legal_name for o in selectors.segment_members(viewer=user, segment=pme)
    )
    assert names(cast.ae) == ["Acme", "Free"]
    assert names(cast.outsider) == ["Free", "Lyon Outsider"]
    assert names(cast.admin) == ["Acme", "Free", "Lyon Outsider"]
    assert selectors.segment_count(viewer=cast.ae, segment=pme) == 2
    assert selectors.segment_count(viewer=cast.admin, segment=pme) == 3


def test_axis_counts_match_the_lists_for_every_viewer(
    cast: Any, team_private: Any, lille_pmes: dict[str, Any]
) -> None:
    for user in (cast.ae, cast.outsider, cast.marketer, cast.admin):
        for summary in selectors.axis_list(viewer=user):
            for item in summary.segments:
                members = selectors.segment_members(viewer=user, segment=item.segment)
                assert item.count == members.count(), (user, item.name)
    by_code = {
        item.segment.code: item.count
        for summary in selectors.axis_list(viewer=cast.ae)
        for item in summary.segments
    }
    assert by_code["lille"] == 2 and by_code["pme"] == 2 and by_code["paca"] == 0


def test_shared_base_counts_use_the_stored_counts(
    cast: Any, lille_pmes: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(6):  # not one per segment
        axes = selectors.axis_list(viewer=cast.ae)
    assert {i.segment.code: i.count for a in axes for i in a.segments}["lille"] == 3


def test_organisation_segments_in_axis_order(cast: Any, lille_pmes: dict[str, Any]) -> None:
    acme = lille_pmes["alice"]
    found = selectors.organisation_segments(viewer=cast.ae, organisation=acme)
    assert [(s.axis.code, s.code) for s in found] == [
        ("geography", "lille"),
        ("size", "pme"),
        ("installed-crm", "no-crm"),
    ]


def test_unknown_ids_are_not_found(cast: Any) -> None:
    with pytest.raises(NotFound, match="No segment #999999"):
        selectors.segment_get(viewer=cast.ae, pk=999999)
    with pytest.raises(NotFound):
        selectors.axis_get(viewer=cast.ae, pk="abc")
