"""Queues: each person's leads by SLA due time then score, one-click accept and reject, Marketing's
review of what Sales sent back, and nobody's queue showing another team's leads."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import time_machine
from django.utils import timezone

from cible.lifecycle.leads.models import Lead
from cible.routing.sla.models import ClockStatus, Handoff, SlaClock
from tests.routing.sla.conftest import assign, new_lead


def rows(html: str) -> list[str]:
    """The lead names of the queue, in order."""
    return re.findall(r'<a href="/leads/\d+/">([^<]+)</a>', html)


def test_the_queue_orders_by_due_time_then_score_with_time_left(
    cast: Any,
    policies: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
    django_assert_max_num_queries: Any,
) -> None:
    now = timezone.now().replace(microsecond=0)
    clock = time_machine.travel(now, tick=False)
    clock.start()
    later = new_lead(cast, "Later")
    sooner = new_lead(cast, "Sooner")
    best = new_lead(cast, "Best", stage="prospect")
    plain = new_lead(cast, "Plain", stage="prospect")
    Lead.objects.filter(pk=best.pk).update(profile_score=80, engagement_score=40, grade="A1")
    Lead.objects.filter(pk=plain.pk).update(profile_score=10, engagement_score=5, grade="C3")
    with django_capture_on_commit_callbacks(execute=True):
        assign(later, cast.sdr, cast.paris, at=now - dt.timedelta(minutes=10))
        assign(sooner, cast.sdr, cast.paris, at=now - dt.timedelta(hours=2, minutes=35))
    client = client_for(cast.sdr)
    with django_assert_max_num_queries(10) as few:
        page = client.get("/queue/")
    text = page.content.decode()
    assert rows(text) == ["Sooner Martin", "Later Martin", "Best Martin", "Plain Martin"]
    assert "late by 35 min" in text  # due 2 h after assignment
    assert "in 1 h 50" in text
    assert '<span class="badge text-bg-secondary">A1</span>' in text
    for i in range(15):
        new_lead(cast, f"More {i}", stage="prospect")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/queue/")
    clock.stop()
    # The stage filter keeps only MQLs.
    assert rows(client.get("/queue/", {"stage": "mql"}).content.decode()) == [
        "Sooner Martin",
        "Later Martin",
    ]


def test_one_click_accept_and_a_rejection_needs_a_reason(
    cast: Any, policies: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    accepted = new_lead(cast, "Jeanne")
    rejected = new_lead(cast, "Paul")
    with django_capture_on_commit_callbacks(execute=True):
        assign(accepted, cast.sdr, cast.paris)
        assign(rejected, cast.sdr, cast.paris)
    client = client_for(cast.sdr)
    htmx = {"HTTP_HX_REQUEST": "true"}
    with django_capture_on_commit_callbacks(execute=True):
        row = client.post(f"/queue/{accepted.pk}/accept/", **htmx).content.decode()
    assert row.startswith(f'<tr id="queue-row-{accepted.pk}"')
    assert "Sales accepted lead (SAL)" in row or "SAL" in row
    accepted.refresh_from_db()
    assert accepted.stage == "sal"
    assert (
        SlaClock.objects.get(lead=accepted, policy__handoff=Handoff.MQL_ACCEPTANCE).status == "met"
    )

    refused = client.post(f"/queue/{rejected.pk}/reject/", {"reason": "  "}, **htmx)
    assert refused.status_code == 200  # HTMX swaps the row with the message in it
    assert "say why Sales rejects this lead" in refused.content.decode()
    rejected.refresh_from_db()
    assert rejected.stage == "mql"
    assert client.post(f"/queue/{rejected.pk}/reject/", {"reason": ""}).status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        row = client.post(
            f"/queue/{rejected.pk}/reject/", {"reason": "Student"}, **htmx
        ).content.decode()
    assert "Back to Marketing" in row
    rejected.refresh_from_db()
    assert (rejected.stage, rejected.recycle_reason) == ("recycled", "rejected_by_sales")

    # Marketing now sees it in its queue, with the review clock, and marks it reviewed.
    marie = client_for(cast.marketer)
    text = marie.get("/queue/").content.decode()
    assert rows(text) == ["Paul Martin"]
    assert "Recycle review" in text
    with django_capture_on_commit_callbacks(execute=True):
        marie.post(f"/queue/{rejected.pk}/reviewed/", **htmx)
    review = SlaClock.objects.get(lead=rejected, policy__handoff=Handoff.RECYCLE_REVIEW)
    assert review.status == ClockStatus.MET
    assert rows(marie.get("/queue/").content.decode()) == []  # reviewed: off her queue
    # Sales may not mark Marketing's review done.
    refused = client.post(f"/queue/{rejected.pk}/reviewed/", **htmx).content.decode()
    assert "Only Marketing reviews recycled leads." in refused


def test_queues_stay_within_teams(
    cast: Any,
    policies: Any,
    client_for: Any,
    team_private: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    paris_lead = new_lead(cast, "Parisienne")
    lyon_lead = new_lead(cast, "Lyonnais", owner=cast.outsider)
    with django_capture_on_commit_callbacks(execute=True):
        assign(paris_lead, cast.sdr, cast.paris)
        assign(lyon_lead, cast.outsider, cast.lyon)
    assert rows(client_for(cast.outsider).get("/queue/", {"scope": "team"}).content.decode()) == [
        "Lyonnais Martin"
    ]
    sam = client_for(cast.manager)
    assert rows(sam.get("/queue/").content.decode()) == []  # Sam owns no lead himself
    assert rows(sam.get("/queue/", {"scope": "team"}).content.decode()) == ["Parisienne Martin"]
    # Olivier cannot act on a Paris lead by guessing its id.
    olivier = client_for(cast.outsider)
    assert olivier.post(f"/queue/{paris_lead.pk}/accept/").status_code == 404


def test_time_left_reads_like_a_person_would_say_it() -> None:
    from cible.routing.sla.timeleft import time_left

    now = timezone.now()
    with time_machine.travel(now, tick=False):
        assert time_left(now + dt.timedelta(hours=2, minutes=10), now) == "in 2 h 10"
        assert time_left(now - dt.timedelta(minutes=35), now) == "late by 35 min"
        assert time_left(now + dt.timedelta(days=3, hours=4), now) == "in 3 d 4 h"
        assert time_left(now + dt.timedelta(hours=5), now) == "in 5 h"
