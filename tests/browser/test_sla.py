"""An MQL waits too long: Sophie sees it late in her queue and rejects another in one click; the
sweep breaches it, Sam (her manager) is told by email and in the app, follows the notification to
the lead and sees the escalation, the lead now Basile's."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from cible.lifecycle.leads import services as lead_services
from cible.people.models import UserProfile
from cible.routing.assignment.models import Assignment, RoutingMember
from cible.routing.assignment.signals import send_on_commit
from cible.routing.sla import services
from cible.routing.sla.models import Handoff, SlaPolicy
from tests import factories
from tests.browser.helpers import login
from tests.cast import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def mql(cast, first_name: str, assigned_ago: dt.timedelta):  # type: ignore[no-untyped-def]
    contact = factories.contact(cast.sdr, first_name=first_name, last_name="Dupont")
    lead = lead_services.open_lead(
        contact=contact,
        source="website",
        stage="mql",
        owner=cast.sdr,
        actor=cast.sdr,
        channel="ui",
    )
    assignment = Assignment.objects.create(
        lead=lead,
        user=cast.sdr,
        team=cast.paris,
        method="round_robin",
        reason="AE Paris",
        assigned_at=timezone.now() - assigned_ago,
        channel="job",
    )
    send_on_commit([assignment])  # no transaction around: sent at once, as after a commit
    return lead


def test_a_breach_is_escalated_to_the_manager(page: Page, live_server, cast, smtp_server) -> None:
    UserProfile.objects.update(language="en")
    cast.manager.email = "sam@cible.test"
    cast.manager.save()
    SlaPolicy.objects.create(
        name="First touch",
        handoff=Handoff.FIRST_TOUCH,
        target_minutes=120,
        business_hours=False,
        escalate_after_minutes=60,
    )
    for user in (cast.sdr, cast.ae2):
        RoutingMember.objects.create(team=cast.paris, user=user)
    late = mql(cast, "Jeanne", dt.timedelta(hours=3, minutes=30))
    other = mql(cast, "Paul", dt.timedelta(minutes=5))

    login(page, live_server, "sophie", PASSWORD)
    page.goto(f"{live_server.url}/queue/")
    first = page.locator(".queue-row").first
    expect(first).to_contain_text("Jeanne Dupont")
    expect(first.locator(".sla-left")).to_have_text("late by 1 h 30")
    row = page.locator(f"#queue-row-{other.pk}")
    row.locator(".reject").click()
    expect(row.locator(".row-error")).to_have_text("say why Sales rejects this lead")
    row.locator("input[name=reason]").fill("Student, no project")
    row.locator(".reject").click()
    expect(page.locator(f"#queue-row-{other.pk} .lead-stage")).to_have_text("Recycled")

    report = services.sweep()
    assert (report.breached, report.reassigned) == (1, 1)
    [mail] = smtp_server.recorder.to("sam@cible.test")
    assert mail.subject == "[Cible] SLA breached: Jeanne Dupont"

    page.context.clear_cookies()
    login(page, live_server, "sam", PASSWORD)
    page.goto(f"{live_server.url}/notifications/")
    page.click("#notifications >> text=SLA breached: Jeanne Dupont")
    expect(page).to_have_url(f"{live_server.url}/leads/{late.pk}/")
    card = page.locator("#lead-section-sla")
    breached = card.locator(".sla-clock[data-status=breached]")
    expect(breached).to_contain_text("First touch")
    expect(breached.locator(".sla-escalation")).to_contain_text("Manager notified")
    expect(breached.locator(".sla-escalation")).to_contain_text("Reassigned to Basile Durand")
    # Basile's own first-touch clock runs from the reassignment.
    expect(card.locator(".sla-clock[data-status=open]")).to_contain_text("Basile Durand")
