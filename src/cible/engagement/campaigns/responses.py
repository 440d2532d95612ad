"""Campaign members' response status, moved by what contacts do (SPEC C4 "members and their
response status").

Interactions arrive by the thousand (event ingestion), so members are advanced set-based: a few
queries per call whatever its size. A status only moves forward (`MEMBER_RANK`): a member who
clicked and then opens another email is still "clicked", even when the events arrive out of order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from django.db import transaction
from django.db.models import Q

from cible.engagement.campaigns.models import (
    MEMBER_RANK,
    RESPONDED_FROM,
    CampaignMember,
    MemberStatus,
)

Update = tuple[int, int, str, dt.datetime]  # (campaign_id, contact_id, status, at)
_CHUNK = 400  # pairs per query: two parameters each, well under SQLite's limits


@dataclass
class _Target:
    status: str
    at: dt.datetime
    responded_at: dt.datetime | None


@dataclass(frozen=True)
class AdvanceResult:
    created: int
    advanced: int


def _rank(status: str) -> int:
    return MEMBER_RANK[MemberStatus(status)]


def _targets(updates: Iterable[Update]) -> dict[tuple[int, int], _Target]:
    """The furthest status each member reaches, and when they first responded."""
    threshold = _rank(RESPONDED_FROM)
    targets: dict[tuple[int, int], _Target] = {}
    for campaign_id, contact_id, status, at in updates:
        rank = _rank(status)  # KeyError/ValueError for an unknown status: a caller's bug
        responded = at if rank >= threshold else None
        key = (campaign_id, contact_id)
        known = targets.get(key)
        if known is None:
            targets[key] = _Target(status, at, responded)
            continue
        known_rank = _rank(known.status)
        if rank > known_rank or (rank == known_rank and at < known.at):
            known.status, known.at = status, at
        if responded is not None and (known.responded_at is None or responded < known.responded_at):
            known.responded_at = responded
    return targets


def _chunks(keys: list[tuple[int, int]]) -> Iterable[list[tuple[int, int]]]:
    it = iter(keys)
    while chunk := list(islice(it, _CHUNK)):
        yield chunk


def _pairs_filter(pairs: list[tuple[int, int]]) -> Q:
    by_campaign: dict[int, list[int]] = {}
    for campaign_id, contact_id in pairs:
        by_campaign.setdefault(campaign_id, []).append(contact_id)
    condition = Q(pk__in=[])
    for campaign_id, contact_ids in by_campaign.items():
        condition |= Q(campaign_id=campaign_id, contact_id__in=contact_ids)
    return condition


@transaction.atomic
def advance_members(*, updates: Iterable[Update]) -> AdvanceResult:
    """Create missing members and move each one's status forward to what `updates` prove.

    Missing members are inserted with `ignore_conflicts`, so a member created meanwhile by a
    concurrent call is not an error; every member is then read under a row lock and advanced,
    so two calls racing on one member end with the furthest status either of them saw.
    """
    targets = _targets(updates)
    if not targets:
        return AdvanceResult(0, 0)
    keys = sorted(targets)
    existing: set[tuple[int, int]] = set()
    for chunk in _chunks(keys):
        existing.update(
            CampaignMember.objects.filter(_pairs_filter(chunk)).values_list(
                "campaign_id", "contact_id"
            )
        )
    missing = [key for key in keys if key not in existing]
    CampaignMember.objects.bulk_create(
        [
            CampaignMember(
                campaign_id=campaign_id,
                contact_id=contact_id,
                status=targets[(campaign_id, contact_id)].status,
                added_at=targets[(campaign_id, contact_id)].at,
                status_changed_at=targets[(campaign_id, contact_id)].at,
                responded_at=targets[(campaign_id, contact_id)].responded_at,
            )
            for campaign_id, contact_id in missing
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    changed: list[CampaignMember] = []
    for chunk in _chunks(keys):
        members = CampaignMember.objects.select_for_update().filter(_pairs_filter(chunk))
        for member in members.order_by("pk"):
            target = targets[(member.campaign_id, member.contact_id)]
            dirty = False
            if _rank(target.status) > _rank(member.status):
                member.status, member.status_changed_at = target.status, target.at
                dirty = True
            if target.responded_at is not None and (
                member.responded_at is None or target.responded_at < member.responded_at
            ):
                member.responded_at = target.responded_at
                dirty = True
            if dirty:
                changed.append(member)
    CampaignMember.objects.bulk_update(
        changed, ["status", "status_changed_at", "responded_at"], batch_size=300
    )
    return AdvanceResult(created=len(missing), advanced=len(changed))
