"""Campaigns through the API: shapes, figures, members, and the one error shape."""

from __future__ import annotations

from typing import Any

import pytest

from cible.engagement.campaigns import hooks, services
from cible.engagement.campaigns.models import Campaign, CampaignMember
from tests.api.conftest import api_for, assert_error_shape, fields_of  # noqa: F401  (fixture)
from tests.engagement.campaigns.world import campaign, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast: Any) -> Any:
    return make_world(cast)


@pytest.fixture
def marie(cast: Any, api_for: Any) -> Any:  # noqa: F811
    return api_for(cast.marketer)


@pytest.fixture(autouse=True)
def leads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hooks, "_providers", [lambda viewer, ids: {pk: {"leads": 4} for pk in ids}])


def test_create_answers_the_campaign_with_its_figures(cast: Any, world: Any, marie: Any) -> None:
    response = marie.post(
        "/campaigns",
        {
            "name": "Webinar RevOps",
            "type": "webinar",
            "budget": "5 000",
            "actual_cost": 2000,
            "starts_on": "15/04/2026",
            "target": world.lille.pk,
            "utm_source": "newsletter",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Webinar RevOps"
    assert body["budget"] == "5000.00" and body["actual_cost"] == "2000.00"
    assert body["starts_on"] == "2026-04-15"
    assert body["owner"] == cast.marketer.pk
    assert body["target"] == world.lille.pk
    assert body["figures"]["members"] == 0
    assert body["figures"]["leads"] == 4
    assert body["figures"]["cost_per_lead"] == "500.00"
    assert [s["status"] for s in body["figures"]["funnel"]] == [
        "targeted",
        "sent",
        "opened",
        "clicked",
        "registered",
        "attended",
        "responded",
    ]


def test_bad_values_answer_422_naming_each_field(marie: Any) -> None:
    response = marie.post(
        "/campaigns",
        {
            "name": "X",
            "type": "email",
            "budget": "-1",
            "starts_on": "2026-05-02",
            "ends_on": "2026-05-01",
            "utm_campaign": "été 2026",
        },
    )
    body = assert_error_shape(response, 422)
    assert fields_of(body) == {"budget", "ends_on", "utm_campaign"}
    response = marie.post("/campaigns", {"name": "X", "type": "email", "colour": "red"})
    assert_error_shape(response, 422)
    assert not Campaign.objects.exists()


def test_patch_with_a_stale_version_is_409(cast: Any, marie: Any) -> None:
    created = campaign(cast.marketer)
    first = marie.patch(f"/campaigns/{created.pk}", {"version": 1, "status": "active"})
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = marie.patch(f"/campaigns/{created.pk}", {"version": 1, "actual_cost": "10"})
    body = assert_error_shape(stale, 409)
    assert "Someone else saved this record" in body["detail"]


def test_list_with_figures_and_filters(cast: Any, world: Any, marie: Any) -> None:
    mailing = campaign(cast.marketer, name="Mailing", type="email", actual_cost="800")
    campaign(cast.marketer, name="Fair", type="event")
    services.add_members_from_target(campaign=mailing, target=world.everyone, actor=cast.marketer)
    CampaignMember.objects.filter(contact=world.nora).update(status="clicked")
    body = marie.get("/campaigns", type="email", count="true").json()
    assert body["count"] == 1
    (item,) = body["items"]
    assert (item["name"], item["members"], item["responses"]) == ("Mailing", 4, 1)
    assert (item["leads"], item["cost_per_lead"]) == (4, "200.00")
    assert_error_shape(marie.get("/campaigns", status="finished"), 422)
    by_cost = marie.get("/campaigns", sort="-cost").json()["items"]
    assert [c["name"] for c in by_cost] == ["Mailing", "Fair"]


def test_campaigns_page_through_a_sort_by_their_figures(cast: Any, world: Any, marie: Any) -> None:
    """Members and responses are counted, not stored: paging by them still gives every
    campaign once, in order."""
    mailing = campaign(cast.marketer, name="Mailing", type="email")
    webinar = campaign(cast.marketer, name="Webinar", type="webinar")
    fair = campaign(cast.marketer, name="Fair")
    talk = campaign(cast.marketer, name="Talk")
    services.add_members_from_target(campaign=mailing, target=world.everyone, actor=cast.marketer)
    for room, guests in ((webinar, [world.nora, world.solene]), (fair, [world.nora])):
        services.add_members(
            campaign=room, contact_ids=[g.pk for g in guests], actor=cast.marketer, channel="api"
        )
    CampaignMember.objects.filter(campaign=fair).update(status="clicked")

    def pages(sort: str) -> list[tuple[str, int, int]]:
        seen, cursor = [], None
        while True:
            body = marie.get(
                "/campaigns", sort=sort, limit=1, **({"cursor": cursor} if cursor else {})
            )
            assert body.status_code == 200, body.json()
            page = body.json()
            seen += [(c["name"], c["members"], c["responses"]) for c in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                return seen

    assert pages("-members") == [
        ("Mailing", 4, 0),
        ("Webinar", 2, 0),
        ("Fair", 1, 1),
        ("Talk", 0, 0),
    ]
    assert pages("members") == [
        ("Talk", 0, 0),
        ("Fair", 1, 1),
        ("Webinar", 2, 0),
        ("Mailing", 4, 0),
    ]
    # Ties go by id, in the direction of the sort, as on the list page.
    assert [name for name, _m, _r in pages("-responses")] == ["Fair", "Talk", "Webinar", "Mailing"]
    assert [name for name, _m, _r in pages("responses")] == ["Mailing", "Webinar", "Talk", "Fair"]
    assert talk.pk > fair.pk > webinar.pk > mailing.pk


def test_members_are_added_by_ids_or_target_listed_and_removed(
    cast: Any, world: Any, marie: Any
) -> None:
    mailing = campaign(cast.marketer, type="email")
    added = marie.post(
        f"/campaigns/{mailing.pk}/members", {"contacts": [world.nora.pk, world.nadia.pk]}
    )
    assert added.json() == {
        "added": 1,
        "already_members": 0,
        "opted_out": 1,
        "no_email": 0,
        "considered": 2,
    }
    added = marie.post(f"/campaigns/{mailing.pk}/members", {"target": world.all_organisations.pk})
    assert added.json() == {
        "added": 2,
        "already_members": 1,
        "opted_out": 1,
        "no_email": 1,
        "considered": 5,
    }
    page = marie.get(f"/campaigns/{mailing.pk}/members", count="true", limit=2).json()
    assert page["count"] == 3 and len(page["items"]) == 2 and page["next_cursor"]
    rest = marie.get(f"/campaigns/{mailing.pk}/members", cursor=page["next_cursor"], limit=2).json()
    names = [m["first_name"] for m in page["items"] + rest["items"]]
    assert sorted(names) == ["Luc", "Lucie", "Nora"]
    assert rest["items"][0]["status"] == "targeted"
    searched = marie.get(f"/campaigns/{mailing.pk}/members", search="nora").json()["items"]
    assert [m["contact"] for m in searched] == [world.nora.pk]
    assert marie.delete(f"/campaigns/{mailing.pk}/members/{world.nora.pk}").status_code == 204
    gone = marie.delete(f"/campaigns/{mailing.pk}/members/{world.nora.pk}")
    assert_error_shape(gone, 404)
    assert mailing.members.count() == 2


def test_member_requests_that_make_no_sense_are_422(cast: Any, world: Any, marie: Any) -> None:
    event = campaign(cast.marketer)
    both = marie.post(
        f"/campaigns/{event.pk}/members", {"contacts": [world.nora.pk], "target": world.lille.pk}
    )
    assert_error_shape(both, 422)
    unknown = marie.post(f"/campaigns/{event.pk}/members", {"contacts": [world.nora.pk, 987654]})
    body = assert_error_shape(unknown, 422)
    assert body["errors"] == [
        {"field": "contacts", "message": "no contact you may see with id 987654"}
    ]
    hidden = marie.post(f"/campaigns/{event.pk}/members", {"target": 987654})
    assert fields_of(assert_error_shape(hidden, 422)) == {"target"}
    assert_error_shape(marie.get(f"/campaigns/{event.pk}/members", status="won"), 422)
    assert not event.members.exists()


def test_delete_is_refused_while_interactions_refer_to_it(
    cast: Any, world: Any, marie: Any
) -> None:
    from cible.engagement.interactions.models import Interaction

    used = campaign(cast.marketer)
    Interaction.objects.create(kind="webinar", contact=world.nora, campaign=used)
    body = assert_error_shape(marie.delete(f"/campaigns/{used.pk}"), 409)
    assert "1 interactions refer to it" in body["detail"]
    unused = campaign(cast.marketer, name="Typo")
    assert marie.delete(f"/campaigns/{unused.pk}").status_code == 204


def test_an_outsider_gets_404_for_a_campaign_of_another_team(
    cast: Any,
    team_private: Any,
    api_for: Any,  # noqa: F811
) -> None:
    theirs = campaign(cast.ae)
    outsider = api_for(cast.outsider)
    assert_error_shape(outsider.get(f"/campaigns/{theirs.pk}"), 404)
    assert_error_shape(outsider.get(f"/campaigns/{theirs.pk}/members"), 404)
    assert outsider.get("/campaigns").json()["items"] == []


def test_an_update_answers_fresh_figures(cast: Any, marie: Any) -> None:
    created = campaign(cast.marketer, actual_cost="400")
    body = marie.patch(f"/campaigns/{created.pk}", {"version": 1, "actual_cost": "1 000"}).json()
    assert body["actual_cost"] == "1000.00"
    assert body["cost_per_lead"] == "250.00"  # four leads
    assert body["figures"]["cost_per_lead"] == "250.00"


def test_a_campaign_created_for_another_team_is_answered_all_the_same(
    cast: Any,
    team_private: Any,
    api_for: Any,  # noqa: F811
) -> None:
    response = api_for(cast.ae).post(
        "/campaigns", {"name": "For Lyon", "type": "event", "owner": cast.outsider.pk}
    )
    assert response.status_code == 201, response.content
    assert response.json()["owner"] == cast.outsider.pk
