"""Campaign members' response status moves forward only, set-based."""

from __future__ import annotations

import datetime as dt

import pytest

from cible.engagement.campaigns.models import CampaignMember
from cible.engagement.campaigns.responses import advance_members

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def _member(campaign, contact):
    return CampaignMember.objects.get(campaign=campaign, contact=contact)


def test_a_missing_member_is_created_at_the_status_reached(webinar, jeanne):
    result = advance_members(updates=[(webinar.pk, jeanne.pk, "opened", T0)])
    member = _member(webinar, jeanne)
    assert (result.created, member.status, member.responded_at) == (1, "opened", None)
    assert member.status_changed_at == T0


def test_status_never_moves_back(webinar, jeanne):
    advance_members(updates=[(webinar.pk, jeanne.pk, "clicked", T0)])
    result = advance_members(
        updates=[(webinar.pk, jeanne.pk, "opened", T0 + dt.timedelta(hours=1))]
    )
    member = _member(webinar, jeanne)
    assert (member.status, member.status_changed_at, result.advanced) == ("clicked", T0, 0)


def test_the_furthest_status_of_a_batch_wins_and_responded_at_is_the_first_response(
    webinar, jeanne
):
    later = T0 + dt.timedelta(days=1)
    advance_members(
        updates=[
            (webinar.pk, jeanne.pk, "sent", T0 - dt.timedelta(days=1)),
            (webinar.pk, jeanne.pk, "responded", later),
            (webinar.pk, jeanne.pk, "clicked", T0),
            (webinar.pk, jeanne.pk, "opened", T0 - dt.timedelta(hours=1)),
        ]
    )
    member = _member(webinar, jeanne)
    assert (member.status, member.status_changed_at, member.responded_at) == (
        "responded",
        later,
        T0,  # clicked counts as a response (RESPONDED_FROM)
    )


def test_an_existing_member_moves_forward_and_gets_its_first_response(webinar, jeanne):
    CampaignMember.objects.create(campaign=webinar, contact=jeanne, status="sent")
    result = advance_members(updates=[(webinar.pk, jeanne.pk, "attended", T0)])
    member = _member(webinar, jeanne)
    assert (result.created, result.advanced) == (0, 1)
    assert (member.status, member.responded_at) == ("attended", T0)


def test_many_members_take_a_fixed_number_of_queries(
    webinar, cast, acme, django_assert_max_num_queries
):
    from tests import factories

    people = [
        factories.contact(cast.ae, last_name=f"P{n}", organisation=acme.pk) for n in range(30)
    ]
    CampaignMember.objects.create(campaign=webinar, contact=people[0], status="targeted")
    with django_assert_max_num_queries(8):
        advance_members(updates=[(webinar.pk, p.pk, "clicked", T0) for p in people])
    assert CampaignMember.objects.filter(campaign=webinar, status="clicked").count() == 30
