"""Two duplicate contacts who are both members of one campaign, merged into one (SPEC C2 merge).

The merge moves the loser's memberships to the survivor; where the survivor is already a member
of the same campaign the two rows would clash on `campaign_member_once`. The survivor's row then
takes the best of both, so the campaign's funnel and response figures stay as they were. It is
registered with the duplicates app's merge (`apps.py`); pure apart from the two rows it is
given.
"""

from __future__ import annotations

from cible.engagement.campaigns.models import MEMBER_RANK, CampaignMember, MemberStatus


def combine_members(kept: CampaignMember, dropped: CampaignMember) -> None:
    """Fold `dropped` into `kept` (same campaign, unsaved): the furthest status with the time it
    was reached, the earliest addition and the earliest response."""
    if MEMBER_RANK[MemberStatus(dropped.status)] > MEMBER_RANK[MemberStatus(kept.status)]:
        kept.status = dropped.status
        kept.status_changed_at = dropped.status_changed_at
    kept.added_at = min(kept.added_at, dropped.added_at)
    responses = [at for at in (kept.responded_at, dropped.responded_at) if at is not None]
    kept.responded_at = min(responses) if responses else None
