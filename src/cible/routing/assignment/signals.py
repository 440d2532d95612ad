"""What routing tells the apps above it (SLA clocks, queues): leads have been assigned.

`leads_assigned` is sent once the transaction that assigned them has committed, with
`assignments`, the list of `Assignment` rows written (one per lead routed or reassigned).
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

from cible.routing.assignment.models import Assignment

leads_assigned = Signal()


def send_on_commit(assignments: list[Assignment]) -> None:
    if assignments:
        transaction.on_commit(
            lambda: leads_assigned.send(sender=Assignment, assignments=assignments)
        )
