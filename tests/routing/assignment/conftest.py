"""Routing's fixtures: AE Paris's rotation (Alice 20, Basile 10, Sophie 10), MQLs made in bulk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from cible.lifecycle.leads.models import Lead, Stage
from cible.routing.assignment import services
from cible.routing.assignment.models import RoutingMember
from tests.api.conftest import api_for  # noqa: F401  (the API tests' client, per user)
from tests.cast import Cast


@pytest.fixture
def rotation(cast: Cast) -> dict[str, RoutingMember]:
    members = {}
    for key, user, capacity in (
        ("alice", cast.ae, 20),
        ("basile", cast.ae2, 10),
        ("sophie", cast.sdr, 10),
    ):
        members[key] = services.member_save(
            team=cast.paris,
            user=user,
            actor=cast.admin,
            channel="ui",
            data={"capacity": capacity},
        )
    return members


def paris_rule(cast: Cast, method: str = "round_robin", **data: Any) -> Any:
    data.setdefault("name", "Paris inbound")
    return services.rule_create(
        actor=cast.admin,
        channel="ui",
        data={"action": "assign_team", "team": cast.paris.pk, "method": method, **data},
    )


@pytest.fixture
def mqls(db: Any) -> Callable[..., list[int]]:
    """`mqls(n, **fields)`: n MQLs (no contact), as the scoring would leave them."""

    def make(n: int, **fields: Any) -> list[int]:
        now = timezone.now()
        fields.setdefault("source", "website")
        leads = Lead.objects.bulk_create(
            Lead(stage=Stage.MQL, stage_entered_at=now, arrived_at=now, **fields) for _ in range(n)
        )
        return [lead.pk for lead in leads]

    return make
