"""Clocks start, stop and are cancelled by what happens: assignments, moves and interactions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from cible.engagement.interactions.services import record_interaction
from cible.lifecycle.leads import services as lead_services
from cible.routing.sla.models import ClockStatus, Handoff, SlaClock
from tests.routing.sla.conftest import assign, new_lead, paris


def clocks_of(lead: Any) -> dict[str, SlaClock]:
    return {
        c.policy.handoff: c for c in SlaClock.objects.filter(lead=lead).select_related("policy")
    }


def test_an_assigned_mql_starts_acceptance_in_business_hours_and_first_touch_in_clock_hours(
    cast: Any, policies: Any, django_capture_on_commit_callbacks: Any
) -> None:
    friday_evening = paris(2026, 5, 29, 17, 0)  # Whit Monday (25 May) is past; next Monday opens
    with time_machine.travel(friday_evening, tick=False):
        lead = new_lead(cast, "Jeanne")
        with django_capture_on_commit_callbacks(execute=True):
            assign(lead, cast.sdr, cast.paris, at=friday_evening)
    clocks = clocks_of(lead)
    acceptance, touch = clocks[Handoff.MQL_ACCEPTANCE], clocks[Handoff.FIRST_TOUCH]
    # 1 h on Friday (17:00–18:00), then 3 h on Monday from 09:00.
    assert acceptance.due_at == paris(2026, 6, 1, 12, 0)
    assert touch.due_at == paris(2026, 5, 29, 19, 0)
    assert touch.escalate_at == paris(2026, 5, 29, 20, 0)
    assert (touch.owner, touch.team, touch.status) == (cast.sdr, cast.paris, ClockStatus.OPEN)


def test_owner_touch_meets_first_touch_and_accepting_meets_acceptance(
    cast: Any, policies: Any, django_capture_on_commit_callbacks: Any
) -> None:
    start = paris(2026, 3, 10, 9, 0)
    with time_machine.travel(start, tick=False):
        lead = new_lead(cast, "Jeanne")
        with django_capture_on_commit_callbacks(execute=True):
            assign(lead, cast.sdr, cast.paris, at=start)
    with django_capture_on_commit_callbacks(execute=True):
        # Someone else's call does not count; Sophie's, 40 minutes after assignment, does.
        record_interaction(
            kind="call",
            contact=lead.contact,
            owner=cast.ae2,
            actor=cast.ae2,
            channel="ui",
            occurred_at=start + dt.timedelta(minutes=20),
        )
        record_interaction(
            kind="call",
            contact=lead.contact,
            owner=cast.sdr,
            actor=cast.sdr,
            channel="ui",
            occurred_at=start + dt.timedelta(minutes=40),
        )
    touch = clocks_of(lead)[Handoff.FIRST_TOUCH]
    assert (touch.status, touch.met_at) == (ClockStatus.MET, start + dt.timedelta(minutes=40))
    with time_machine.travel(paris(2026, 3, 10, 15, 0), tick=False):
        lead.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            lead_services.accept(lead=lead, actor=cast.sdr, channel="ui")
    acceptance = clocks_of(lead)[Handoff.MQL_ACCEPTANCE]
    # Due 14:30 (4 business hours from 09:00 with lunch); accepted 15:00: late, so breached.
    assert acceptance.status == ClockStatus.BREACHED
    assert acceptance.met_at == paris(2026, 3, 10, 15, 0)


def test_rejection_hands_the_lead_to_marketing_and_disqualifying_cancels(
    cast: Any, policies: Any, django_capture_on_commit_callbacks: Any
) -> None:
    lead = new_lead(cast, "Jeanne")
    with django_capture_on_commit_callbacks(execute=True):
        assign(lead, cast.sdr, cast.paris)
    with django_capture_on_commit_callbacks(execute=True):
        lead_services.reject(lead=lead, actor=cast.sdr, reason="Student, no project")
    clocks = clocks_of(lead)
    assert clocks[Handoff.MQL_ACCEPTANCE].status == ClockStatus.MET
    review = clocks[Handoff.RECYCLE_REVIEW]
    assert review.status == ClockStatus.OPEN and review.owner == cast.sdr
    lead.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        lead_services.move(
            lead=lead,
            to_stage="disqualified",
            actor=cast.marketer,
            channel="ui",
            reason="not_a_buyer",
        )
    statuses = {
        c.policy.handoff: c.status
        for c in SlaClock.objects.filter(lead=lead).select_related("policy")
    }
    assert statuses == {
        Handoff.MQL_ACCEPTANCE: ClockStatus.MET,
        Handoff.FIRST_TOUCH: ClockStatus.CANCELLED,
        Handoff.RECYCLE_REVIEW: ClockStatus.MET,  # Marketing acted on it: it left Recycled
    }


def test_a_held_meeting_starts_the_follow_up_and_the_next_touch_meets_it(
    cast: Any, policies: Any, django_capture_on_commit_callbacks: Any
) -> None:
    lead = new_lead(cast, "Jeanne", owner=cast.ae)
    held = paris(2026, 3, 10, 10, 0)
    with django_capture_on_commit_callbacks(execute=True):
        record_interaction(
            kind="meeting",
            outcome="held",
            contact=lead.contact,
            owner=cast.ae,
            actor=cast.ae,
            channel="ui",
            occurred_at=held,
        )
    follow_up = clocks_of(lead)[Handoff.MEETING_FOLLOW_UP]
    assert (follow_up.status, follow_up.due_at, follow_up.team) == (
        ClockStatus.OPEN,
        held + dt.timedelta(hours=24),
        cast.paris,
    )
    with django_capture_on_commit_callbacks(execute=True):
        record_interaction(
            kind="email_sent",
            contact=lead.contact,
            owner=cast.ae,
            actor=cast.ae,
            channel="ui",
            occurred_at=held + dt.timedelta(hours=3),
        )
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.met_at) == (ClockStatus.MET, held + dt.timedelta(hours=3))


def test_many_assignments_at_once_start_clocks_in_a_few_queries(
    cast: Any,
    policies: Any,
    django_capture_on_commit_callbacks: Any,
    django_assert_max_num_queries: Any,
) -> None:
    from cible.routing.assignment.models import Assignment
    from cible.routing.sla.receivers import on_leads_assigned

    leads = [new_lead(cast, f"Lead {i}") for i in range(30)]
    rows = [
        Assignment.objects.create(
            lead=lead,
            user=cast.sdr,
            team=cast.paris,
            method="round_robin",
            reason="test",
            channel="job",
        )
        for lead in leads
    ]
    with django_assert_max_num_queries(12):
        on_leads_assigned(sender=Assignment, assignments=rows)
    assert SlaClock.objects.filter(status=ClockStatus.OPEN).count() == 60
    # Assigning again replaces the running clocks rather than adding to them.
    on_leads_assigned(sender=Assignment, assignments=rows)
    assert SlaClock.objects.filter(status=ClockStatus.OPEN).count() == 60
    assert SlaClock.objects.filter(status=ClockStatus.CANCELLED).count() == 60
