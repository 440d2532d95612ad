"""The demo's freshness step: an ageing base, its figures ready, and weeks of history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cible.demo.generator import generate
from cible.people.models import Contact, Organisation
from cible.quality.freshness import selectors, tally
from cible.quality.freshness.models import QualitySnapshot

pytestmark = pytest.mark.django_db


def test_the_demo_base_ages_and_has_a_history() -> None:
    ctx = generate("small", 42)
    assert ctx.timings["freshness"] > 0
    assert Contact.objects.filter(email_bounced_at__isnull=False).count() > 0
    assert Organisation.objects.filter(status="closed").count() > 0
    verified = Organisation.objects.filter(last_verified_at__isnull=False).count()
    assert verified > Organisation.objects.count() / 2  # most records were checked at some time
    days = sorted(set(QualitySnapshot.objects.values_list("day", flat=True)))
    today = timezone.localdate()
    assert days[-1] == today
    assert days[0] == today - dt.timedelta(weeks=8)
    status = tally.tally_catch_up()
    assert status.ready and not status.pending
    board = selectors.dashboard(viewer=get_user_model().objects.get(username="admin"))
    orgs = next(f for f in board.entities if f.entity == "organisation")
    assert orgs.total == 2_000
    assert 0 < orgs.stale < 2_000
    assert {r.code for r in orgs.reasons if r.count} >= {"age", "closed"}
