"""What an erasure (privacy app, GDPR art. 17) takes out of the leads.

A lead stays — funnels and conversion rates count it — but its qualification notes (free text
typed about the person) and its imported details (`properties`, whatever another system knew)
are scrubbed of the person's values, and the external id that would let someone find them in
that system is cleared. Registered with `privacy.hooks` in `LeadsConfig.ready`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cible.lifecycle.leads.models import Lead


def erase_people(contact_ids: Sequence[int], scrubber: Any) -> int:
    changed = 0
    for lead in Lead.objects.filter(contact_id__in=list(contact_ids)).only(
        "qualification_notes", "properties", "external_id"
    ):
        lead.qualification_notes = scrubber.text(lead.qualification_notes)
        lead.properties = scrubber.json(lead.properties)
        lead.external_id = ""
        lead.save(update_fields=["qualification_notes", "properties", "external_id"])
        changed += 1
    return changed
