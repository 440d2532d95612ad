"""What an erasure (privacy app, GDPR art. 17) takes out of the outbox and the bounces.

The rows stay, so that sending figures still add up, but the copies of what was sent (which
name the person), the address and the bounce diagnostics are blanked. Registered with
`privacy.hooks` in `MailingConfig.ready`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cible.nurture.mailing.models import Bounce, OutboundMessage


def erase_people(contact_ids: Sequence[int], scrubber: Any) -> int:
    ids = list(contact_ids)
    changed = OutboundMessage.objects.filter(contact_id__in=ids).update(
        to_email="", subject="", body_text="", body_html="", links=[], last_error=""
    )
    changed += Bounce.objects.filter(contact_id__in=ids).update(email="", diagnostic="")
    return changed
