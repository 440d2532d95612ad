"""Reads of interactions, always through the viewer's access rights (core.access): an
interaction is seen by whoever may see its organisation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from cible.core import access
from cible.engagement.interactions.models import Interaction

TIMELINE_LIMIT = 50


@dataclass(frozen=True)
class Timeline:
    """One page of a timeline, newest first; `next_before` continues it (None: the end)."""

    entries: list[Interaction]
    next_before: tuple[dt.datetime, int] | None


def interactions(
    viewer: Any,
    *,
    contact: Any = None,
    organisation: Any = None,
    campaign: Any = None,
    kinds: Iterable[str] | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Interaction]:
    """The visible interactions matching the filters, newest first (ties by id)."""
    qs = access.visible(viewer, Interaction.objects.all())
    if contact is not None:
        qs = qs.filter(contact=contact)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if kinds:
        qs = qs.filter(kind__in=list(kinds))
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    return qs.order_by("-occurred_at", "-id")


def timeline(
    user: Any,
    *,
    contact: Any = None,
    organisation: Any = None,
    kinds: Iterable[str] | None = None,
    before: tuple[dt.datetime, int] | None = None,
    limit: int = TIMELINE_LIMIT,
) -> Timeline:
    """A contact's or an organisation's touchpoints, newest first, `limit` at a time.

    One query whatever the page holds: the campaign, the owner and the contact come joined.
    `before` is the (time, id) of the last entry already shown, so that entries sharing a time
    are neither repeated nor skipped.
    """
    qs = interactions(user, contact=contact, organisation=organisation, kinds=kinds)
    if before is not None:
        moment, pk = before
        qs = qs.filter(Q(occurred_at__lt=moment) | Q(occurred_at=moment, id__lt=pk))
    rows = list(qs.select_related("campaign", "owner", "contact")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows and more else None
    return Timeline(rows, (last.occurred_at, last.pk) if last is not None else None)
