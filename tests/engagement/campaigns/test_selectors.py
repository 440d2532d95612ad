"""Reads of campaigns: figures, the member funnel, leads from the apps above, access rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from cible.engagement.campaigns import hooks, selectors, services
from cible.engagement.campaigns.models import CampaignMember
from cible.engagement.interactions.models import Interaction
from tests.engagement.campaigns.world import campaign, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast: Any) -> Any:
    return make_world(cast)


@pytest.fixture
def leads(monkeypatch: pytest.MonkeyPatch) -> dict[int, int]:
    """The leads each campaign produced, as the lifecycle would report them (only provider)."""
    produced: dict[int, int] = {}

    def provider(viewer: Any, ids: Any) -> dict[int, dict[str, int]]:
        return {pk: {"leads": produced[pk]} for pk in ids if pk in produced}

    monkeypatch.setattr(hooks, "_providers", [provider])
    return produced


def set_statuses(event: Any, statuses: dict[Any, str]) -> None:
    for contact, status in statuses.items():
        CampaignMember.objects.filter(campaign=event, contact=contact).update(status=status)


def fresh(user: Any) -> Any:
    return type(user).objects.get(pk=user.pk)


def test_the_funnel_counts_members_who_reached_at_least_each_status(
    cast: Any, world: Any, leads: dict[int, int]
) -> None:
    event = campaign(cast.marketer, budget="10 000", actual_cost="6 000")
    services.add_members_from_target(campaign=event, target=world.everyone, actor=cast.marketer)
    set_statuses(
        event,
        {
            world.nora: "attended",
            world.nadia: "registered",
            world.noel: "clicked",
            world.lucie: "opened",
            world.luc: "sent",
        },
    )
    leads[event.pk] = 4
    Interaction.objects.create(kind="event", contact=world.nora, campaign=event)
    Interaction.objects.bulk_create(
        [Interaction(kind="email_opened", contact=world.lucie, campaign=event) for _ in range(3)]
    )
    figures = selectors.campaign_figures(
        viewer=cast.marketer, campaign=selectors.campaign_get(viewer=cast.marketer, pk=event.pk)
    )
    assert [(s.status, s.count) for s in figures.funnel] == [
        ("targeted", 6),
        ("sent", 5),
        ("opened", 4),
        ("clicked", 3),
        ("registered", 2),
        ("attended", 1),
        ("responded", 0),
    ]
    assert figures.members == 6
    assert figures.responses == 3  # clicked and beyond
    assert figures.response_rate == Decimal(3) / Decimal(6)
    assert figures.leads == 4
    assert figures.cost_per_lead == Decimal("1500")
    assert figures.cost_per_response == Decimal("2000")
    assert figures.budget_used == Decimal("0.6")
    assert [(k.kind, k.label, k.count) for k in figures.interactions] == [
        ("email_opened", "Email opened", 3),
        ("event", "Event or trade show attendance", 1),
    ]


def test_no_leads_means_no_cost_per_lead(cast: Any, leads: dict[int, int]) -> None:
    created = campaign(cast.marketer, actual_cost="500")
    figures = selectors.campaign_figures(viewer=cast.marketer, campaign=created)
    assert figures.leads == 0
    assert figures.cost_per_lead is None
    assert figures.response_rate is None  # no member yet: no rate, rather than 0 %


def test_list_filters_by_type_goal_status_and_running_period(cast: Any) -> None:
    campaign(
        cast.marketer,
        name="Spring mailing",
        type="email",
        starts_on="2026-03-01",
        ends_on="2026-03-31",
    )
    campaign(
        cast.marketer,
        name="Summer fair",
        type="event",
        goal="brand",
        starts_on="2026-06-10",
        ends_on="2026-06-12",
    )
    campaign(
        cast.marketer,
        name="Always-on ads",
        type="ads",
        goal="awareness",
        status="active",
        starts_on="2026-01-01",
    )

    def names(**params: str) -> list[str]:
        qs, query = selectors.campaign_list(viewer=cast.marketer, params={"sort": "name", **params})
        assert not query.errors
        return [c.name for c in qs]

    assert names(type="email") == ["Spring mailing"]
    assert names(goal="brand") == ["Summer fair"]
    assert names(status="active") == ["Always-on ads"]
    # Running at some point in June: the fair, and the ads that never end.
    assert names(period_min="2026-06-01", period_max="2026-06-30") == [
        "Always-on ads",
        "Summer fair",
    ]
    assert names(period_max="2026-02-28") == ["Always-on ads"]
    _qs, query = selectors.campaign_list(
        viewer=cast.marketer, params={"type": "fax", "sort": "colour"}
    )
    assert {e.field for e in query.errors} == {"type", "sort"}


def test_list_figures_and_sorting_by_members(cast: Any, world: Any, leads: dict[int, int]) -> None:
    big = campaign(cast.marketer, name="Big", actual_cost="900")
    small = campaign(cast.marketer, name="Small")
    services.add_members_from_target(campaign=big, target=world.everyone, actor=cast.marketer)
    services.add_member(campaign=small, contact=world.nora, actor=cast.marketer, channel="ui")
    set_statuses(big, {world.nora: "clicked", world.luc: "responded"})
    leads[big.pk] = 3
    qs, _query = selectors.campaign_list(viewer=cast.marketer, params={"sort": "-members"})
    rows = [(c.name, c.member_count, c.response_count, c.lead_count, c.cost_per_lead) for c in qs]
    assert rows == [("Big", 6, 2, 3, Decimal(300)), ("Small", 1, 0, 0, None)]


def test_a_team_private_contact_is_not_counted_for_an_outsider(
    cast: Any, world: Any, team_private: Any, leads: dict[int, int]
) -> None:
    """Olivier (AE Lyon) runs the campaign; Nora belongs to Alice's team (AE Paris)."""
    event = campaign(cast.marketer, name="Lyon breakfast", owner=cast.outsider.pk)
    services.add_member(campaign=event, contact=world.nora, actor=cast.admin, channel="ui")
    services.add_member(campaign=event, contact=world.lucie, actor=cast.admin, channel="ui")
    set_statuses(event, {world.nora: "clicked"})
    outsider, marketer = fresh(cast.outsider), fresh(cast.marketer)

    assert selectors.campaign_figures(viewer=marketer, campaign=event).members == 2
    theirs = selectors.campaign_figures(viewer=outsider, campaign=event)
    assert (theirs.members, theirs.responses) == (1, 0)
    listed = selectors.campaign_list(viewer=outsider, params={})[0].get()
    assert (listed.member_count, listed.response_count) == (1, 0)
    members = selectors.member_list(viewer=outsider, campaign=event)
    assert [m.contact_id for m in members] == [world.lucie.pk]
    # Alice's team does not see Olivier's campaign at all.
    assert not selectors.campaign_list(viewer=fresh(cast.ae), params={})[0].exists()


