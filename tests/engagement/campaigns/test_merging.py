"""Folding two memberships of one campaign into one, for a contact merge."""

from __future__ import annotations

import datetime as dt

from cible.engagement.campaigns.merging import combine_members
from cible.engagement.campaigns.models import CampaignMember

T0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


def member(status: str, added: int, changed: int, responded: int | None) -> CampaignMember:
    return CampaignMember(
        status=status,
        added_at=T0 + dt.timedelta(days=added),
        status_changed_at=T0 + dt.timedelta(days=changed),
        responded_at=None if responded is None else T0 + dt.timedelta(days=responded),
    )


def test_the_survivor_keeps_the_furthest_status_and_the_earliest_times() -> None:
    kept = member("opened", added=2, changed=3, responded=None)
    dropped = member("attended", added=1, changed=9, responded=5)
    combine_members(kept, dropped)
    assert kept.status == "attended"
    assert kept.status_changed_at == T0 + dt.timedelta(days=9)
    assert kept.added_at == T0 + dt.timedelta(days=1)
    assert kept.responded_at == T0 + dt.timedelta(days=5)


def test_a_lesser_status_does_not_pull_the_survivor_back() -> None:
    kept = member("clicked", added=1, changed=4, responded=4)
    dropped = member("sent", added=3, changed=3, responded=None)
    combine_members(kept, dropped)
    assert (kept.status, kept.status_changed_at) == ("clicked", T0 + dt.timedelta(days=4))
    assert kept.added_at == T0 + dt.timedelta(days=1)
    assert kept.responded_at == T0 + dt.timedelta(days=4)


def test_merging_two_members_of_one_campaign_folds_them_and_undo_splits_them(cast) -> None:
    from cible.engagement.campaigns.models import Campaign
    from cible.quality.duplicates import merge
    from tests import factories

    webinar = Campaign.objects.create(name="Webinar CRM", type="webinar")
    newsletter = Campaign.objects.create(name="Newsletter", type="email")
    anne = factories.contact(cast.ae, first_name="Anne", last_name="Roy", email="anne@roy.fr")
    again = factories.contact(cast.ae, first_name="Anne", last_name="ROY", email="anne@roy.fr")
    kept = CampaignMember.objects.create(campaign=webinar, contact=anne, status="sent", added_at=T0)
    CampaignMember.objects.create(
        campaign=webinar,
        contact=again,
        status="attended",
        added_at=T0 + dt.timedelta(days=2),
        responded_at=T0 + dt.timedelta(days=3),
    )
    CampaignMember.objects.create(campaign=newsletter, contact=again, status="opened", added_at=T0)

    record = merge.records_merge(
        entity="contact", survivor=anne, loser=again, actor=cast.ae, channel="ui"
    )

    members = {
        m.campaign.name: (m.contact_id, m.status, m.responded_at)
        for m in CampaignMember.objects.select_related("campaign")
    }
    assert members == {
        "Webinar CRM": (anne.pk, "attended", T0 + dt.timedelta(days=3)),
        "Newsletter": (anne.pk, "opened", None),
    }

    merge.merge_undo(merge=record, actor=cast.ae, channel="ui")

    rows = sorted(
        (m.campaign.name, m.contact_id, m.status)
        for m in CampaignMember.objects.select_related("campaign")
    )
    assert rows == sorted(
        [
            ("Webinar CRM", anne.pk, "sent"),
            ("Webinar CRM", again.pk, "attended"),
            ("Newsletter", again.pk, "opened"),
        ]
    )
    assert CampaignMember.objects.get(pk=kept.pk).status == "sent"
