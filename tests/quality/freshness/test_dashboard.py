"""The dashboard's figures: real counts, kept current as records change, over visible records."""

from __future__ import annotations

from typing import Any

import pytest

from cible.people import services as people
from cible.quality.freshness import selectors, tally
from cible.quality.freshness.models import QualityTally
from cible.quality.freshness.selectors import EntityFigures
from tests import factories
from tests.quality.freshness.conftest import Base, backdate

pytestmark = pytest.mark.django_db


def fresh(user: Any) -> Any:
    """The user read again: the access policy is cached on a user object (once per request)."""
    return type(user).objects.get(pk=user.pk)


def figures(viewer: Any) -> dict[str, EntityFigures]:
    tally.tally_catch_up()
    return {f.entity: f for f in selectors.dashboard(viewer=fresh(viewer)).entities}


def field(f: EntityFigures, name: str) -> tuple[int, int]:
    found = next(x for x in f.fields if x.name == name)
    return found.filled, found.expected


def reasons(f: EntityFigures) -> dict[str, int]:
    return {r.code: r.count for r in f.reasons}


def test_admin_sees_every_figure(cast: Any, base: Base) -> None:
    f = figures(cast.admin)
    orgs, contacts = f["organisation"], f["contact"]
    assert orgs.total == 6
    assert orgs.stale == 4  # Ancienne, Lyonnaise (age), Jamais (never), Fermée (closed)
    assert reasons(orgs) == {"age": 2, "never": 1, "closed": 1}
    # SIREN is expected on French organisations only: Fraîche and Lyonnaise.
    assert field(orgs, "siren") == (1, 2)
    assert field(orgs, "domain") == (1, 6)
    assert field(orgs, "owner") == (6, 6)
    assert orgs.incomplete == 5  # all but Fraîche
    assert orgs.complete_percent == pytest.approx(16.7)
    assert contacts.total == 6
    assert reasons(contacts) == {"age": 0, "never": 1, "bounced": 1, "left": 1, "closed": 1}
    assert contacts.stale == 4
    assert field(contacts, "email") == (3, 6)
    assert field(contacts, "organisation") == (2, 6)
    assert contacts.duplicates == 0  # duplicate detection is installed, and found nothing


def test_an_ae_sees_figures_of_the_records_they_may_see_only(
    cast: Any, base: Base, team_private: Any
) -> None:
    f = figures(cast.ae)
    assert f["organisation"].total == 5  # Olivier's Lyon organisation is another team's
    assert f["organisation"].stale == 3
    assert reasons(f["contact"])["never"] == 0  # Lyonnais is Olivier's
    owners = {row.name for row in selectors.dashboard(viewer=fresh(cast.ae)).owners}
    assert owners == {"Alice Martin"}
    outsider = figures(cast.outsider)
    assert outsider["organisation"].total == 1
    assert outsider["organisation"].stale == 1
    # Marketing works the whole base.
    assert figures(cast.marketer)["organisation"].total == 6


def test_unowned_records_count_for_everyone(cast: Any, base: Base, team_private: Any) -> None:
    unowned = factories.organisation(cast.ae, legal_name="Orpheline SAS")
    people.organisation_update(
        organisation=unowned, actor=cast.admin, channel="ui", data={"owner": None}
    )
    assert figures(cast.outsider)["organisation"].total == 2
    rows = {row.key: row for row in selectors.dashboard(viewer=fresh(cast.outsider)).owners}
    assert rows["none"].records["organisation"] == 1


def test_verifying_a_record_improves_the_figures_at_once(cast: Any, base: Base) -> None:
    assert figures(cast.admin)["organisation"].stale == 4
    people.organisation_mark_verified(organisation=base.old_org, actor=cast.ae, channel="ui")
    after = figures(cast.admin)["organisation"]
    assert after.stale == 3
    assert reasons(after)["age"] == 1


def test_closing_an_organisation_makes_its_contacts_stale(cast: Any, base: Base) -> None:
    assert reasons(figures(cast.admin)["contact"])["closed"] == 1
    people.organisation_update(
        organisation=base.fresh_org, actor=cast.ae, channel="ui", data={"status": "closed"}
    )
    assert reasons(figures(cast.admin)["contact"])["closed"] == 2  # Paul Frais too


