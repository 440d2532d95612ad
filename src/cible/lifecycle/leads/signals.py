"""What the lifecycle tells the apps above it (routing, nurture): leads have moved.

`leads_moved` is sent once the transaction that moved them has committed, with `moves`, a list
of `Move`: a lead opened by hand, by a form or by interactions arrives with `from_stage == ""`.
Imports of past history do not send it: nothing is to be routed for a lead that moved years ago.
"""

from __future__ import annotations

from typing import NamedTuple

from django.db import transaction
from django.dispatch import Signal

leads_moved = Signal()


class Move(NamedTuple):
    lead_id: int
    from_stage: str
    to_stage: str
    channel: str


def send_on_commit(moves: list[Move]) -> None:
    if moves:
        transaction.on_commit(lambda: leads_moved.send(sender=Move, moves=moves))
