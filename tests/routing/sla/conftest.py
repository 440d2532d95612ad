"""Service levels for the SLA tests: Paris office hours, and the four handoffs' policies.

Leads are owned by Sophie (SDR, "AE Paris", managed by Sam, who has an email address so the
escalation reaches a real SMTP server). Assignments are written as routing writes them and
announced with its `leads_assigned` signal, on commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cible.lifecycle.leads import services as lead_services
from cible.people.models import UserProfile
from cible.routing.assignment.models import Assignment, RoutingMember
from cible.routing.assignment.signals import send_on_commit
from cible.routing.sla.models import BusinessCalendar, Handoff, SlaPolicy
from tests import factories
from tests.api.conftest import api_for  # noqa: F401  (the API tests' client, per user)

PARIS = ZoneInfo("Europe/Paris")


def paris(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.fixture
def office() -> BusinessCalendar:
    return BusinessCalendar.objects.get(name="France — Paris office")  # made by the migration


@pytest.fixture
def policies(db: Any, office: BusinessCalendar, cast: Any) -> dict[str, SlaPolicy]:
    """Acceptance within 4 business hours; first touch within 2 hours, reassigned 1 hour later;
    follow-up of a held meeting within 24 hours; recycle review within 8 business hours."""
    cast.manager.email = "sam@cible.test"
    cast.manager.save()
    UserProfile.objects.update(language="en")  # pages follow the profile; tests read English
    make = SlaPolicy.objects.create
    return {
        Handoff.MQL_ACCEPTANCE: make(
            name="MQL acceptance",
            handoff=Handoff.MQL_ACCEPTANCE,
            target_minutes=240,
            calendar=office,
        ),
        Handoff.FIRST_TOUCH: make(
            name="First touch",
            handoff=Handoff.FIRST_TOUCH,
            target_minutes=120,
            business_hours=False,
            escalate_after_minutes=60,
        ),
        Handoff.MEETING_FOLLOW_UP: make(
            name="Meeting follow-up",
            handoff=Handoff.MEETING_FOLLOW_UP,
            target_minutes=24 * 60,
            business_hours=False,
        ),
        Handoff.RECYCLE_REVIEW: make(
            name="Recycle review",
            handoff=Handoff.RECYCLE_REVIEW,
            target_minutes=480,
            calendar=office,
        ),
    }


def new_lead(cast: Any, name: str, *, owner: Any = None, stage: str = "mql", **when: Any) -> Any:
    owner = owner or cast.sdr
    contact = factories.contact(owner, first_name=name, last_name="Martin")
    return lead_services.open_lead(
        contact=contact,
        source="website",
        stage=stage,
        owner=owner,
        actor=owner,
        channel="ui",
        **when,
    )


def assign(lead: Any, user: Any, team: Any, at: dt.datetime | None = None) -> Assignment:
    """Record an assignment as routing does, and announce it (on commit)."""
    assignment = Assignment.objects.create(
        lead=lead,
        user=user,
        team=team,
        method="round_robin",
        reason="test",
        assigned_at=at or timezone.now(),
        channel="job",
    )
    type(lead).objects.filter(pk=lead.pk).update(owner=user)
    send_on_commit([assignment])
    return assignment


@pytest.fixture
def rotation(cast: Any) -> None:
    """Sophie and Basile take AE Paris's leads in turn."""
    for user in (cast.sdr, cast.ae2):
        RoutingMember.objects.create(team=cast.paris, user=user)
