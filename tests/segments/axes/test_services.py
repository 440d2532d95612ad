"""Writing axes and segments: validation, circular references, permissions, audit, hand lists."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry

from cible.core.audit import history
from cible.core.errors import PermissionDenied, ValidationFailed
from cible.segments.axes import permissions, services
from cible.segments.axes.models import Axis, Segment
from tests import factories
from tests.segments.axes.conftest import placed, segment

pytestmark = pytest.mark.django_db


def messages(error: ValidationFailed) -> dict[str, str]:
    return {e.field: e.message for e in error.errors}


def in_segment(segment_id: int) -> dict[str, Any]:
    return {"match": "all", "conditions": [{"field": "segment", "op": "in", "value": [segment_id]}]}


def test_an_invalid_rule_is_never_saved(cast: Any) -> None:
    axis = Axis.objects.get(code="size")
    with pytest.raises(ValidationFailed) as caught:
        services.segment_create(
            actor=cast.marketer,
            channel="ui",
            axis=axis,
            data={
                "name": "Mid",
                "rule": {
                    "match": "all",
                    "conditions": [
                        {"field": "headcount", "op": "gt", "value": "ten"},
                        {"field": "flavour", "op": "in", "value": ["x"]},
                    ],
                },
            },
        )
    assert messages(caught.value) == {
        "rule.conditions.0.value": "headcount is a number: “ten” is text (text compared with "
        "a number)",
        "rule.conditions.1.field": "unknown field “flavour”",
    }
    assert not Segment.objects.filter(name="Mid").exists()


def test_segment_fields_are_checked(cast: Any) -> None:
    axis = Axis.objects.get(code="size")
    with pytest.raises(ValidationFailed) as caught:
        services.segment_create(
            actor=cast.admin,
            channel="api",
            axis=axis,
            data={"name": "", "code": "PME!", "kind": "smart", "colour": "red"},
        )
    assert messages(caught.value) == {
        "colour": "is not a field you can set here",
        "name": "is required",
        "code": "“PME!” is not a code: use small letters, digits and dashes (pme)",
        "kind": "“smart” is not rule or manual",
        "rule": "a segment by rule needs a rule",
    }
    with pytest.raises(ValidationFailed) as caught:
        services.segment_create(
            actor=cast.admin, channel="api", axis=axis, data={"name": "PME", "kind": "manual"}
        )
    assert messages(caught.value) == {"code": "another segment of this axis has this code"}


def test_a_segment_cannot_refer_to_itself(cast: Any) -> None:
    pme = segment("size", "pme")
    with pytest.raises(ValidationFailed) as caught:
        services.segment_update(
            segment=pme, actor=cast.admin, channel="ui", data={"rule": in_segment(pme.pk)}
        )
    assert messages(caught.value) == {"rule": "a segment cannot refer to itself"}


def test_circular_references_through_other_segments_are_refused(cast: Any) -> None:
    axis = services.axis_create(
        actor=cast.admin, channel="ui", data={"name": "Watch", "exclusive": False}
    )
    first = services.segment_create(
        actor=cast.admin,
        channel="ui",
        axis=axis,
        data={"name": "Watched PME", "rule": in_segment(segment("size", "pme").pk)},
    )
    second = services.segment_create(
        actor=cast.admin,
        channel="ui",
        axis=axis,
        data={"name": "Echo", "rule": in_segment(first.pk)},
    )
    with pytest.raises(ValidationFailed) as caught:
        services.segment_update(
            segment=first, actor=cast.admin, channel="ui", data={"rule": in_segment(second.pk)}
        )
    message = messages(caught.value)["rule"]
    assert message.startswith("this rule makes the segment depend on itself (")
    assert "Watched PME" in message and "Echo" in message
    first.refresh_from_db()
    assert first.rule == in_segment(segment("size", "pme").pk)


def test_a_segment_cannot_use_a_later_segment_of_its_exclusive_axis(cast: Any) -> None:
    tpe, pme = segment("size", "tpe"), segment("size", "pme")
    with pytest.raises(ValidationFailed) as caught:
        services.segment_update(
            segment=tpe, actor=cast.admin, channel="ui", data={"rule": in_segment(pme.pk)}
        )
    assert "depend on itself" in messages(caught.value)["rule"]


def test_segment_references_are_computed_after_what_they_refer_to(cast: Any) -> None:
    axis = services.axis_create(
        actor=cast.admin, channel="ui", data={"name": "Focus", "exclusive": False}
    )
    focus = services.segment_create(
        actor=cast.admin,
        channel="ui",
        axis=axis,
        data={
            "name": "PME in Lille",
            "rule": {
                "match": "all",
                "conditions": [
                    {"field": "segment", "op": "in", "value": [segment("size", "pme").pk]},
                    {"field": "segment", "op": "in", "value": [segment("geography", "lille").pk]},
                ],
            },
        },
    )
    acme = factories.organisation(cast.ae, legal_name="Acme", postal_code="59000", headcount=42)
    assert placed(acme)["focus"] == focus.code
    factories.organisation(cast.ae, legal_name="Elsewhere", postal_code="75008", headcount=42)
    focus.refresh_from_db()
    assert focus.member_count == 1
    with pytest.raises(ValidationFailed, match="refers to it in its rule"):
        services.segment_delete(segment=segment("size", "pme"), actor=cast.admin, channel="ui")


def test_only_managers_change_segmentation(cast: Any) -> None:
    for user in (cast.ae, cast.sdr, cast.csm):
        with pytest.raises(PermissionDenied):
            services.axis_create(actor=user, channel="ui", data={"name": "Mine"})
    for user in (cast.admin, cast.marketer, cast.manager):
        assert permissions.may_manage(user)


def test_writes_are_audited_with_their_channel(cast: Any) -> None:
    axis = services.axis_create(actor=cast.marketer, channel="api", data={"name": "Verticals"})
    created = services.segment_create(
        actor=cast.marketer,
        channel="api",
        axis=axis,
        data={
            "name": "Retail",
            "rule": {
                "match": "all",
                "conditions": [{"field": "naf_section", "op": "in", "value": ["G"]}],
            },
        },
    )
    services.segment_update(
        segment=created, actor=cast.marketer, channel="ui", data={"name": "Retail and trade"}
    )
    entries = list(history(created))
    assert [(e.action, e.additional_data["channel"], e.actor) for e in entries] == [
        (LogEntry.Action.UPDATE, "ui", cast.marketer),
        (LogEntry.Action.CREATE, "api", cast.marketer),
    ]
    assert entries[0].changes["name"] == ["Retail", "Retail and trade"]
    assert history(axis).get().additional_data["channel"] == "api"


def test_hand_made_segments_in_an_exclusive_axis_win_over_rules(cast: Any) -> None:
    size = Axis.objects.get(code="size")
    strategic = services.segment_create(
        actor=cast.manager, channel="ui", axis=size, data={"name": "Strategic", "kind": "manual"}
    )
    acme = factories.organisation(cast.ae, legal_name="Acme", headcount=42)
    assert placed(acme)["size"] == "pme"
    diff = services.segment_add_members(
        segment=strategic, actor=cast.manager, channel="ui", organisation_ids=[acme.pk]
    )
    assert diff.added == {strategic.pk: {acme.pk}}
    assert diff.removed == {segment("size", "pme").pk: {acme.pk}}
    assert placed(acme)["size"] == "strategic"
    # Saving the organisation, or a full rebuild, does not take it back.
    from cible.people.services import organisation_update

    organisation_update(organisation=acme, actor=cast.ae, channel="ui", data={"headcount": 43})
    services.membership_rebuild()
    assert placed(acme)["size"] == "strategic"
    assert [s.member_count for s in Segment.objects.filter(pk__in=[strategic.pk])] == [1]
    # Taken out by hand, the rules place it again.
    services.segment_remove_members(
        segment=strategic, actor=cast.manager, channel="ui", organisation_ids=[acme.pk]
    )
    assert placed(acme)["size"] == "pme"
    changes = [e.changes for e in history(strategic) if e.action == LogEntry.Action.UPDATE]
    assert changes == [
        {"members removed": [str(acme.pk), ""]},
        {"members added": ["", str(acme.pk)]},
    ]
    assert history(strategic).first().additional_data["channel"] == "ui"


def test_hand_lists_only_take_organisations_the_user_may_see(cast: Any, team_private: Any) -> None:
    hidden = factories.organisation(cast.outsider, legal_name="Lyon Only")
    axis = services.axis_create(
        actor=cast.manager, channel="ui", data={"name": "Picks", "exclusive": False}
    )
    picks = services.segment_create(
        actor=cast.manager, channel="ui", axis=axis, data={"name": "Picks", "kind": "manual"}
    )
    with pytest.raises(ValidationFailed) as caught:
        services.segment_add_members(
            segment=picks, actor=cast.manager, channel="ui", organisation_ids=[hidden.pk, "x"]
        )
    assert messages(caught.value) == {"organisations": "“x” is not a whole number"}
    with pytest.raises(ValidationFailed) as caught:
        services.segment_add_members(
            segment=picks, actor=cast.manager, channel="ui", organisation_ids=[hidden.pk]
        )
    assert messages(caught.value) == {
        "organisations": f"no organisation you can see has the id {hidden.pk}"
    }
    with pytest.raises(ValidationFailed, match="defined by a rule"):
        services.segment_add_members(
            segment=segment("size", "pme"), actor=cast.admin, channel="ui", organisation_ids=[1]
        )


def test_deleting_a_segment_lets_the_rest_of_its_axis_take_its_members(cast: Any) -> None:
    acme = factories.organisation(cast.ae, legal_name="Acme", postal_code="59000")
    assert placed(acme)["geography"] == "lille"
    services.segment_delete(segment=segment("geography", "lille"), actor=cast.admin, channel="ui")
    assert placed(acme)["geography"] == "other-france"
    assert segment("geography", "other-france").member_count == 1
