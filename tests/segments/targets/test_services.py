"""Saving targets: who may see and change them, versions, duplicates, the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry

from cible.core.errors import ConflictError, NotFound, PermissionDenied, ValidationFailed
from cible.segments.targets import selectors
from cible.segments.targets.models import Target
from cible.segments.targets.services import (
    target_create,
    target_delete,
    target_duplicate,
    target_update,
)
from tests.segments.targets.world import SALES_DIRECTORS, Base, seed_002_definition, segment


def make(owner: Any, **data: Any) -> Target:
    data.setdefault("name", "Seed 002")
    data.setdefault("definition", seed_002_definition())
    return target_create(actor=owner, channel="ui", data=data)


def test_a_saved_target_keeps_its_canonical_definition_and_owner(cast: Any, base: Base) -> None:
    target = make(
        cast.ae,
        name="  Salesforce   teams  ",
        description="Seed 002's example",
        level="contact",
        definition={**seed_002_definition(), "contact": SALES_DIRECTORS},
    )
    target.refresh_from_db()
    assert target.name == "Salesforce teams"
    assert target.owner == cast.ae and not target.shared and target.version == 1
    assert target.definition["segments"]["installed-crm"] == [
        segment("installed-crm", "salesforce")
    ]
    assert target.definition["contact"]["conditions"][0] == {
        "field": "function",
        "op": "in",
        "value": ["sales"],
    }
    assert selectors.target_count(viewer=cast.admin, target=target).count == 2


def test_every_problem_is_listed_at_once_and_nothing_is_saved(cast: Any, base: Base) -> None:
    with pytest.raises(ValidationFailed) as caught:
        target_create(
            actor=cast.ae,
            channel="ui",
            data={
                "name": "",
                "level": "company",
                "shared": "perhaps",
                "colour": "red",
                "definition": {},
            },
        )
    fields = {e.field for e in caught.value.errors}
    assert fields == {"name", "level", "shared", "colour"}
    assert not Target.objects.exists()
    with pytest.raises(ValidationFailed) as caught:
        target_create(actor=cast.ae, channel="ui", data={"name": "Empty", "definition": {}})
    assert [e.field for e in caught.value.errors] == ["definition"]


def test_a_private_target_is_invisible_to_others_and_a_shared_one_read_only(
    cast: Any, base: Base
) -> None:
    private = make(cast.ae, name="Mine")
    shared = make(cast.ae, name="Ours", shared=True)
    assert list(selectors.target_list(viewer=cast.ae2)) == [shared]
    assert set(selectors.target_list(viewer=cast.admin)) == {private, shared}
    with pytest.raises(NotFound):
        selectors.target_get(viewer=cast.ae2, pk=private.pk)
    with pytest.raises(NotFound):
        target_update(target=private, actor=cast.ae2, channel="ui", data={"name": "Stolen"})
    with pytest.raises(PermissionDenied, match="Only the owner of “Ours”"):
        target_update(target=shared, actor=cast.ae2, channel="ui", data={"name": "Stolen"})
    with pytest.raises(PermissionDenied):
        target_delete(target=shared, actor=cast.manager, channel="ui")
    assert selectors.may_change(cast.ae, shared) and not selectors.may_change(cast.ae2, shared)
    # An administrator changes anyone's target.
    target_update(target=private, actor=cast.admin, channel="ui", data={"name": "Checked"})
    assert Target.objects.get(pk=private.pk).name == "Checked"


def test_a_stale_version_is_refused(cast: Any, base: Base) -> None:
    target = make(cast.ae)
    target_update(target=target, actor=cast.ae, channel="ui", data={"name": "New"})
    stale = Target.objects.get(pk=target.pk)
    with pytest.raises(ConflictError):
        target_update(
            target=stale, actor=cast.ae, channel="api", data={"name": "Old"}, expected_version=1
        )
    assert Target.objects.get(pk=target.pk).name == "New"


def test_changing_the_level_checks_the_definition_again(cast: Any, base: Base) -> None:
    target = make(
        cast.ae, level="contact", definition={**seed_002_definition(), "contact": SALES_DIRECTORS}
    )
    with pytest.raises(ValidationFailed) as caught:
        target_update(target=target, actor=cast.ae, channel="ui", data={"level": "organisation"})
    assert [e.field for e in caught.value.errors] == ["definition.contact"]
    target_update(
        target=Target.objects.get(pk=target.pk),
        actor=cast.ae,
        channel="ui",
        data={"level": "organisation", "definition": seed_002_definition()},
    )
    assert Target.objects.get(pk=target.pk).level == "organisation"


def test_anyone_who_sees_a_target_duplicates_it_as_their_own(cast: Any, base: Base) -> None:
    shared = make(cast.ae, name="Ours", shared=True)
    copy = target_duplicate(target=shared, actor=cast.outsider, channel="ui")
    assert (copy.name, copy.owner, copy.shared) == ("Copy of Ours", cast.outsider, False)
    assert copy.definition == shared.definition
    private = make(cast.ae, name="Mine")
    with pytest.raises(NotFound):
        target_duplicate(target=private, actor=cast.outsider, channel="ui")


def test_writes_are_audited_with_their_channel(cast: Any, base: Base) -> None:
    target = target_create(
        actor=cast.ae,
        channel="api",
        data={"name": "Seed 002", "definition": seed_002_definition()},
    )
    target_update(target=target, actor=cast.ae, channel="ui", data={"shared": True})
    pk = target.pk
    target_delete(target=target, actor=cast.ae, channel="cli")
    entries = LogEntry.objects.filter(content_type__model="target", object_pk=str(pk)).order_by(
        "timestamp", "id"
    )
    assert [(e.action, e.actor_id, e.additional_data["channel"]) for e in entries] == [
        (LogEntry.Action.CREATE, cast.ae.pk, "api"),
        (LogEntry.Action.UPDATE, cast.ae.pk, "ui"),
        (LogEntry.Action.DELETE, cast.ae.pk, "cli"),
    ]
