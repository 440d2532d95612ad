"""The timeline: newest first, paged without gaps, one query, through the access policy."""

from __future__ import annotations

import datetime as dt

import pytest

from cible.engagement.interactions.selectors import timeline
from cible.engagement.interactions.services import record_interaction

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def _log(actor, contact, n, **extra):
    return record_interaction(
        kind=extra.pop("kind", "call"),
        contact=contact,
        occurred_at=T0 + dt.timedelta(hours=n // 2),  # pairs share a time: ties are paged by id
        channel="ui",
        actor=actor,
        **extra,
    )


def test_newest_first_and_paged_without_repeats_or_gaps(cast, jeanne):
    logged = [_log(cast.ae, jeanne, n) for n in range(7)]
    seen: list[int] = []
    page = timeline(cast.ae, contact=jeanne, limit=3)
    seen += [i.pk for i in page.entries]
    while page.next_before is not None:
        page = timeline(cast.ae, contact=jeanne, limit=3, before=page.next_before)
        seen += [i.pk for i in page.entries]
    expected = [i.pk for i in sorted(logged, key=lambda i: (i.occurred_at, i.pk), reverse=True)]
    assert seen == expected


def test_kind_filter(cast, jeanne):
    _log(cast.ae, jeanne, 1)
    meeting = _log(cast.ae, jeanne, 2, kind="meeting", outcome="held")
    assert [i.pk for i in timeline(cast.ae, contact=jeanne, kinds=["meeting"]).entries] == [
        meeting.pk
    ]


def test_the_organisation_timeline_shows_what_its_people_did(cast, jeanne, acme):
    call = _log(cast.ae, jeanne, 1)
    assert [i.pk for i in timeline(cast.ae, organisation=acme).entries] == [call.pk]


def test_one_query_whatever_the_page_holds(cast, jeanne, webinar, django_assert_num_queries):
    for n in range(20):
        _log(cast.ae, jeanne, n, kind="webinar", campaign=webinar, owner=cast.ae2)
    with django_assert_num_queries(1):
        page = timeline(cast.ae, contact=jeanne, limit=10)
        labels = [(i.campaign.name, i.owner.username, i.contact.last_name) for i in page.entries]
    assert labels[0] == ("Webinar CRM 2026", "basile", "Dupont")


def test_an_outsider_does_not_see_a_team_private_accounts_interactions(
    cast, jeanne, acme, team_private
):
    _log(cast.ae, jeanne, 1)
    assert timeline(cast.ae2, contact=jeanne).entries != []  # a teammate sees it
    assert timeline(cast.outsider, contact=jeanne).entries == []
    assert timeline(cast.outsider, organisation=acme).entries == []
