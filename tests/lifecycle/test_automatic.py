"""Leads nobody clicks: interactions opening and waking them, agreed rules applied in bulk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cible.engagement.campaigns.models import Campaign
from cible.engagement.interactions.models import Interaction
from cible.engagement.interactions.signals import interactions_recorded
from cible.lifecycle.leads import automatic, services
from cible.lifecycle.leads.models import Lead, StageTransition
from cible.people.models import Contact
from tests.lifecycle.conftest import scored

pytestmark = pytest.mark.django_db


def people(n: int, start: int = 0) -> list[Contact]:
    return Contact.objects.bulk_create(
        Contact(last_name=f"Person {i}", name_key=f"person {i}") for i in range(start, start + n)
    )


def touches(contacts, kind="form_submission", **extra) -> list[Interaction]:
    return Interaction.objects.bulk_create(
        Interaction(kind=kind, contact=c, channel="form", **extra) for c in contacts
    )


def test_interest_opens_a_prospect_lead_from_the_signal(cast, dupont, acme):
    webinar = Campaign.objects.create(name="Webinar CRM", type="webinar")
    when = timezone.now() - dt.timedelta(hours=2)
    rows = [
        Interaction.objects.create(
            kind="content_download", contact=dupont, campaign=webinar, occurred_at=when
        ),
        Interaction.objects.create(kind="email_opened", contact=dupont),
    ]
    interactions_recorded.send(sender=Interaction, interactions=rows)
    lead = Lead.objects.get(contact=dupont)
    assert (lead.stage, lead.source, lead.source_detail, lead.campaign, lead.organisation) == (
        "prospect",
        "webinar",  # the campaign's type says more than the first touch's kind
        "content_download",
        webinar,
        acme,
    )
    assert lead.arrived_at == when
    first = lead.transitions.get()
    assert (first.from_stage, first.to_stage, first.channel, first.actor) == (
        "",
        "prospect",
        "job",
        None,
    )
    dupont.refresh_from_db()
    assert dupont.lifecycle_stage == "prospect"


def test_opens_and_clicks_alone_open_nothing(cast, dupont):
    rows = touches([dupont], kind="email_opened") + touches([dupont], kind="email_clicked")
    interactions_recorded.send(sender=Interaction, interactions=rows)
    assert not Lead.objects.exists()


def test_a_suspect_wakes_to_prospect_and_a_live_lead_stays_as_it_is(cast, dupont, acme):
    suspect = services.open_lead(contact=dupont, source="purchased_list", actor=None, channel="job")
    other = people(1)[0]
    mql = services.open_lead(
        contact=other, source="website", stage="mql", actor=None, channel="job"
    )
    automatic.leads_from_interactions(interactions=touches([dupont, other], kind="demo_request"))
    suspect.refresh_from_db()
    mql.refresh_from_db()
    assert (suspect.stage, mql.stage) == ("prospect", "mql")
    assert Lead.objects.count() == 2
    woke = suspect.transitions.order_by("-id").first()
    assert (woke.from_stage, woke.to_stage) == ("suspect", "prospect")


def test_the_same_contact_twice_in_a_batch_opens_one_lead(cast):
    contact = people(1)[0]
    early = timezone.now() - dt.timedelta(days=1)
    rows = touches([contact], kind="webinar") + touches([contact], kind="event", occurred_at=early)
    assert automatic.leads_from_interactions(interactions=rows) == {"opened": 1, "woken": 0}
    lead = Lead.objects.get()
    assert (lead.source, lead.arrived_at) == ("event", early)


def test_a_batch_costs_the_same_queries_whatever_its_size(cast, one_insert_per_table):
    def cost(contacts) -> int:
        rows = touches(contacts)
        with CaptureQueriesContext(connection) as queries:
            automatic.leads_from_interactions(interactions=rows)
        return len(queries)

    small, big = cost(people(5)), cost(people(1200, start=100))
    assert small == big
    assert Lead.objects.count() == 1205
    assert StageTransition.objects.filter(to_stage="prospect", from_stage="").count() == 1205
    assert Contact.objects.filter(lifecycle_stage="prospect").count() == 1205


def test_apply_definitions_moves_the_leads_meeting_the_next_rule(cast, agreed):
    contacts = people(4)
    leads = [
        services.open_lead(contact=c, source="website", stage="prospect", actor=None, channel="job")
        for c in contacts
    ]
    scored(leads[0], 80, 50, "A1")  # meets MQL
    scored(leads[1], 80, 10, "A3")  # engagement too low
    scored(leads[2], 60, 40, "B2")  # exactly on the thresholds
    moved = services.apply_definitions(leads=[lead.pk for lead in leads])
    assert moved == 2
    stages = dict(Lead.objects.values_list("pk", "stage"))
    assert [stages[lead.pk] for lead in leads] == ["mql", "prospect", "mql", "prospect"]
    rule = StageTransition.objects.get(lead=leads[0], to_stage="mql")
    assert (rule.channel, rule.definition, rule.profile_score, rule.grade) == (
        "rule",
        agreed["mql"],
        80,
        "A1",
    )
    assert Contact.objects.get(pk=contacts[0].pk).lifecycle_stage == "mql"
    # MQL → SAL is Sales' call: a second pass moves nothing.
    assert services.apply_definitions(leads=Lead.objects.all()) == 0


def test_apply_definitions_waits_for_the_requalification_date(cast, agreed):
    contact = people(1)[0]
    lead = services.open_lead(contact=contact, source="website", actor=None, channel="job")
    Lead.objects.filter(pk=lead.pk).update(
        stage="recycled",
        requalify_on=dt.date.today() + dt.timedelta(days=30),
        profile_score=90,
        engagement_score=90,
    )
    assert services.apply_definitions(leads=[lead.pk]) == 0
    Lead.objects.filter(pk=lead.pk).update(requalify_on=dt.date.today())
    assert services.apply_definitions(leads=[lead.pk]) == 1
    lead.refresh_from_db()
    assert (lead.stage, lead.requalify_on, lead.recycle_reason) == ("mql", None, "")


def test_without_agreed_rules_nothing_moves(cast, lead):
    scored(lead, 100, 100)
    assert services.apply_definitions(leads=[lead.pk]) == 0
