"""The sweep's reassignment survives a crash: a clock is claimed and its lead reassigned in one
transaction, so a sweep that dies in between leaves the clock for the next one, and the lead page
never says "no one available" unless it is true."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cible.engagement.tasks.models import Notification
from cible.routing.assignment import services as routing_services
from cible.routing.assignment.models import Assignment
from cible.routing.sla import services
from cible.routing.sla.models import Handoff, SlaClock
from tests.routing.sla.conftest import assign, new_lead, paris

START = paris(2026, 3, 10, 9, 0)
LATE = START + dt.timedelta(hours=3, minutes=5)  # first touch due 11:00, reassigned from 12:00


class Crash(Exception):
    """The process dying between the claim and the reassignment."""


def crash_once(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the next reassignment fail, as a crash would; return the list of attempted leads."""
    real = routing_services.reassign
    attempts: list[int] = []

    def flaky(**kwargs: Any) -> Any:
        attempts.append(kwargs["lead"].pk)
        if len(attempts) == 1:
            raise Crash
        return real(**kwargs)

    monkeypatch.setattr(routing_services, "reassign", flaky)
    return attempts


def first_touch_of_sophie(lead: Any, cast: Any) -> SlaClock:
    return SlaClock.objects.get(lead=lead, policy__handoff=Handoff.FIRST_TOUCH, owner=cast.sdr)


def test_a_crash_before_the_reassignment_is_made_good_by_the_next_sweep(
    cast: Any,
    policies: Any,
    rotation: Any,
    client_for: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    lead = new_lead(cast, "Jeanne")
    with django_capture_on_commit_callbacks(execute=True):
        assign(lead, cast.sdr, cast.paris, at=START)
    attempts = crash_once(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        crashed = services.sweep(now=LATE)
    assert (crashed.breached, crashed.notified, crashed.reassigned) == (1, 1, 0)
    lead.refresh_from_db()
    assert lead.owner == cast.sdr
    clock = first_touch_of_sophie(lead, cast)
    assert (clock.reassigned_at, clock.reassigned_to) == (None, None)  # not claimed: retried
    page = client_for(cast.manager).get(f"/leads/{lead.pk}/").content.decode()
    assert "no one available" not in page

    retry = LATE + dt.timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.sweep(now=retry)
        third = services.sweep(now=retry + dt.timedelta(minutes=1))
    assert (again.breached, again.notified, again.reassigned) == (0, 0, 1)
    assert third.reassigned == 0
    assert attempts == [lead.pk, lead.pk]
    lead.refresh_from_db()
    assert lead.owner == cast.ae2  # Basile, the other member of AE Paris's rotation
    clock = first_touch_of_sophie(lead, cast)
    assert (clock.reassigned_at, clock.reassigned_to) == (retry, cast.ae2)
    assert Assignment.objects.filter(lead=lead, method="reassign").count() == 1
    # Sam heard of the breach once; nobody heard of it again from the retry.
    assert list(Notification.objects.values_list("user", "title")) == [
        (cast.manager.pk, "SLA breached: Jeanne Martin")
    ]
    page = client_for(cast.manager).get(f"/leads/{lead.pk}/").content.decode()
    assert "Reassigned to Basile Durand" in page
    assert "no one available" not in page


def test_a_crash_on_one_lead_does_not_hold_up_the_others(
    cast: Any,
    policies: Any,
    rotation: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    jeanne, paul = new_lead(cast, "Jeanne"), new_lead(cast, "Paul")
    with django_capture_on_commit_callbacks(execute=True):
        assign(jeanne, cast.sdr, cast.paris, at=START)
        assign(paul, cast.sdr, cast.paris, at=START + dt.timedelta(minutes=1))
    attempts = crash_once(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep(now=LATE).reassigned == 1
        assert services.sweep(now=LATE + dt.timedelta(minutes=1)).reassigned == 1
    assert attempts == [jeanne.pk, paul.pk, jeanne.pk]  # the oldest first, retried next time
    assert Assignment.objects.filter(method="reassign").count() == 2
    assert {c.reassigned_to for c in SlaClock.objects.filter(reassigned_at__isnull=False)} == {
        cast.ae2
    }


def test_no_one_to_take_the_lead_is_said_and_not_retried(
    cast: Any, policies: Any, client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from cible.routing.assignment.models import RoutingMember

    RoutingMember.objects.create(team=cast.paris, user=cast.sdr)  # Sophie alone in the rotation
    lead = new_lead(cast, "Jeanne")
    with django_capture_on_commit_callbacks(execute=True):
        assign(lead, cast.sdr, cast.paris, at=START)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.sweep(now=LATE)
        second = services.sweep(now=LATE + dt.timedelta(minutes=1))
    assert (first.reassigned, second.reassigned) == (0, 0)
    clock = first_touch_of_sophie(lead, cast)
    assert (clock.reassigned_at, clock.reassigned_to) == (LATE, None)
    assert not Assignment.objects.filter(method="reassign").exists()
    page = client_for(cast.manager).get(f"/leads/{lead.pk}/").content.decode()
    assert "no one available" in page


def test_a_lead_that_changed_hands_before_the_sweep_is_not_said_to_have_no_one(
    cast: Any,
    policies: Any,
    rotation: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from cible.lifecycle.leads.models import Lead

    lead = new_lead(cast, "Jeanne")
    with django_capture_on_commit_callbacks(execute=True):
        assign(lead, cast.sdr, cast.paris, at=START)
    # Handed to Alice by a path the clocks did not hear of, before the sweep's second delay.
    Lead.objects.filter(pk=lead.pk).update(owner=cast.ae)
    with django_capture_on_commit_callbacks(execute=True):
        swept = services.sweep(now=LATE)
    assert swept.reassigned == 0
    clock = first_touch_of_sophie(lead, cast)
    assert (clock.reassigned_at, clock.reassigned_to) == (LATE, None)
    assert not Assignment.objects.filter(lead=lead, method="reassign").exists()
    page = client_for(cast.manager).get(f"/leads/{lead.pk}/").content.decode()
    assert "no one available" not in page
    assert "the lead had already moved on or changed hands" in page
