"""What people tell the apps above them (ARCHITECTURE.md: lower apps send signals).

`email_opted_out` is sent once the transaction that opted contacts out of email has committed,
with `contact_ids` (a list): the nurture incubator lets them go at once rather than at the end of
a wait. The privacy app sends it, whichever way the opt-out came (an unsubscribe link, a
consent recorded, the contact form or API).
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

email_opted_out = Signal()


def send_email_opted_out_on_commit(contact_ids: list[int]) -> None:
    if contact_ids:
        transaction.on_commit(lambda: email_opted_out.send(sender=None, contact_ids=contact_ids))
