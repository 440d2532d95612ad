"""Hand-built leads with their transitions, so that every figure of the funnel is known.

The road of 2025 (`road` fixture), all arrived on 1 March 2025 at 10:00 UTC, days after it:

- L1 website: Suspect 0 → Prospect 2 → MQL 5 → SAL 6 → SQL 10 → Opportunity 20 → Customer 50
- L2 website: Suspect 0 → Prospect 4 → MQL 9 (still an MQL)
- L3 event:   Suspect 0 → MQL 3 (a jump over Prospect) → SAL 5 (still a SAL)
- L4 event:   Suspect 0 → Prospect 1 → Recycled 3 ("not ready")
- L5 website: Suspect 0 → Disqualified 1 ("no need")
- L6 website, arrived in 2024: Suspect → Prospect on 1 March 2024 → MQL on 10 March 2025
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from cible.lifecycle.leads import road as lead_road
from cible.lifecycle.leads.models import Lead, StageTransition
from tests import factories

START = dt.datetime(2025, 3, 1, 10, 0, tzinfo=dt.UTC)
YEAR_2025 = {"period": "custom", "start": "2025-01-01", "end": "2025-12-31"}


def make_lead(
    *,
    owner: Any,
    source: str,
    path: list[tuple[str, float]],
    arrived: dt.datetime = START,
    reason: str = "",
    organisation: Any = None,
    campaign: Any = None,
) -> Lead:
    """A lead that went along `path` ((stage, days after `arrived`) …); it stands at the last."""
    stage = path[-1][0]
    lead = Lead.objects.create(
        organisation=organisation,
        stage=stage,
        stage_entered_at=arrived + dt.timedelta(days=path[-1][1]),
        arrived_at=arrived,
        source=source,
        campaign=campaign,
        owner=owner,
        recycle_reason=reason if stage == "recycled" else "",
        disqualify_reason=reason if stage == "disqualified" else "",
    )
    previous = ""
    for to_stage, days in path:
        StageTransition.objects.create(
            lead=lead,
            from_stage=previous,
            to_stage=to_stage,
            occurred_at=arrived + dt.timedelta(days=days),
            channel="ui",
            reason=reason if to_stage in ("recycled", "disqualified") else "",
        )
        previous = to_stage
    # As every path that writes transitions does (an import of history, here).
    lead_road.mark((lead.pk, to, arrived + dt.timedelta(days=days)) for to, days in path)
    return lead


@dataclass
class Road:
    leads: list[Lead]
    acme: Any  # organisation of L1 and L3
    globex: Any  # organisation of L2, L4 and L5


@pytest.fixture
def road(cast: Any) -> Road:
    owner = cast.ae
    acme = factories.organisation(owner, legal_name="Acme SAS")
    globex = factories.organisation(owner, legal_name="Globex SA")
    full = [
        ("suspect", 0),
        ("prospect", 2),
        ("mql", 5),
        ("sal", 6),
        ("sql", 10),
        ("opportunity", 20),
        ("customer", 50),
    ]
    leads = [
        make_lead(owner=owner, source="website", path=full, organisation=acme),
        make_lead(
            owner=owner,
            source="website",
            path=[("suspect", 0), ("prospect", 4), ("mql", 9)],
            organisation=globex,
        ),
        make_lead(
            owner=owner,
            source="event",
            path=[("suspect", 0), ("mql", 3), ("sal", 5)],
            organisation=acme,
        ),
        make_lead(
            owner=owner,
            source="event",
            path=[("suspect", 0), ("prospect", 1), ("recycled", 3)],
            reason="not_ready",
            organisation=globex,
        ),
        make_lead(
            owner=owner,
            source="website",
            path=[("suspect", 0), ("disqualified", 1)],
            reason="no_need",
            organisation=globex,
        ),
        make_lead(
            owner=owner,
            source="website",
            arrived=dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC),
            path=[("suspect", 0), ("prospect", 0.5), ("mql", 374)],
        ),
    ]
    return Road(leads, acme, globex)
