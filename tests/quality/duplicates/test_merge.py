"""A merge keeps every related record and the history, records a snapshot, and can be undone
exactly; a record someone may not change cannot be merged."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from cible.core.errors import ConflictError, PermissionDenied
from cible.people.models import Contact, Organisation
from cible.people.services import organisation_update
from cible.pipeline.models import Opportunity
from cible.quality.duplicates import merge
from cible.quality.duplicates.models import DuplicatePair, MergeRecord, PairStatus
from cible.quality.duplicates.relations import snapshot
from cible.segments.axes import services as segments
from cible.segments.axes.models import Membership, Segment
from tests import factories

pytestmark = pytest.mark.django_db


def entries(record: Any) -> list[LogEntry]:
    content_type = ContentType.objects.get_for_model(type(record))
    return list(LogEntry.objects.filter(content_type=content_type, object_pk=str(record.pk)))


def fields_of(record: Any) -> dict[str, Any]:
    data = snapshot(record)["fields"]
    data.pop("updated_at")
    data.pop("version")
    return data


def test_merge_keeps_every_related_record_and_the_history(cast, twins, detected) -> None:
    older, newer = twins.older, twins.newer
    newer_history = len(entries(newer))
    record = merge.pair_merge(pair=detected, actor=cast.ae, channel="ui")

    assert (record.survivor_id, record.loser_id) == (older.pk, newer.pk)  # the fuller one stays
    assert not Organisation.objects.filter(pk=newer.pk).exists()
    survivor = Organisation.objects.get(pk=older.pk)
    assert set(survivor.contacts.values_list("last_name", flat=True)) == {"Martin", "Durand"}
    assert Opportunity.objects.get(pk=twins.opportunity.pk).organisation_id == older.pk
    assert Organisation.objects.get(pk=twins.subsidiary.pk).parent_id == older.pk
    assert set(survivor.installed_products.values_list("name", flat=True)) == {
        "Salesforce",
        "HubSpot",
    }
    # a filled value beats an empty one; of two filled ones, the fuller record's
    assert survivor.naf_code == "70.22Z"
    assert survivor.headcount == 40
    assert survivor.legal_name == "Dupont Conseil SAS"
    assert survivor.owner == cast.ae
    assert survivor.website == "https://www.dupont-conseil.fr"
    # the loser's history is still there, and the survivor's history names the merge
    assert len(entries(newer)) >= newer_history + 1  # + its deletion, marked as a merge
    deletion = next(e for e in entries(newer) if e.action == LogEntry.Action.DELETE)
    assert deletion.additional_data["merged_into"] == older.pk
    assert deletion.additional_data["channel"] == "ui"
    assert deletion.actor == cast.ae
    merged_entry = [e for e in entries(survivor) if "merged into this record" in e.changes]
    assert merged_entry and f"#{newer.pk}" in merged_entry[0].changes["merged into this record"][1]
    # the moved contact's own history says where it went
    moved = entries(Contact.objects.get(pk=twins.newer_contact.pk))
    assert any(e.changes.get("organisation") == [str(newer.pk), str(older.pk)] for e in moved)
    # what the merge record keeps
    assert record.loser_snapshot["fields"]["legal_name"] == "DUPONT CONSEIL"
    assert record.survivor_before["fields"]["naf_code"] == ""
    kinds = {(g["kind"], g.get("model")) for g in record.moved}
    assert ("fk", "people.contact") in kinds and ("fk", "pipeline.opportunity") in kinds
    assert ("fk", "people.organisation") in kinds  # the subsidiary
    detected.refresh_from_db()
    assert (detected.status, detected.decided_by) == (PairStatus.MERGED, cast.ae)


def test_chosen_values_survive(cast, twins, detected) -> None:
    record = merge.pair_merge(
        pair=detected,
        actor=cast.ae,
        channel="api",
        survivor_id=twins.newer.pk,
        choices={"legal_name": "loser", "street": "loser", "owner": "survivor"},
    )
    survivor = Organisation.objects.get(pk=twins.newer.pk)
    assert record.loser_id == twins.older.pk
    assert survivor.legal_name == "Dupont Conseil SAS"
    assert survivor.street == "12 rue de la Paix"
    assert survivor.owner == cast.ae2
    assert survivor.name_key == "dupont conseil sas"  # derived fields follow
    assert record.values["legal_name"] == "loser" and record.channel == "api"


def test_undo_restores_exactly(cast, twins, detected) -> None:
    older, newer = (Organisation.objects.get(pk=pk) for pk in (twins.older.pk, twins.newer.pk))
    before = {pk: fields_of(Organisation.objects.get(pk=pk)) for pk in (older.pk, newer.pk)}
    products = {
        pk: set(Organisation.objects.get(pk=pk).installed_products.values_list("name", flat=True))
        for pk in (older.pk, newer.pk)
    }
    record = merge.pair_merge(
        pair=detected, actor=cast.ae, channel="ui", choices={"legal_name": "loser"}
    )

    restored = merge.merge_undo(merge=record, actor=cast.ae, channel="ui")

    assert restored.pk == newer.pk
    for pk in (older.pk, newer.pk):
        again = Organisation.objects.get(pk=pk)
        assert fields_of(again) == before[pk]
        assert set(again.installed_products.values_list("name", flat=True)) == products[pk]
    assert Contact.objects.get(pk=twins.newer_contact.pk).organisation_id == newer.pk
    assert Contact.objects.get(pk=twins.older_contact.pk).organisation_id == older.pk
    assert Opportunity.objects.get(pk=twins.opportunity.pk).organisation_id == newer.pk
    assert Organisation.objects.get(pk=twins.subsidiary.pk).parent_id == newer.pk
    record.refresh_from_db()
    assert record.undone_by == cast.ae and record.undone_at is not None
    assert DuplicatePair.objects.get(pk=detected.pk).status == PairStatus.OPEN
    # the restored record's history runs on: its old entries, the merge, the restore
    assert any("restored by undoing a merge" in e.changes for e in entries(restored))
    with pytest.raises(ConflictError, match="already been undone"):
        merge.merge_undo(merge=record, actor=cast.ae, channel="ui")


def test_undo_is_refused_once_the_survivor_changed(cast, twins, detected) -> None:
    record = merge.pair_merge(pair=detected, actor=cast.ae, channel="ui")
    survivor = Organisation.objects.get(pk=record.survivor_id)
    organisation_update(organisation=survivor, actor=cast.ae, channel="ui", data={"tier": "gold"})
    with pytest.raises(ConflictError, match="has been changed since the merge"):
        merge.merge_undo(merge=record, actor=cast.ae, channel="ui")
    assert not Organisation.objects.filter(pk=record.loser_id).exists()
    assert MergeRecord.objects.get(pk=record.pk).undone_at is None


def test_a_record_changed_since_the_comparison_is_not_merged(cast, twins, detected) -> None:
    stale = {twins.older.pk: twins.older.version, twins.newer.pk: twins.newer.version}
    organisation_update(
        organisation=twins.newer, actor=cast.ae2, channel="ui", data={"tier": "gold"}
    )
    with pytest.raises(ConflictError, match="changed by someone else"):
        merge.pair_merge(pair=detected, actor=cast.ae, channel="ui", versions=stale)
    assert Organisation.objects.filter(pk=twins.newer.pk).exists()


def test_merge_refused_to_whoever_may_not_change_both(cast, team_private, twins, detected) -> None:
    with pytest.raises(PermissionDenied, match="may not change"):
        merge.pair_merge(pair=detected, actor=cast.marketer, channel="ui")
    with pytest.raises(PermissionDenied):
        merge.pair_mark_not_duplicate(pair=detected, actor=cast.marketer, channel="ui")
    assert Organisation.objects.filter(pk=twins.newer.pk).exists()
    assert DuplicatePair.objects.get(pk=detected.pk).status == PairStatus.OPEN


def test_contacts_merge_moves_their_reports(cast) -> None:
    boss = factories.contact(cast.ae, first_name="Anne", last_name="Roy", email="anne@roy.fr")
    again = factories.contact(cast.ae, first_name="Anne", last_name="ROY", email="anne@roy.fr")
    report = factories.contact(cast.ae, last_name="Petit", reports_to=again.pk)
    record = merge.records_merge(
        entity="contact", survivor=boss, loser=again, actor=cast.ae, channel="cli"
    )
    assert Contact.objects.get(pk=report.pk).reports_to_id == boss.pk
    merge.merge_undo(merge=record, actor=cast.ae, channel="cli")
    assert Contact.objects.get(pk=report.pk).reports_to_id == again.pk


def test_opt_out_survives_a_merge(cast) -> None:
    subscribed = factories.contact(
        cast.ae, first_name="Léa", last_name="Blanc", email="lea@blanc.fr"
    )
    opted_out = factories.contact(
        cast.ae, first_name="Léa", last_name="Blanc", email_opt_out="yes", email_consent="withdrawn"
    )
    merge.records_merge(
        entity="contact", survivor=subscribed, loser=opted_out, actor=cast.ae, channel="ui"
    )
    subscribed.refresh_from_db()
    assert subscribed.email_opt_out is True
    assert subscribed.email_consent == "withdrawn"
    assert subscribed.email == "lea@blanc.fr"


def test_a_known_buying_role_survives_a_merge(cast) -> None:
    known = factories.contact(
        cast.ae, first_name="Marc", last_name="Roy", buying_role="decision_maker"
    )
    unknown = factories.contact(cast.ae, first_name="Marc", last_name="Roy", email="marc@roy.fr")
    merge.records_merge(
        entity="contact", survivor=unknown, loser=known, actor=cast.ae, channel="ui"
    )
    unknown.refresh_from_db()
    assert (unknown.buying_role, unknown.email) == ("decision_maker", "marc@roy.fr")


def test_external_keys_move_with_the_record(cast, twins, detected) -> None:
    from django.apps import apps

    ExternalKey = apps.get_model("imports", "ExternalKey")
    key = ExternalKey.objects.create(
        entity="organisations", source="salesforce", external_id="001XYZ", object_id=twins.newer.pk
    )
    record = merge.pair_merge(pair=detected, actor=cast.ae, channel="ui")
    assert ExternalKey.objects.get(pk=key.pk).object_id == record.survivor_id
    merge.merge_undo(merge=record, actor=cast.ae, channel="ui")
    assert ExternalKey.objects.get(pk=key.pk).object_id == twins.newer.pk


def test_hand_placements_of_the_merged_record_carry_over_and_come_back_on_undo(
    cast, twins, detected
) -> None:
    older, newer = twins.older, twins.newer  # the survivor (headcount 40), the one merged away

    def axis(name: str, exclusive: bool) -> Any:
        data = {"name": name, "exclusive": exclusive}
        return segments.axis_create(actor=cast.manager, channel="ui", data=data)

    def by_hand(axis: Any, name: str) -> Any:
        data = {"name": name, "kind": "manual"}
        return segments.segment_create(actor=cast.manager, channel="ui", axis=axis, data=data)

    def place(segment: Any, organisation: Any) -> None:
        segments.segment_add_members(
            segment=segment, actor=cast.manager, channel="ui", organisation_ids=[organisation.pk]
        )

    def placed(organisation: Any) -> set[str]:
        rows = Membership.of_organisations([organisation.pk]).filter(axis__in=axes)
        return set(rows.values_list("segment__name", flat=True))

    def counts() -> dict[str, int]:
        return dict(Segment.objects.filter(axis__in=axes).values_list("name", "member_count"))

    axes = [axis("Events", False), axis("Accounts", True), axis("Tiers", True)]
    events, accounts, tiers = axes
    fair, webinar = by_hand(events, "Trade fair"), by_hand(events, "Webinar")
    strategic = by_hand(accounts, "Strategic")
    large = {"match": "all", "conditions": [{"field": "headcount", "op": "gte", "value": 30}]}
    segments.segment_create(
        actor=cast.manager, channel="ui", axis=accounts, data={"name": "Large", "rule": large}
    )
    gold, silver = by_hand(tiers, "Gold"), by_hand(tiers, "Silver")
    for segment in (fair, strategic, gold):
        place(segment, newer)
    for segment in (webinar, silver):
        place(segment, older)
    assert placed(older) == {"Webinar", "Large", "Silver"}

    record = merge.pair_merge(pair=detected, actor=cast.ae, channel="ui")

    assert record.loser_id == newer.pk
    # The loser's lists go to the survivor; a placement by hand wins over the rules (Strategic
    # over Large) but not over the survivor's own (Silver stays, Gold does not come).
    assert placed(older) == {"Trade fair", "Webinar", "Strategic", "Silver"}
    assert counts() == {
        "Trade fair": 1,
        "Webinar": 1,
        "Strategic": 1,
        "Large": 0,
        "Gold": 0,
        "Silver": 1,
    }
    added = [e.changes for e in entries(fair) if "members added" in e.changes]
    assert added[0] == {"members added": ["", str(older.pk)]}  # newest first

    merge.merge_undo(merge=record, actor=cast.ae, channel="ui")

    assert placed(newer) == {"Trade fair", "Strategic", "Gold"}
    assert placed(older) == {"Webinar", "Large", "Silver"}
    assert set(counts().values()) == {1}
    assert entries(fair)[0].actor == cast.ae  # the undo, in the segment's history
