"""The lead pages: list with stage tabs, a lead's page and its actions, the contact's Leads tab,
the stage definitions page."""

from __future__ import annotations

import datetime as dt

import pytest

from cible.lifecycle.leads import services
from cible.lifecycle.leads.models import Lead, StageDefinition
from cible.people.models import Contact
from cible.people.services import profile_set_language
from tests.lifecycle.conftest import agree

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(cast):
    for user in (cast.ae, cast.sdr, cast.manager, cast.outsider):
        profile_set_language(user=user, language="en")


def open_many(cast, n: int, stage: str = "prospect") -> list[Lead]:
    contacts = Contact.objects.bulk_create(
        Contact(last_name=f"Client {i:03}", name_key=f"client {i:03}") for i in range(n)
    )
    return [
        services.open_lead(contact=c, source="website", stage=stage, actor=cast.ae, channel="ui")
        for c in contacts
    ]


def test_the_list_has_stage_tabs_with_counts_and_a_fixed_query_count(
    cast, client_for, django_assert_max_num_queries
):
    open_many(cast, 3)
    open_many(cast, 2, stage="mql")
    client = client_for(cast.ae)
    with django_assert_max_num_queries(12) as few:
        page = client.get("/leads/")
    small = len(few.captured_queries)
    open_many(cast, 40)
    with django_assert_max_num_queries(small):
        page = client.get("/leads/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-stage="prospect">Prospect <span class="badge text-bg-light stage-count">43' in text
    mql_tab = 'data-stage="mql">Marketing qualified lead (MQL) <span class="badge text-bg-light'
    assert f'{mql_tab} stage-count">2' in text
    mql = client.get("/leads/", {"stage": "mql"}).content.decode()
    assert mql.count("Client 00") == 2  # Client 000 and 001 only


def test_search_by_contact_name(cast, client_for, dupont, lead):
    open_many(cast, 2)
    text = client_for(cast.ae).get("/leads/", {"q": "dupo"}).content.decode()
    assert "Jeanne Dupont" in text and "Client 000" not in text


def test_an_outsider_sees_no_team_private_lead_in_list_or_counts(
    cast, client_for, lead, team_private
):
    Lead.objects.filter(pk=lead.pk).update(owner=cast.ae)
    outsider = client_for(cast.outsider)
    text = outsider.get("/leads/").content.decode()
    assert "Jeanne Dupont" not in text
    assert 'stage-count">0</span>' in text and 'stage-count">1</span>' not in text
    assert outsider.get(f"/leads/{lead.pk}/").status_code == 404
    assert "Jeanne Dupont" in client_for(cast.sdr).get("/leads/").content.decode()


def test_the_lead_page_draws_the_road_and_offers_the_moves_allowed(cast, client_for, lead):
    services.move(lead=lead, to_stage="mql", actor=cast.ae, channel="ui")
    text = client_for(cast.sdr).get(f"/leads/{lead.pk}/").content.decode()
    assert 'data-stage="prospect" data-state="done"' in text
    assert 'data-stage="mql" data-state="current"' in text
    assert 'data-stage="sal" data-state="ahead"' in text
    assert 'id="accept"' in text and 'id="reject-panel"' in text
    assert 'id="convert-link"' not in text
    marketer = client_for(cast.marketer).get(f"/leads/{lead.pk}/").content.decode()
    assert 'id="accept"' not in marketer  # Sales accepts, not Marketing


def test_actions_move_the_lead_or_say_why_not(cast, client_for, lead):
    client = client_for(cast.ae)
    moved = client.post(f"/leads/{lead.pk}/move/", {"version": lead.version, "to_stage": "sql"})
    assert moved.status_code == 302
    lead.refresh_from_db()
    assert lead.stage == "sql"
    refused = client.post(f"/leads/{lead.pk}/move/", {"version": lead.version, "to_stage": "mql"})
    assert refused.status_code == 422
    assert "cannot move from Sales qualified lead (SQL) to Marketing qualified lead (MQL)" in (
        refused.content.decode()
    )
    stale = client.post(
        f"/leads/{lead.pk}/move/",
        {
            "version": lead.version - 1,
            "to_stage": "recycled",
            "reason": "not_ready",
            "requalify_on": (dt.date.today() + dt.timedelta(days=9)).isoformat(),
        },
    )
    assert stale.status_code == 409
    assert "Someone else saved this record" in stale.content.decode()
    assert Lead.objects.get(pk=lead.pk).stage == "sql"


def test_the_sal_page_lists_what_the_sql_definition_still_misses(cast, client_for, lead, agreed):
    services.move(lead=lead, to_stage="sal", actor=cast.ae, channel="ui")
    text = client_for(cast.ae).get(f"/leads/{lead.pk}/").content.decode()
    assert "Agreed definition of Sales qualified lead (SQL) (version 1)" in text
    assert "budget: Budget planned, not approved, Budget approved (now Unknown)" in text


def test_the_contact_page_has_a_leads_tab_that_opens_one(cast, client_for, dupont):
    client = client_for(cast.ae)
    page = client.get(f"/contacts/{dupont.pk}/").content.decode()
    assert 'id="leads-tab-button"' in page and 'id="open-lead"' in page
    response = client.post(f"/leads/open/{dupont.pk}/", {"source": "event", "stage": "prospect"})
    lead = Lead.objects.get(contact=dupont)
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    page = client.get(f"/contacts/{dupont.pk}/").content.decode()
    assert f'href="/leads/{lead.pk}/"' in page and 'id="open-lead"' not in page


def test_the_definitions_page_shows_agreed_drafts_approvals_and_diffs(cast, client_for):
    agree("mql", "Fits our target and engages.", {"min_profile_score": 60}, cast)
    services.write_definition(
        stage="mql",
        text="Fits our target well and engages.",
        criteria={"min_profile_score": 70},
        actor=cast.marketer,
    )
    text = client_for(cast.manager).get("/leads/definitions/").content.decode()
    assert "version 1 agreed" in text
    assert "Marketing: Marie Petit" in text and "Sales: Sam Manager" in text
    assert '<ins class="text-success">well</ins>' in text
    assert "profile score 70 or more" in text
    assert 'data-side="sales"' in text and 'data-side="marketing"' not in text


def test_writing_and_approving_from_the_page(cast, client_for):
    marketing, sales = client_for(cast.marketer), client_for(cast.manager)
    bad = marketing.post("/leads/definitions/", {"stage": "mql", "text": "x", "grades": "top"})
    assert bad.status_code == 422 and "a grade is a capital letter" in bad.content.decode()
    marketing.post(
        "/leads/definitions/",
        {"stage": "sql", "text": "BANT met.", "budget": ["approved"], "need": ["critical"]},
    )
    draft = StageDefinition.objects.get()
    assert draft.criteria == {"bant": {"budget": ["approved"], "need": ["critical"]}}
    marketing.post(f"/leads/definitions/{draft.pk}/approve/", {"side": "marketing"})
    sales.post(f"/leads/definitions/{draft.pk}/approve/", {"side": "sales"})
    draft.refresh_from_db()
    assert draft.status == "agreed"


def test_a_recycled_lead_shows_why_and_when_and_how_far_it_had_gone(cast, client_for, lead):
    services.move(lead=lead, to_stage="sql", actor=cast.ae, channel="ui")
    services.move(
        lead=lead,
        to_stage="recycled",
        actor=cast.ae,
        channel="ui",
        reason="no_budget_yet",
        requalify_on=dt.date(2031, 1, 15),
    )
    text = client_for(cast.ae).get(f"/leads/{lead.pk}/").content.decode()
    assert "Recycled to Marketing: No budget yet. Re-qualify on 01/15/2031." in text
    assert 'data-stage="sql" data-state="done"' in text
    assert 'data-stage="opportunity" data-state="ahead"' in text
    assert '<span class="badge text-bg-light">No budget yet</span>' in text


def test_the_convert_page_refuses_a_lead_that_is_not_qualified(cast, client_for, lead):
    client = client_for(cast.ae)
    assert client.get(f"/leads/{lead.pk}/convert/").status_code == 200
    refused = client.post(f"/leads/{lead.pk}/convert/", {"version": lead.version, "name": "x"})
    assert refused.status_code == 200
    assert "Only a sales qualified lead converts" in refused.content.decode()
    assert Lead.objects.get(pk=lead.pk).stage == "prospect"
