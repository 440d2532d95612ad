"""Campaign pages: the list (a fixed number of queries), a campaign's page and its actions."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry

from cible.engagement.campaigns import hooks, services
from cible.engagement.campaigns.models import Campaign, CampaignMember
from tests.engagement.campaigns.world import campaign, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast: Any) -> Any:
    return make_world(cast)


@pytest.fixture
def marie(cast: Any, client_for: Any) -> Any:
    """Marie the marketer, whose pages are in English."""
    return client_for(cast.marketer)


@pytest.fixture(autouse=True)
def two_leads_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lifecycle reports two leads per campaign, in one call per page."""
    monkeypatch.setattr(hooks, "_providers", [lambda viewer, ids: {pk: {"leads": 2} for pk in ids}])


def test_the_list_shows_figures_in_a_fixed_number_of_queries(
    cast: Any, world: Any, marie: Any, django_assert_max_num_queries: Any
) -> None:
    def add(count: int) -> None:
        for _i in range(count):
            created = campaign(
                cast.marketer, name=f"Campaign {Campaign.objects.count()}", actual_cost="1000"
            )
            services.add_members_from_target(
                campaign=created, target=world.lille, actor=cast.marketer
            )

    add(2)
    with django_assert_max_num_queries(12) as few:
        response = marie.get("/campaigns/")
    assert response.status_code == 200
    add(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = marie.get("/campaigns/?sort=-members")
    page = response.content.decode()
    assert page.count("Campaign ") >= 10
    assert "500.00\u00a0€" in page  # cost per lead: 1,000 € for 2 leads
    assert "10 results" in page


def test_the_campaign_page_shows_kpis_funnel_and_members(cast: Any, world: Any, marie: Any) -> None:
    event = campaign(cast.marketer, name="Salon du CRM", budget="4000", actual_cost="3000")
    services.add_members_from_target(campaign=event, target=world.lille, actor=cast.marketer)
    CampaignMember.objects.filter(contact=world.nora).update(status="attended")
    response = marie.get(f"/campaigns/{event.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-kpi="members">3<' in page
    assert 'data-kpi="responses">1<' in page
    assert 'data-kpi="response-rate">33.3\u00a0%<' in page
    assert 'data-kpi="leads">2<' in page
    assert 'data-kpi="cost-per-lead">1,500.00\u00a0€<' in page
    assert "75.0\u00a0% of the budget spent" in page
    assert 'id="funnel-chart"' in page and 'id="funnel-data"' in page
    assert page.count('data-contact="') == 3


def test_members_table_filters_and_searches(cast: Any, world: Any, marie: Any) -> None:
    event = campaign(cast.marketer)
    services.add_members_from_target(campaign=event, target=world.everyone, actor=cast.marketer)
    CampaignMember.objects.filter(contact=world.luc).update(status="clicked")
    page = marie.get(f"/campaigns/{event.pk}/members/?status=clicked").content.decode()
    assert f'data-contact="{world.luc.pk}"' in page and page.count('data-contact="') == 1
    page = marie.get(f"/campaigns/{event.pk}/members/?q=nad").content.decode()
    assert f'data-contact="{world.nadia.pk}"' in page and page.count('data-contact="') == 1


def test_adding_from_a_target_shows_the_count_first(cast: Any, world: Any, marie: Any) -> None:
    mailing = campaign(cast.marketer, type="email")
    preview = marie.post(
        f"/campaigns/{mailing.pk}/members/preview/", {"target": world.everyone.pk}
    ).content.decode()
    assert 'data-split="to-add">4<' in preview
    assert 'data-split="opted-out">1<' in preview
    assert 'data-split="no-email">1<' in preview
    assert "Add 4 members" in preview
    assert not mailing.members.exists()  # nothing written by a preview
    response = marie.post(
        f"/campaigns/{mailing.pk}/members/from-target/", {"target": world.everyone.pk}, follow=True
    )
    page = response.content.decode()
    assert "4 contacts added. 1 opted out of emails. 1 have no email address." in page
    assert mailing.members.count() == 4


def test_add_one_contact_then_remove_it(cast: Any, world: Any, marie: Any) -> None:
    event = campaign(cast.marketer)
    page = marie.post(
        f"/campaigns/{event.pk}/members/add/", {"contact": world.nora.pk}, follow=True
    ).content.decode()
    assert "Nora Testa was added." in page
    page = marie.post(
        f"/campaigns/{event.pk}/members/add/", {"contact": world.nora.pk}, follow=True
    ).content.decode()
    assert "Nora Testa is already a member of this campaign" in page
    marie.post(f"/campaigns/{event.pk}/members/{world.nora.pk}/remove/")
    assert not event.members.exists()


def test_the_members_export_is_logged(cast: Any, world: Any, marie: Any) -> None:
    event = campaign(cast.marketer)
    services.add_members_from_target(campaign=event, target=world.lille, actor=cast.marketer)
    response = marie.get(f"/campaigns/{event.pk}/members/export.csv?q=no")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["Nora", "Noël"]
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert entry.additional_data["export"]["rows"] == 2
    assert entry.additional_data["channel"] == "ui"


def test_the_utm_builder_tags_the_landing_page(cast: Any, marie: Any) -> None:
    ads = campaign(
        cast.marketer, type="ads", utm_source="linkedin", utm_medium="cpc", utm_campaign="crm-2026"
    )
    page = marie.post(
        f"/campaigns/{ads.pk}/utm/",
        {"url": "www.example.com/offer?ref=1&utm_source=old#form", "utm_content": "banner-a"},
    ).content.decode()
    assert (
        'value="https://www.example.com/offer?ref=1&amp;utm_source=linkedin&amp;utm_medium=cpc'
        '&amp;utm_campaign=crm-2026&amp;utm_content=banner-a#form"'
    ) in page
    page = marie.post(f"/campaigns/{ads.pk}/utm/", {"url": "not a url"}).content.decode()
    assert "is not a web address: it contains spaces" in page
    page = marie.post(
        f"/campaigns/{ads.pk}/utm/", {"url": "x.fr", "utm_term": "deux mots"}
    ).content.decode()
    assert "may only hold letters, digits" in page


def test_create_then_edit_with_a_conflict(cast: Any, world: Any, marie: Any) -> None:
    form = marie.get("/campaigns/new/").content.decode()
    assert "Lille organisations" in form  # the targets Marie sees
    response = marie.post(
        "/campaigns/new/",
        {
            "name": "Webinar RevOps",
            "type": "webinar",
            "goal": "demand_generation",
            "status": "planned",
            "budget": "2 000",
            "currency": "EUR",
            "target": world.lille.pk,
            "owner": cast.marketer.pk,
            "ends_on": "",
            "starts_on": "",
        },
    )
    created = Campaign.objects.get(name="Webinar RevOps")
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{created.pk}/"
    assert created.target == world.lille
    services.campaign_update(
        campaign=created, actor=cast.admin, channel="ui", data={"budget": "2500"}
    )
    response = marie.post(
        f"/campaigns/{created.pk}/edit/",
        {"name": "Webinar RevOps", "type": "webinar", "budget": "3000", "version": 1},
    )
    assert response.status_code == 409
    assert "Someone else saved this record" in response.content.decode()
    response = marie.post(
        f"/campaigns/{created.pk}/edit/",
        {"name": "Webinar RevOps", "type": "webinar", "budget": "-5", "version": 2},
    )
    assert response.status_code == 422
    assert "must not be negative" in response.content.decode()


def test_deleting_a_campaign_in_use_says_why_not(cast: Any, world: Any, marie: Any) -> None:
    from cible.engagement.interactions.models import Interaction

    event = campaign(cast.marketer)
    Interaction.objects.create(kind="event", contact=world.nora, campaign=event)
    page = marie.post(f"/campaigns/{event.pk}/delete/", follow=True).content.decode()
    assert "1 interactions refer to it" in page
    assert Campaign.objects.filter(pk=event.pk).exists()


def test_a_campaign_of_another_team_is_not_found(
    cast: Any, world: Any, team_private: Any, client_for: Any
) -> None:
    theirs = campaign(cast.outsider)
    assert client_for(cast.ae).get(f"/campaigns/{theirs.pk}/").status_code == 404
    assert client_for(cast.ae).get(f"/campaigns/{theirs.pk}/members/export.csv").status_code == 404


def test_the_contact_page_has_a_campaigns_tab(cast: Any, world: Any, marie: Any) -> None:
    event = campaign(cast.marketer, name="Salon du CRM")
    services.add_member(campaign=event, contact=world.nora, actor=cast.marketer, channel="ui")
    page = marie.get(f"/contacts/{world.nora.pk}/").content.decode()
    assert 'id="contact-campaigns"' in page and "Salon du CRM" in page


def test_status_buttons_move_the_campaign_on(cast: Any, marie: Any) -> None:
    created = campaign(cast.marketer)
    page = marie.get(f"/campaigns/{created.pk}/").content.decode()
    assert 'data-status="active"' in page and 'data-status="planned"' not in page
    page = marie.post(
        f"/campaigns/{created.pk}/status/", {"status": "active", "version": 1}, follow=True
    ).content.decode()
    assert "The campaign is now Active." in page
    page = marie.post(
        f"/campaigns/{created.pk}/status/", {"status": "completed", "version": 1}, follow=True
    ).content.decode()
    assert "Someone else saved this record" in page  # the page she acted on was out of date
    assert Campaign.objects.get(pk=created.pk).status == "active"