def test_deleting_and_reassigning_records_is_counted(cast: Any, base: Base) -> None:
    figures(cast.admin)
    people.organisation_update(
        organisation=base.lyon_org, actor=cast.admin, channel="ui", data={"owner": cast.ae.pk}
    )
    people.contact_delete(contact=base.lyon_contact, actor=cast.outsider, channel="ui")
    tally.tally_catch_up()
    rows = {row.name: row for row in selectors.dashboard(viewer=cast.admin).owners}
    assert rows["Alice Martin"].records["organisation"] == 6
    assert "Olivier Roux" not in rows  # nothing of his is left
    assert figures(cast.admin)["contact"].total == 5


def test_bulk_inserted_rows_are_noticed_by_their_ids(cast: Any, base: Base) -> None:
    from cible.core.bulk import bulk_insert
    from cible.people.models import Organisation

    figures(cast.admin)
    bulk_insert(
        Organisation,
        ["legal_name", "name_key", "owner_id"],
        [("Importée SAS", "importee sas", cast.ae.pk)],
    )
    assert figures(cast.admin)["organisation"].total == 7


def test_a_big_backlog_goes_to_the_background(cast: Any, base: Base) -> None:
    figures(cast.admin)
    asked = []
    for record in (base.fresh_org, base.old_org):
        backdate(record, created=300)
    status = tally.tally_catch_up(inline_buckets=0, request_background=lambda: asked.append(1))
    assert asked == [1]
    assert status.ready


def test_anonymised_contacts_are_left_out(cast: Any, base: Base) -> None:
    from cible.people.models import Contact

    Contact.objects.filter(pk=base.left_contact.pk).update(
        anonymised_at=base.left_contact.created_at
    )
    tally.tally_invalidate(entity="contact", ids=[base.left_contact.pk])
    f = figures(cast.admin)["contact"]
    assert f.total == 5
    assert reasons(f)["left"] == 0


def test_changing_the_rules_recomputes_the_figures(cast: Any, base: Base) -> None:
    from cible.quality.freshness.services import freshness_policy_update

    assert figures(cast.admin)["organisation"].stale == 4
    freshness_policy_update(
        actor=cast.admin,
        channel="ui",
        data={"organisation_max_age_days": "450", "organisation_closed": False},
    )
    orgs = figures(cast.admin)["organisation"]
    assert reasons(orgs) == {"age": 1, "never": 1}  # Ancienne (400 days) is fresh enough now
    assert orgs.stale == 2
    assert QualityTally.objects.filter(entity="organisation").exists()


@pytest.mark.parametrize("visibility", ["shared", "team"])
def test_summed_slices_equal_a_direct_count_over_visible_records(
    cast: Any, base: Base, visibility: str
) -> None:
    """The tally is an optimisation: for every viewer, its sums equal one aggregate over the
    records `core.access.visible` gives that viewer."""
    from django.utils import timezone

    from cible.core import access
    from cible.core.models import AccessPolicy
    from cible.quality.freshness import rules
    from cible.quality.freshness.models import FreshnessPolicy

    AccessPolicy.objects.update_or_create(pk=1, defaults={"account_visibility": visibility})
    policy_rules = FreshnessPolicy.current().rules
    for member in ("admin", "manager", "ae", "sdr", "outsider", "marketer", "csm"):
        viewer = fresh(getattr(cast, member))
        shown = figures(viewer)
        for entity in ("organisation", "contact"):
            visible = access.visible(viewer, tally.base_queryset(entity))
            direct: dict[str, int] = {}
            for counts in tally.counts_by_owner(
                visible, entity, policy_rules, timezone.localdate()
            ).values():
                rules.add_counts(direct, counts)
            f = shown[entity]
            assert (f.total, f.stale, f.incomplete) == (
                direct.get("total", 0),
                direct.get("stale", 0),
                direct.get("incomplete", 0),
            ), (member, entity)
            assert {r.code: r.count for r in f.reasons} == {
                r: direct.get(f"stale:{r}", 0) for r in policy_rules.active_reasons(entity)
            }
