"""Membership is materialised and kept current: by every save, and by a full set-based rebuild."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from cible.core.errors import ConflictError
from cible.people.models import Organisation
from cible.people.services import (
    contact_update,
    organisation_delete,
    organisation_update,
)
from cible.pipeline.services import opportunity_update
from cible.segments.axes import services
from cible.segments.axes.models import Axis, Membership, RebuildRun, Segment
from tests import factories
from tests.segments.axes.conftest import placed, segment

pytestmark = pytest.mark.django_db


def counts(*codes: str) -> list[int]:
    return [Segment.objects.get(code=code).member_count for code in codes]


def test_an_update_moves_the_organisation_from_pme_to_eti_at_once(cast: Any) -> None:
    acme = factories.organisation(cast.ae, legal_name="Acme", postal_code="59000", headcount=42)
    assert placed(acme)["size"] == "pme"
    assert counts("pme", "eti") == [1, 0]
    organisation_update(organisation=acme, actor=cast.ae, channel="ui", data={"headcount": 300})
    assert placed(acme)["size"] == "eti"
    assert counts("pme", "eti") == [0, 1]
    assert Membership.objects.filter(organisation=acme, axis__code="size").count() == 1


def test_installed_products_changed_after_the_save_are_seen(cast: Any, products: Any) -> None:
    acme = factories.organisation(cast.ae, legal_name="Acme", installed_products=["HubSpot"])
    assert placed(acme)["installed-crm"] == "hubspot"
    organisation_update(
        organisation=acme,
        actor=cast.ae,
        channel="ui",
        data={"installed_products": ["Salesforce", "HubSpot"]},
    )
    assert placed(acme)["installed-crm"] == "salesforce"
    acme.installed_products.clear()
    assert placed(acme)["installed-crm"] == "no-crm"
    products["Sage CRM"].installed_at.add(acme)  # from the product's side
    assert placed(acme)["installed-crm"] == "sage-crm"


def test_contacts_and_opportunities_move_organisations_when_rules_test_them(cast: Any) -> None:
    axis = services.axis_create(
        actor=cast.marketer, channel="ui", data={"name": "Engagement", "exclusive": False}
    )
    sales_contact = services.segment_create(
        actor=cast.marketer,
        channel="ui",
        axis=axis,
        data={
            "name": "Has a sales director",
            "rule": {
                "match": "all",
                "conditions": [
                    {"field": "contacts.function", "op": "in", "value": ["sales"]},
                    {"field": "contacts.seniority", "op": "in", "value": ["director"]},
                ],
            },
        },
    )
    lost = services.segment_create(
        actor=cast.marketer,
        channel="ui",
        axis=axis,
        data={
            "name": "Lost a deal",
            "rule": {
                "match": "all",
                "conditions": [{"field": "opportunities.stage", "op": "in", "value": ["lost"]}],
            },
        },
    )
    acme = factories.organisation(cast.ae, legal_name="Acme")
    other = factories.organisation(cast.ae, legal_name="Other")
    person = factories.contact(
        cast.ae, last_name="Durand", organisation=acme.pk, function="sales", seniority="director"
    )
    assert placed(acme)["engagement"] == sales_contact.code
    # The contact moves to another organisation: both are refreshed.
    contact_update(contact=person, actor=cast.ae, channel="ui", data={"organisation": other.pk})
    assert "engagement" not in placed(acme)
    assert placed(other)["engagement"] == sales_contact.code
    deal = factories.opportunity(cast.ae, other)
    assert (
        set(Membership.objects.filter(segment=lost).values_list("organisation", flat=True)) == set()
    )
    opportunity_update(
        opportunity=deal,
        actor=cast.ae,
        channel="ui",
        data={"stage": "lost", "closed_on": "2026-01-10", "lost_reason": "price"},
    )
    assert set(Membership.objects.filter(segment=lost).values_list("organisation", flat=True)) == {
        other.pk
    }
    sales_contact.refresh_from_db()
    assert sales_contact.member_count == 1


def test_deleting_an_organisation_takes_it_out_of_the_counts(cast: Any) -> None:
    acme = factories.organisation(cast.ae, legal_name="Acme", headcount=42)
    assert counts("pme") == [1]
    organisation_delete(organisation=acme, actor=cast.ae, channel="ui")
    assert counts("pme") == [0]
    assert not Membership.objects.exists()


def test_rebuild_after_bulk_writes_fixes_everything_and_keeps_since(cast: Any) -> None:
    with time_machine.travel(dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC), tick=False):
        acme = factories.organisation(cast.ae, legal_name="Acme", headcount=42)
    # A bulk writer changes rows without signals: memberships are stale until told.
    Organisation.objects.filter(pk=acme.pk).update(headcount=300, size_class="eti")
    Organisation.objects.bulk_create(
        [
            Organisation(legal_name=f"Bulk {i}", name_key=f"bulk {i}", size_class="tpe")
            for i in range(5)
        ]
    )
    assert placed(acme)["size"] == "pme"
    out = StringIO()
    call_command("segments", "rebuild", stdout=out)
    text = out.getvalue()
    assert "[26/26]" in text and "Done: 26 segments rebuilt in" in text
    assert placed(acme)["size"] == "eti"
    assert counts("tpe", "pme", "eti") == [5, 0, 1]
    run = RebuildRun.objects.get()
    assert (run.status, run.segments_total, run.segments_done, run.percent) == ("done", 26, 26, 100)
    assert run.rows_added == 5 + 1 + 5 and run.rows_removed == 1  # 5 TPE, ETI, 5 no-CRM; −PME
    assert run.channel == "cli" and run.seconds is not None
    # A second rebuild changes nothing, and the geography membership keeps its date.
    services.membership_rebuild()
    assert RebuildRun.objects.latest("pk").rows == 0
    since = Membership.objects.get(organisation=acme, axis__code="installed-crm").since
    assert since == dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)


def test_membership_after_bulk_refreshes_the_ids_it_is_given(cast: Any) -> None:
    rows = Organisation.objects.bulk_create(
        [Organisation(legal_name="Bulk", name_key="bulk", size_class="ge")]
    )
    diff = services.membership_after_bulk(organisation_ids=[rows[0].pk], channel="import")
    assert isinstance(diff, services.MembershipDiff)
    assert diff.added[segment("size", "large-group").pk] == {rows[0].pk}
    assert placed(rows[0]) == {"size": "large-group", "installed-crm": "no-crm"}


def test_one_rebuild_at_a_time(cast: Any) -> None:
    from django.utils import timezone

    RebuildRun.objects.create(started_at=timezone.now())
    with pytest.raises(ConflictError, match="already running"):
        services.membership_rebuild()


def test_exclusive_axis_first_segment_in_order_wins_and_order_changes_apply(cast: Any) -> None:
    axis = services.axis_create(actor=cast.admin, channel="ui", data={"name": "Temperature"})

    def rule(minimum: int) -> dict[str, Any]:
        return {
            "match": "all",
            "conditions": [{"field": "headcount", "op": "gte", "value": minimum}],
        }

    big = services.segment_create(
        actor=cast.admin, channel="ui", axis=axis, data={"name": "Big", "rule": rule(100)}
    )
    any_size = services.segment_create(
        actor=cast.admin, channel="ui", axis=axis, data={"name": "Any", "rule": rule(0)}
    )
    acme = factories.organisation(cast.ae, legal_name="Acme", headcount=500)
    tiny = factories.organisation(cast.ae, legal_name="Tiny", headcount=3)
    assert placed(acme)["temperature"] == "big" and placed(tiny)["temperature"] == "any"
    services.segment_update(segment=any_size, actor=cast.admin, channel="ui", data={"position": 1})
    assert placed(acme)["temperature"] == "any"
    big.refresh_from_db()
    any_size.refresh_from_db()
    assert (big.member_count, any_size.member_count) == (0, 2)
    # Overlapping axes keep every segment that matches.
    services.axis_update(axis=axis, actor=cast.admin, channel="ui", data={"exclusive": False})
    assert Membership.objects.filter(organisation=acme, axis=axis).count() == 2
    assert Axis.objects.get(pk=axis.pk).exclusive is False


def test_a_rule_naming_an_earlier_segment_of_its_exclusive_axis(cast: Any) -> None:
    """Such an axis is rebuilt segment by segment, after the segment it names."""
    axis = services.axis_create(actor=cast.admin, channel="ui", data={"name": "Priority"})
    big = services.segment_create(
        actor=cast.admin,
        channel="ui",
        axis=axis,
        data={
            "name": "Big",
            "rule": {
                "match": "all",
                "conditions": [{"field": "headcount", "op": "gte", "value": 100}],
            },
        },
    )
    rest = services.segment_create(
        actor=cast.admin,
        channel="ui",
        axis=axis,
        data={
            "name": "Rest",
            "rule": {
                "match": "all",
                "conditions": [{"field": "segment", "op": "not_in", "value": [big.pk]}],
            },
        },
    )
    acme = factories.organisation(cast.ae, legal_name="Acme", headcount=500)
    tiny = factories.organisation(cast.ae, legal_name="Tiny", headcount=3)
    assert placed(acme)["priority"] == "big" and placed(tiny)["priority"] == "rest"
    Organisation.objects.filter(pk=tiny.pk).update(headcount=200)  # no signal
    results = services.membership_rebuild()
    assert placed(tiny)["priority"] == "big"
    assert [Segment.objects.get(pk=s.pk).member_count for s in (big, rest)] == [2, 0]
    assert results.segments_done == 26 + 2


def test_a_run_queued_without_a_worker_does_not_block_for_long(cast: Any) -> None:
    from django.utils import timezone

    queued = RebuildRun.objects.create(started_at=timezone.now() - dt.timedelta(minutes=10))
    run = services.membership_rebuild(channel="cli")  # not refused
    assert run.status == "done" and queued.pk != run.pk


def test_merging_and_unmerging_organisations_keeps_segments_right(cast: Any) -> None:
    from cible.quality.duplicates.merge import merge_undo, records_merge

    acme = factories.organisation(cast.ae, legal_name="Acme", postal_code="59000", headcount=42)
    twin = factories.organisation(cast.ae, legal_name="ACME", postal_code="59000", headcount=300)
    assert counts("lille", "pme", "eti") == [2, 1, 1]
    merge = records_merge(
        entity="organisation", survivor=acme, loser=twin, actor=cast.admin, channel="ui"
    )
    acme.refresh_from_db()
    size = "pme" if acme.headcount == 42 else "eti"  # whichever value the merge kept
    assert placed(acme)["size"] == size
    assert counts("lille", size) == [1, 1]
    assert_counts_are_true()
    merge_undo(merge=merge, actor=cast.admin, channel="ui")
    assert counts("lille", "pme", "eti") == [2, 1, 1]
    assert placed(Organisation.objects.get(pk=twin.pk))["size"] == "eti"
    assert_counts_are_true()


def assert_counts_are_true() -> None:
    for each in Segment.objects.all():
        assert each.member_count == each.memberships.count(), each
