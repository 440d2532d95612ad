"""Emails sent, opened, clicked and bounced, written as interactions (engagement.interactions)
in bulk, so that scoring, campaign responses and the timeline hear of them like any other
touchpoint (`interactions.services.announce` sends `interactions_recorded` on commit).

Idempotent: each event has an id (`<message id>:<what>`) under the source "mailing", and the
interactions' unique (source, event_id) constraint keeps a second open, a retried batch or a
bounce read twice from counting twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction

from cible.engagement.interactions.models import Interaction, InteractionChannel
from cible.engagement.interactions.services import announce
from cible.people.models import Contact

SOURCE = "mailing"
_CHUNK = 1000

# (message, interaction kind, event suffix, when, properties)
Event = tuple[Any, str, str, dt.datetime, dict[str, Any]]


def _organisations(contact_ids: set[int]) -> dict[int, int | None]:
    found: dict[int, int | None] = {}
    ids = list(contact_ids)
    for start in range(0, len(ids), _CHUNK):
        found.update(
            Contact.objects.filter(pk__in=ids[start : start + _CHUNK]).values_list(
                "id", "organisation_id"
            )
        )
    return found


def _stored(event_ids: list[str]) -> set[str]:
    stored: set[str] = set()
    for start in range(0, len(event_ids), _CHUNK):
        stored.update(
            Interaction.objects.filter(
                source=SOURCE, event_id__in=event_ids[start : start + _CHUNK]
            ).values_list("event_id", flat=True)
        )
    return stored


def record_events(
    events: Sequence[Event], *, organisations: dict[int, int | None] | None = None
) -> int:
    """Write the interactions of `events` not written before; returns how many were new."""
    if not events:
        return 0
    if organisations is None:
        organisations = _organisations({m.contact_id for m, *_rest in events})
    rows: dict[str, Interaction] = {}
    for message, kind, suffix, moment, properties in events:
        event_id = f"{message.pk}:{suffix}"[:100]
        if event_id in rows:
            continue
        rows[event_id] = Interaction(
            kind=kind,
            occurred_at=moment,
            contact_id=message.contact_id,
            organisation_id=organisations.get(message.contact_id),
            subject=(message.subject or "")[:255],
            channel=InteractionChannel.TRACKING,
            source=SOURCE,
            event_id=event_id,
            properties={"message": message.pk, **properties},
        )
    stored = _stored(list(rows))
    fresh = [row for event_id, row in rows.items() if event_id not in stored]
    if not fresh:
        return 0
    try:
        with transaction.atomic():
            created = Interaction.objects.bulk_create(fresh, batch_size=500)
            announce(created)
    except IntegrityError:
        # A concurrent request wrote some of them first: keep the others, one by one.
        created = []
        for row in fresh:
            try:
                with transaction.atomic():
                    row.pk = None
                    row.save(force_insert=True)
                    created.append(row)
            except IntegrityError:
                continue
        if created:
            with transaction.atomic():
                announce(created)
    return len(created)
