"""What an erasure (privacy app, GDPR art. 17) takes out of the web forms' submissions.

A submission keeps what the visitor sent, as sent: their name, email, phone, message. When the
person is anonymised their submissions keep only what counts them (form, time, outcome): the
data sent, the page and the sender's hash are emptied; the consent text shown stays, since it
names nobody. Submissions refused before any contact was matched (a robot, a missing consent)
are theirs when their data holds one of the person's identifying values. Registered with
`privacy.hooks` in `CaptureConfig.ready`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from cible.engagement.capture.models import FormSubmission

# Refused submissions are searched for the person's values only for a person's own request, not
# for a retention batch of thousands.
SEARCH_LIMIT = 100


def _names_them(data: Any, identifying: Sequence[str]) -> bool:
    text = json.dumps(data, ensure_ascii=False).lower()
    return any(value.lower() in text for value in identifying)


def erase_people(contact_ids: Sequence[int], scrubber: Any) -> int:
    theirs = Q(contact_id__in=list(contact_ids))
    unmatched: list[int] = []
    if len(contact_ids) <= SEARCH_LIMIT and scrubber.identifying:
        unmatched = [
            submission.pk
            for submission in FormSubmission.objects.filter(contact__isnull=True).only("data")
            if _names_them(submission.data, scrubber.identifying)
        ]
    if unmatched:
        theirs |= Q(pk__in=unmatched)
    return FormSubmission.objects.filter(theirs).update(
        data={}, utm={}, page_url="", sender_hash="", reason=""
    )
