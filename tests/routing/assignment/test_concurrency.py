"""Four workers routing the same 2,000 leads at once on a real PostgreSQL server: every lead is
assigned exactly once, none is lost, and the weighted rotation stays within one lead of each
member's share (the counters move under the team's row locks)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import translation

from cible.lifecycle.leads.models import Lead
from cible.routing.assignment import services
from cible.routing.assignment.models import Assignment, RoutingMember
from tests.cast import Cast
from tests.routing.assignment.conftest import paris_rule

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite serialises writers: no race to lose"
    ),
]

LEADS = 2000
WORKERS = 4
CHUNK = 50


def test_concurrent_workers_assign_each_lead_once_and_fairly(
    cast: Cast, rotation: Any, mqls: Any
) -> None:
    capacities = {cast.ae.pk: 4000, cast.ae2.pk: 3000, cast.sdr.pk: 2000}
    for user_id, capacity in capacities.items():
        RoutingMember.objects.filter(user_id=user_id).update(capacity=capacity)
    extra = services.member_save(
        team=cast.paris, user=cast.manager, actor=cast.admin, channel="ui", data={"capacity": 1000}
    )
    capacities[extra.user_id] = 1000
    paris_rule(cast, method="weighted")
    ids = mqls(LEADS)
    barrier = threading.Barrier(WORKERS)
    failures: list[BaseException] = []

    def worker(offset: int) -> None:
        # Every worker walks every lead, from a different starting point: each lead is raced for.
        order = ids[offset:] + ids[:offset]
        try:
            barrier.wait(timeout=30)
            with translation.override("en"):
                for start in range(0, len(order), CHUNK):
                    services.route(lead_ids=order[start : start + CHUNK], actor=None, channel="job")
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(i * LEADS // WORKERS,)) for i in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert failures == []
    per_lead = Counter(Assignment.objects.values_list("lead_id", flat=True))
    assert len(per_lead) == LEADS and set(per_lead.values()) == {1}  # once each, none lost
    assert not Lead.objects.filter(pk__in=ids, owner__isnull=True).exists()
    spread = Counter(Lead.objects.filter(pk__in=ids).values_list("owner_id", flat=True))
    total = sum(capacities.values())
    for user_id, capacity in capacities.items():
        share = LEADS * capacity / total
        assert abs(spread[user_id] - share) <= 1, (user_id, spread[user_id], share)
    counters = dict(RoutingMember.objects.values_list("user_id", "assigned"))
    assert counters == {user_id: spread[user_id] for user_id in capacities}
