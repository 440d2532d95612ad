"""Writes to campaigns: validation, optimistic locking, deletion rules, members from targets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from auditlog.models import LogEntry

from cible.core.errors import ConflictError, PermissionDenied, ValidationFailed
from cible.engagement.campaigns import services
from cible.engagement.campaigns.models import Campaign, CampaignMember, MemberStatus
from cible.engagement.interactions.models import Interaction
from tests.engagement.campaigns.world import campaign, make_world

pytestmark = pytest.mark.django_db


def fields(error: Any) -> dict[str, str]:
    return {e.field: e.message for e in error.value.errors}


@pytest.fixture
def world(cast: Any) -> Any:
    return make_world(cast)


# --- create and update -------------------------------------------------------------------------


def test_create_reads_amounts_and_dates_as_people_write_them(cast: Any) -> None:
    created = campaign(
        cast.marketer,
        name="  Webinar  RevOps ",
        type="Webinar",
        goal="brand",
        budget="12 500,50 €",
        actual_cost="3,000.25",
        starts_on="01/03/2026",
        ends_on="2026-03-31",
        currency="usd",
        utm_source="linkedin",
        utm_medium="paid-social",
        utm_campaign="webinar_revops.2026",
    )
    created.refresh_from_db()
    assert created.name == "Webinar RevOps"
    assert created.type == "webinar"
    assert created.budget == Decimal("12500.50")
    assert created.actual_cost == Decimal("3000.25")
    assert str(created.starts_on) == "2026-03-01"
    assert created.currency == "USD"
    assert created.owner == cast.marketer
    assert created.utm_campaign == "webinar_revops.2026"


def test_blank_choices_keep_the_defaults(cast: Any) -> None:
    created = campaign(cast.marketer, goal="", status="", currency="")
    assert (created.goal, created.status, created.currency) == (
        "demand_generation",
        "planned",
        "EUR",
    )
    services.campaign_update(
        campaign=created, actor=cast.marketer, channel="ui", data={"status": "active"}
    )
    updated = services.campaign_update(
        campaign=created, actor=cast.marketer, channel="ui", data={"status": "", "goal": ""}
    )
    assert (updated.goal, updated.status) == ("demand_generation", "active")


def test_every_bad_field_is_named_at_once_and_nothing_is_written(cast: Any) -> None:
    with pytest.raises(ValidationFailed) as error:
        campaign(
            cast.marketer,
            name="",
            type="fax",
            budget="-10",
            actual_cost="lots",
            starts_on="2026-05-10",
            ends_on="2026-05-01",
            currency="EURO",
            utm_source="Salon CRM",
            utm_medium="é-mail",
        )
    problems = fields(error)
    assert problems["name"] == "is required"
    assert "is not one of" in problems["type"]
    assert problems["budget"] == "must not be negative"
    assert "is not an amount" in problems["actual_cost"]
    assert problems["ends_on"] == "must not be before the start date"
    assert "currency code" in problems["currency"]
    assert "letters, digits, - _ and ." in problems["utm_source"]
    assert "letters, digits, - _ and ." in problems["utm_medium"]
    assert not Campaign.objects.exists()


def test_a_stale_version_is_refused_and_the_newer_save_kept(cast: Any) -> None:
    created = campaign(cast.marketer, budget="1000")
    first = Campaign.objects.get(pk=created.pk)
    second = Campaign.objects.get(pk=created.pk)
    services.campaign_update(
        campaign=first, actor=cast.marketer, channel="ui", data={"budget": "2000"}
    )
    with pytest.raises(ConflictError) as error:
        services.campaign_update(
            campaign=second,
            actor=cast.admin,
            channel="ui",
            data={"budget": "5000"},
            expected_version=created.version,
        )
    assert "Someone else saved this record" in str(error.value)
    assert Campaign.objects.get(pk=created.pk).budget == Decimal("2000.00")


def test_end_before_start_is_checked_against_the_stored_start(cast: Any) -> None:
    created = campaign(cast.marketer, starts_on="2026-06-01")
    with pytest.raises(ValidationFailed) as error:
        services.campaign_update(
            campaign=created, actor=cast.marketer, channel="ui", data={"ends_on": "2026-05-31"}
        )
    assert fields(error) == {"ends_on": "must not be before the start date"}


def test_status_moves_follow_the_campaign_life(cast: Any) -> None:
    created = campaign(cast.marketer)
    services.campaign_set_status(
        campaign=created, status="active", actor=cast.marketer, channel="ui"
    )
    services.campaign_set_status(
        campaign=created, status="completed", actor=cast.marketer, channel="ui"
    )
    with pytest.raises(ValidationFailed) as error:
        services.campaign_set_status(
            campaign=created, status="planned", actor=cast.marketer, channel="ui"
        )
    assert fields(error)["status"] == "a campaign cannot go from “Completed” to “Planned”"
    reopened = services.campaign_set_status(
        campaign=Campaign.objects.get(pk=created.pk),
        status="active",
        actor=cast.marketer,
        channel="ui",
    )
    assert reopened.status == "active"


def test_a_target_the_actor_does_not_see_is_refused(cast: Any, world: Any) -> None:
    from cible.segments.targets.services import target_create

    private = target_create(
        actor=cast.ae,
        channel="ui",
        data={
            "name": "Alice's own",
            "definition": {"organisation": world.lille.definition["organisation"]},
        },
    )
    with pytest.raises(ValidationFailed) as error:
        campaign(cast.marketer, target=private.pk)
    assert fields(error)["target"] == f"no target #{private.pk} shared with you"
    assert campaign(cast.marketer, target=world.lille.pk).target == world.lille


def test_changes_are_audited_with_their_channel(cast: Any) -> None:
    created = campaign(cast.marketer)
    services.campaign_update(
        campaign=created, actor=cast.marketer, channel="api", data={"actual_cost": "800"}
    )
    entry = LogEntry.objects.get_for_object(created).order_by("-timestamp").first()
    assert entry.actor == cast.marketer
    assert entry.additional_data["channel"] == "api"
    assert entry.changes["actual_cost"] == ["0.00", "800.00"]


# --- delete ------------------------------------------------------------------------------------


def test_a_campaign_nothing_refers_to_is_deleted_by_its_owner(cast: Any, world: Any) -> None:
    created = campaign(cast.marketer)
    services.add_member(campaign=created, contact=world.nora, actor=cast.marketer, channel="ui")
    with pytest.raises(PermissionDenied):
        services.campaign_delete(campaign=created, actor=cast.ae, channel="ui")
    services.campaign_delete(campaign=created, actor=cast.marketer, channel="ui")
    assert not Campaign.objects.exists()
    assert not CampaignMember.objects.exists()


def test_a_campaign_with_interactions_is_not_deleted(cast: Any, world: Any) -> None:
    created = campaign(cast.marketer)
    Interaction.objects.create(kind="event", contact=world.nora, campaign=created)
    Interaction.objects.create(kind="email_opened", contact=world.nora, campaign=created)
    with pytest.raises(services.CampaignInUse) as error:
        services.campaign_delete(campaign=created, actor=cast.marketer, channel="ui")
    assert "2 interactions refer to it" in str(error.value)
    assert "Cancelled or Completed instead" in str(error.value)
    assert Interaction.objects.filter(campaign=created).count() == 2


# --- members -----------------------------------------------------------------------------------


def test_an_organisation_target_gives_its_people(cast: Any, world: Any) -> None:
    event = campaign(cast.marketer, type="event")
    result = services.add_members_from_target(
        campaign=event, target=world.lille, actor=cast.marketer
    )
    # An event invites everyone at Nordis, email or not.
    assert (result.added, result.already_members, result.opted_out, result.no_email) == (3, 0, 0, 0)
    assert set(event.members.values_list("contact", flat=True)) == {
        world.nora.pk,
        world.nadia.pk,
        world.noel.pk,
    }
    assert set(event.members.values_list("status", flat=True)) == {MemberStatus.TARGETED}


def test_an_email_campaign_skips_opted_out_contacts_and_existing_members(
    cast: Any, world: Any
) -> None:
    mailing = campaign(cast.marketer, type="email")
    services.add_member(campaign=mailing, contact=world.lucie, actor=cast.marketer, channel="ui")
    result = services.add_members_from_target(
        campaign=mailing, target=world.everyone, actor=cast.marketer
    )
    assert result.named == 6
    assert result.already_members == 1  # Lucie
    assert result.opted_out == 1  # Nadia
    assert result.no_email == 1  # Noël
    assert result.added == 3  # Nora, Luc, Solène
    assert mailing.members.count() == 4
    assert not mailing.members.filter(contact=world.nadia).exists()
    entry = LogEntry.objects.filter(additional_data__bulk__campaign=mailing.pk).get()
    assert entry.additional_data["bulk"]["rows"] == 3
    assert "Everyone" in entry.additional_data["bulk"]["source"]
    # Again: everybody is a member now, nothing is added twice.
    again = services.add_members_from_target(
        campaign=mailing, target=world.everyone, actor=cast.marketer
    )
    assert (again.added, again.already_members) == (0, 4)


def test_members_from_a_target_are_those_the_actor_sees(
    cast: Any, world: Any, team_private: Any
) -> None:
    from cible.core import access

    outsider = type(cast.outsider).objects.get(pk=cast.outsider.pk)
    event = campaign(outsider, type="event")
    result = services.add_members_from_target(
        campaign=event, target=world.all_organisations, actor=outsider
    )
    assert result.named == 2 and result.added == 2  # Lucie and Luc, not Alice's Nordis people
    assert access.can(outsider, "view", event)


def test_single_member_additions_say_why_they_are_refused(cast: Any, world: Any) -> None:
    mailing = campaign(cast.marketer, type="email")
    services.add_member(campaign=mailing, contact=world.nora, actor=cast.marketer, channel="ui")
    cases = {
        world.nora.pk: "Nora Testa is already a member of this campaign",
        world.nadia.pk: "Nadia Testa opted out of emails",
        world.noel.pk: "Noël Testa has no email address",
        999_999: "no contact you may see with id 999999",
    }
    for contact_id, message in cases.items():
        with pytest.raises(ValidationFailed) as error:
            services.add_member(
                campaign=mailing, contact=contact_id, actor=cast.marketer, channel="ui"
            )
        assert fields(error) == {"contact": message}


def test_contacts_by_id_are_all_or_nothing(cast: Any, world: Any) -> None:
    mailing = campaign(cast.marketer, type="email")
    with pytest.raises(ValidationFailed) as error:
        services.add_members(
            campaign=mailing,
            contact_ids=[world.nora.pk, 424242],
            actor=cast.marketer,
            channel="api",
        )
    assert fields(error) == {"contacts": "no contact you may see with id 424242"}
    assert not mailing.members.exists()
    result = services.add_members(
        campaign=mailing,
        contact_ids=[world.nora.pk, world.nadia.pk, world.nora.pk],
        actor=cast.marketer,
        channel="api",
    )
    assert (result.added, result.opted_out) == (1, 1)


def test_a_closed_campaign_takes_no_new_member(cast: Any, world: Any) -> None:
    created = campaign(cast.marketer, status="cancelled")
    with pytest.raises(ValidationFailed) as error:
        services.add_members_from_target(campaign=created, target=world.lille, actor=cast.marketer)
    assert "reopen it before adding members" in fields(error)["campaign"]


def test_remove_and_set_status_of_a_member(cast: Any, world: Any) -> None:
    event = campaign(cast.marketer)
    services.add_member(campaign=event, contact=world.nora, actor=cast.marketer, channel="ui")
    member = services.set_member_status(
        campaign=event, contact=world.nora.pk, status="attended", actor=cast.marketer, channel="ui"
    )
    assert member.status == "attended" and member.responded_at is not None
    services.remove_member(campaign=event, contact=world.nora, actor=cast.marketer, channel="ui")
    assert not event.members.exists()
    with pytest.raises(Exception, match="is not a member of this campaign"):
        services.remove_member(
            campaign=event, contact=world.nora, actor=cast.marketer, channel="ui"
        )
