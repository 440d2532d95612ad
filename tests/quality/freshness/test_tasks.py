"""Verification tasks: asked of owners for stale records, done when the record is verified."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from cible.core.errors import PermissionDenied, ValidationFailed
from cible.people import services as people
from cible.people.models import Contact, Organisation
from cible.quality.freshness import selectors, services
from cible.quality.freshness.models import VerificationTask
from tests.quality.freshness.conftest import TODAY, Base

pytestmark = pytest.mark.django_db


def open_tasks(owner: Any) -> list[str]:
    return sorted(str(t.record) for t in selectors.my_tasks(viewer=owner))


def test_tasks_for_all_stale_records_of_an_owner(cast: Any, base: Base) -> None:
    batch = services.verification_tasks_create(
        actor=cast.manager, channel="ui", entity="organisation", owner=str(cast.ae.pk)
    )
    assert batch.created == 3
    assert batch.by_owner == {"Alice Martin": 3}
    assert open_tasks(cast.ae) == ["Ancienne SARL", "Fermée SAS", "Jamais SA"]
    task = VerificationTask.objects.get(organisation=base.old_org)
    assert task.reason_list == ["age"]
    assert task.due_on.isoformat() == "2026-06-29"  # 14 days, the policy's default
    assert task.created_by == cast.manager
    entry = LogEntry.objects.filter(object_repr="3 verification tasks for Alice Martin").get()
    assert entry.actor == cast.manager
    assert entry.additional_data["channel"] == "ui"
    assert entry.additional_data["verification_tasks"]["count"] == 3


def test_asking_twice_does_not_pile_up_tasks(cast: Any, base: Base) -> None:
    first = services.verification_tasks_create(
        actor=cast.manager, channel="ui", entity="contact", ids=[base.bounced_contact.pk]
    )
    again = services.verification_tasks_create(
        actor=cast.manager, channel="ui", entity="contact", owner=str(cast.ae.pk)
    )
    assert first.created == 1
    assert again.already_open == 1
    assert again.created == 2  # Parti (left) and Ferme (closed organisation)
    assert VerificationTask.objects.filter(contact=base.bounced_contact).count() == 1


def test_selected_records_that_are_not_stale_get_no_task(cast: Any, base: Base) -> None:
    batch = services.verification_tasks_create(
        actor=cast.ae,
        channel="ui",
        entity="organisation",
        ids=[base.fresh_org.pk, base.never_org.pk, base.new_org.pk],
    )
    assert batch.created == 1
    assert batch.skipped == 2
    assert open_tasks(cast.ae) == ["Jamais SA"]


def test_unowned_records_go_to_the_chosen_assignee(cast: Any, base: Base) -> None:
    people.organisation_update(
        organisation=base.never_org, actor=cast.admin, channel="ui", data={"owner": None}
    )
    without = services.verification_tasks_create(
        actor=cast.manager, channel="ui", entity="organisation", owner="none"
    )
    assert (without.created, without.unowned) == (0, 1)
    with_assignee = services.verification_tasks_create(
        actor=cast.manager, channel="ui", entity="organisation", owner="none", assignee=cast.sdr
    )
    assert with_assignee.by_owner == {"Sophie Leroy": 1}
    assert open_tasks(cast.sdr) == ["Jamais SA"]


def test_records_of_another_team_are_refused_when_private(
    cast: Any, base: Base, team_private: Any
) -> None:
    ae = type(cast.ae).objects.get(pk=cast.ae.pk)
    batch = services.verification_tasks_create(
        actor=ae, channel="ui", entity="organisation", ids=[base.lyon_org.pk]
    )
    assert batch.created == 0
    assert batch.skipped == 1
    assert not VerificationTask.objects.exists()


def test_verifying_the_record_from_its_page_closes_the_task(
    cast: Any, base: Base, client_for: Any
) -> None:
    services.verification_tasks_create(
        actor=cast.manager, channel="ui", entity="organisation", ids=[base.old_org.pk]
    )
    response = client_for(cast.ae).post(f"/organisations/{base.old_org.pk}/verify/")
    assert response.status_code == 302
    task = VerificationTask.objects.get(organisation=base.old_org)
    assert task.outcome == "verified"
    assert task.done_at is not None
    assert open_tasks(cast.ae) == []
    # The task's closing is in the audit trail, by Alice through the UI.
    entry = LogEntry.objects.get_for_object(task).order_by("-timestamp").first()
    assert entry.actor == cast.ae
    assert entry.additional_data["channel"] == "ui"


def test_task_actions_verify_left_and_closed(cast: Any, base: Base) -> None:
    services.verification_tasks_create(
        actor=cast.manager, channel="ui", entity="contact", owner=str(cast.ae.pk)
    )
    services.verification_tasks_create(
        actor=cast.manager, channel="ui", entity="organisation", ids=[base.never_org.pk]
    )
    tasks = {str(t.record): t for t in selectors.my_tasks(viewer=cast.ae)}
    bounced = services.verification_task_resolve(
        actor=cast.ae, channel="ui", task=tasks["Rebond"], action="left"
    )
    assert bounced.outcome == "left"
    assert Contact.objects.get(pk=base.bounced_contact.pk).has_left
    closed = services.verification_task_resolve(
        actor=cast.ae, channel="ui", task=tasks["Jamais SA"], action="closed"
    )
    assert closed.outcome == "closed"
    assert Organisation.objects.get(pk=base.never_org.pk).status == "closed"
    verified = services.verification_task_resolve(
        actor=cast.ae, channel="ui", task=tasks["Ferme"], action="verify"
    )
    assert verified.outcome == "verified"
    with pytest.raises(ValidationFailed, match="does not apply"):
        services.verification_task_resolve(
            actor=cast.ae, channel="ui", task=tasks["Parti"], action="closed"
        )
    with pytest.raises(ValidationFailed, match="already done"):
        services.verification_task_resolve(
            actor=cast.ae, channel="ui", task=verified, action="verify"
        )


def test_someone_else_may_not_settle_a_task_on_a_record_they_cannot_change(
    cast: Any, base: Base, team_private: Any
) -> None:
    services.verification_tasks_create(
        actor=cast.admin, channel="ui", entity="organisation", ids=[base.old_org.pk]
    )
    task = VerificationTask.objects.get()
    outsider = type(cast.outsider).objects.get(pk=cast.outsider.pk)
    with pytest.raises(PermissionDenied):
        services.verification_task_resolve(actor=outsider, channel="ui", task=task, action="verify")


def test_bulk_mark_verified(cast: Any, base: Base) -> None:
    services.verification_tasks_create(
        actor=cast.manager, channel="ui", entity="organisation", owner=str(cast.ae.pk)
    )
    result = services.records_mark_verified(
        actor=cast.ae,
        channel="ui",
        entity="organisation",
        ids=[base.old_org.pk, base.never_org.pk],
    )
    assert (result.verified, result.refused) == (2, 0)
    assert open_tasks(cast.ae) == ["Fermée SAS"]
    old = Organisation.objects.get(pk=base.old_org.pk)
    assert old.last_verified_at.date() == TODAY
    stale = {str(r) for r in selectors.stale_records(viewer=cast.ae, entity="organisation")}
    assert stale == {"Fermée SAS", "Lyonnaise SA"}


def test_bulk_mark_verified_skips_what_the_user_may_not_change(
    cast: Any, base: Base, team_private: Any
) -> None:
    marketer = type(cast.marketer).objects.get(pk=cast.marketer.pk)
    result = services.records_mark_verified(
        actor=marketer, channel="ui", entity="organisation", ids=[base.old_org.pk]
    )
    assert (result.verified, result.refused) == (0, 1)


def test_bad_requests_are_named(cast: Any, base: Base) -> None:
    with pytest.raises(ValidationFailed, match="select records or an owner"):
        services.verification_tasks_create(actor=cast.admin, channel="ui", entity="contact")
    with pytest.raises(ValidationFailed, match="“x” is not a record id"):
        services.records_mark_verified(actor=cast.admin, channel="ui", entity="contact", ids=["x"])
    with pytest.raises(ValidationFailed, match="must be one of"):
        services.records_mark_verified(actor=cast.admin, channel="ui", entity="lead", ids=[1])
    with pytest.raises(ValidationFailed, match="at most 500"):
        services.records_mark_verified(
            actor=cast.admin, channel="ui", entity="contact", ids=list(range(1, 502))
        )


def test_the_sweep_closes_tasks_of_records_verified_without_a_signal(
    cast: Any, base: Base, frozen: Any
) -> None:
    import datetime as dt

    services.verification_tasks_create(
        actor=cast.manager, channel="ui", entity="organisation", ids=[base.old_org.pk]
    )
    frozen.shift(dt.timedelta(hours=1))
    Organisation.objects.filter(pk=base.old_org.pk).update(last_verified_at=timezone.now())
    assert services.staleness_sweep().tasks_closed == 1
    assert VerificationTask.objects.get().outcome == "verified"
