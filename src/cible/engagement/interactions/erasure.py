"""What an erasure (privacy app, GDPR art. 17) takes out of the interactions.

The rows stay — funnels, campaign figures and scores count them — but nothing in them names the
person any more: their notes and subjects lose the person's values, their details (`properties`:
pages, messages, what a website sent) are scrubbed, and the sender's key (an email) is cleared.
Events stored before the person was known (no contact yet, the email as `visitor_key`) are theirs
too and are treated the same. Registered with `privacy.hooks` in `InteractionsConfig.ready`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from cible.engagement.interactions.models import Interaction


def _keys(values: Sequence[str]) -> set[str]:
    """The person's emails as ingestion stores them in `visitor_key` (trimmed, lower case)."""
    return {value.strip().lower() for value in values if "@" in value}


def erase_people(contact_ids: Sequence[int], scrubber: Any) -> int:
    theirs = Q(contact_id__in=list(contact_ids))
    visitors = _keys(scrubber.identifying)
    if visitors:
        theirs |= Q(visitor_key__in=visitors)
    changed = 0
    for row in Interaction.objects.filter(theirs).only("subject", "notes", "properties"):
        row.subject = scrubber.text(row.subject)
        row.notes = scrubber.text(row.notes)
        row.properties = scrubber.json(row.properties)
        row.visitor_key = ""
        row.save(update_fields=["subject", "notes", "properties", "visitor_key"])
        changed += 1
    return changed
