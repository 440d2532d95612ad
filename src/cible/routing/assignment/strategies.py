"""Who in a team gets the next lead: round robin, weighted by capacity, least loaded. No database.

Each strategy is a function of the team's member states, read under the team's row locks
(engine.py), so two processes never pick from the same counters at once. A member is eligible
when available, not away on the day, and holding fewer open leads than their capacity.
`take` moves the chosen member's counters in memory; the engine writes them back in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _


@dataclass
class MemberState:
    id: int
    user_id: int
    name: str
    capacity: int
    assigned: int  # leads given by rotation so far (round robin and weighted fairness)
    load: int  # open leads held now
    available: bool = True
    away_from: dt.date | None = None
    away_until: dt.date | None = None
    taken: int = 0  # given in this batch (written back as assigned += taken)

    def away_on(self, day: dt.date) -> bool:
        if self.away_from is None and self.away_until is None:
            return False
        return (self.away_from or dt.date.min) <= day <= (self.away_until or dt.date.max)

    def unavailable_why(self, day: dt.date) -> str:
        """Why this member cannot take a lead on `day`, or "" if they can."""
        if not self.available:
            return _("%(name)s unavailable") % {"name": self.name}
        if self.away_on(day):
            if self.away_until is None:
                return _("%(name)s away") % {"name": self.name}
            return _("%(name)s away until %(day)s") % {
                "name": self.name,
                "day": date_format(self.away_until, "SHORT_DATE_FORMAT"),
            }
        if self.load >= self.capacity:
            return _("%(name)s at capacity (%(load)s of %(capacity)s)") % {
                "name": self.name,
                "load": self.load,
                "capacity": self.capacity,
            }
        return ""

    def take(self) -> None:
        self.assigned += 1
        self.load += 1
        self.taken += 1


def _round_robin(members: Sequence[MemberState]) -> MemberState:
    # The member furthest behind in the rotation; the longest-standing member first on a tie.
    return min(members, key=lambda m: (m.assigned, m.id))


def _weighted(members: Sequence[MemberState]) -> MemberState:
    # Smooth weighted rotation: the member whose next lead keeps them closest to their share.
    return min(members, key=lambda m: ((m.assigned + 1) / max(m.capacity, 1), m.id))


def _least_loaded(members: Sequence[MemberState]) -> MemberState:
    return min(members, key=lambda m: (m.load, m.assigned, m.id))


STRATEGIES: dict[str, Callable[[Sequence[MemberState]], MemberState]] = {
    "round_robin": _round_robin,
    "weighted": _weighted,
    "least_loaded": _least_loaded,
}


def pick(method: str, members: Sequence[MemberState], day: dt.date) -> MemberState | None:
    """The member `method` gives the next lead to, or None when nobody can take one."""
    eligible = [m for m in members if not m.unavailable_why(day)]
    if not eligible:
        return None
    return STRATEGIES[method](eligible)