def test_members_are_filtered_by_status_and_searched_by_name_or_email(
    cast: Any, world: Any
) -> None:
    event = campaign(cast.marketer)
    services.add_members_from_target(campaign=event, target=world.everyone, actor=cast.marketer)
    set_statuses(event, {world.lucie: "registered", world.luc: "registered"})

    def found(**params: str) -> set[str]:
        return {
            m.contact.first_name
            for m in selectors.member_list(viewer=cast.marketer, campaign=event, **params)
        }

    assert found(status="registered") == {"Lucie", "Luc"}
    assert found(search="luc") == {"Lucie", "Luc"}
    assert found(search="Noel") == {"Noël"}  # accents do not matter
    assert found(search="nadia@") == {"Nadia"}
    assert found(search="testa lucie") == {"Lucie"}


def test_the_members_export_is_formula_safe_and_audited(cast: Any, world: Any) -> None:
    from auditlog.models import LogEntry

    event = campaign(cast.marketer, name="=HYPERLINK()")
    services.add_members_from_target(campaign=event, target=world.lille, actor=cast.marketer)
    response = selectors.member_export(viewer=cast.marketer, campaign=event)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Contact id,First name,Last name,Email,Opted out of emails")
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["Nadia", "Nora", "Noël"]
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).get()
    assert entry.additional_data["export"]["rows"] == 3
    assert entry.actor == cast.marketer


def test_a_contact_page_lists_the_campaigns_the_viewer_sees(cast: Any, world: Any) -> None:
    event = campaign(cast.marketer, name="Salon")
    services.add_member(campaign=event, contact=world.nora, actor=cast.marketer, channel="ui")
    rows = selectors.contact_memberships(viewer=cast.ae, contact=world.nora)
    assert [m.campaign.name for m in rows] == ["Salon"]
