"""Every write of the freshness app: the staleness policy, verification tasks, bulk verification,
daily snapshots and the staleness sweep.

Verifying a record, and marking a contact as gone or an organisation as closed, go through the
people services (`organisation_mark_verified`, `contact_update` …): the record's own history then
shows who checked it and through which channel, and the signal receivers close its task.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access, values
from cible.core.audit import Channel, audit_context
from cible.core.errors import FieldError, PermissionDenied, ValidationFailed
from cible.core.normalisers import NormalisationError
from cible.people import services as people
from cible.people.models import Contact, Organisation, OrganisationStatus
from cible.quality.freshness import duplicates, rules, selectors
from cible.quality.freshness.models import (
    FreshnessPolicy,
    QualitySnapshot,
    QualityTally,
    TaskOutcome,
    VerificationTask,
)
from cible.quality.freshness.rules import ORGANISATION, Entity
from cible.quality.freshness.tally import (
    ENTITIES,
    Progress,
    counts_by_owner_in_slices,
    tally_catch_up,
    tally_refresh,
)

User = get_user_model()

MAX_TASKS_PER_CALL = 5_000
MAX_VERIFY_PER_CALL = 500

# --- the policy --------------------------------------------------------------------------------

POLICY_NUMBERS = {
    "organisation_max_age_days": (1, 3650),
    "contact_max_age_days": (1, 3650),
    "never_verified_grace_days": (0, 3650),
    "task_due_days": (1, 365),
}
POLICY_TOGGLES = ("email_bounced", "contact_left", "organisation_closed")


@transaction.atomic
def freshness_policy_update(
    *, actor: Any, channel: str, data: Mapping[str, Any]
) -> FreshnessPolicy:
    """Change the staleness rules (administrators only); figures are recomputed under them."""
    if not access.can(actor, "administer"):
        raise PermissionDenied(_("Only administrators may change the staleness rules."))
    errors: list[FieldError] = []
    cleaned: dict[str, Any] = {}
    unknown = set(data) - set(POLICY_NUMBERS) - set(POLICY_TOGGLES)
    errors += [FieldError(name, _("is not a setting of the staleness rules")) for name in unknown]
    for name, (low, high) in POLICY_NUMBERS.items():
        if name in data:
            try:
                number = values.whole_number(data[name], field=name, minimum=low, maximum=high)
            except NormalisationError as error:
                errors.append(FieldError(name, error.message))
                continue
            if number is None:
                errors.append(FieldError(name, _("is required")))
            else:
                cleaned[name] = number
    for name in POLICY_TOGGLES:
        if name in data:
            try:
                cleaned[name] = bool(values.boolean(data[name], field=name))
            except NormalisationError as error:
                errors.append(FieldError(name, error.message))
    if errors:
        raise ValidationFailed(errors=errors)
    policy = FreshnessPolicy.objects.select_for_update().get(pk=FreshnessPolicy.current().pk)
    for name, value in cleaned.items():
        setattr(policy, name, value)
    policy.version += 1
    with audit_context(actor=actor, channel=channel):
        policy.save()
    return policy


# --- verification tasks ------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskBatch:
    """What a request for verification tasks did."""

    created: int = 0
    already_open: int = 0  # the record already had an open task
    skipped: int = 0  # not stale, not visible, or not the actor's to change
    unowned: int = 0  # no owner to give the task to
    truncated: bool = False  # more than MAX_TASKS_PER_CALL records matched
    by_owner: dict[str, int] = field(default_factory=dict)  # assignee's name -> tasks


def _user_name(user: Any) -> str:
    return user.get_full_name() or user.username


def _log_tasks(actor: Any, channel: str, owner: Any, entity: str, ids: list[int]) -> None:
    with audit_context(actor=actor, channel=channel):
        LogEntry.objects.create(
            content_type=ContentType.objects.get_for_model(VerificationTask),
            object_pk="",
            object_repr=f"{len(ids)} verification tasks for {_user_name(owner)}",
            action=LogEntry.Action.CREATE,
            changes={},
            additional_data={
                "verification_tasks": {
                    "entity": entity,
                    "owner": owner.pk,
                    "count": len(ids),
                    "records": ids[:1000],
                }
            },
        )


def _parse_ids(ids: Iterable[Any], limit: int) -> list[int]:
    parsed: list[int] = []
    for raw in ids:
        try:
            parsed.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationFailed(
                errors=[FieldError("ids", _("“%(value)s” is not a record id") % {"value": raw})]
            ) from None
    if not parsed:
        raise ValidationFailed(errors=[FieldError("ids", _("select at least one record"))])
    if len(parsed) > limit:
        raise ValidationFailed(
            errors=[FieldError("ids", _("at most %(max)s records at a time") % {"max": limit})]
        )
    return parsed


def _check_entity(entity: str) -> None:
    if entity not in Entity.values:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "entity",
                    _("must be one of: %(values)s") % {"values": ", ".join(Entity.values)},
                )
            ]
        )


@transaction.atomic
def verification_tasks_create(
    *,
    actor: Any,
    channel: str,
    entity: str,
    ids: Sequence[Any] | None = None,
    owner: str | int | None = None,
    assignee: Any = None,
) -> TaskBatch:
    """Ask the owners of stale records to check them: the records selected by `ids`, or every
    stale record of `owner` (a user id, or "none" for unowned records). Each task goes to the
    record's owner, or to `assignee` for unowned records; records with an open task are left
    as they are. At most MAX_TASKS_PER_CALL at a time, the longest unverified first."""
    _check_entity(entity)
    if not access.can(actor, "change"):
        raise PermissionDenied(_("You may not ask for verifications."))
    if ids is None and owner in (None, ""):
        raise ValidationFailed(errors=[FieldError("ids", _("select records or an owner"))])
    qs = selectors.stale_records(viewer=actor, entity=entity)
    wanted: int | None = None
    if ids is not None:
        parsed = _parse_ids(ids, MAX_TASKS_PER_CALL)
        wanted = len(set(parsed))
        qs = qs.filter(pk__in=parsed)
    if owner not in (None, ""):
        qs = selectors.filter_owner(qs, owner)
    record_field = "organisation" if entity == ORGANISATION else "contact"
    oldest_first = F("last_verified_at").asc(nulls_first=True)
    matched = list(qs.order_by(oldest_first, "pk")[: MAX_TASKS_PER_CALL + 1])
    truncated = len(matched) > MAX_TASKS_PER_CALL
    matched = matched[:MAX_TASKS_PER_CALL]
    already = set(
        VerificationTask.objects.filter(
            done_at__isnull=True, **{f"{record_field}_id__in": [r.pk for r in matched]}
        ).values_list(f"{record_field}_id", flat=True)
    )
    due = timezone.localdate() + dt.timedelta(days=FreshnessPolicy.current().task_due_days)
    tasks: dict[int, list[VerificationTask]] = defaultdict(list)
    skipped = unowned = 0
    for record in matched:
        if record.pk in already:
            continue
        if not access.can(actor, "change", record):
            skipped += 1
            continue
        owner_id = record.owner_id or getattr(assignee, "pk", None)
        if owner_id is None:
            unowned += 1
            continue
        tasks[owner_id].append(
            VerificationTask(
                owner_id=owner_id,
                **{record_field: record},
                reasons=",".join(selectors.reasons_of(record)),
                due_on=due,
                created_by=actor,
            )
        )
    owners = User.objects.in_bulk(list(tasks))
    by_owner: dict[str, int] = {}
    for owner_id, batch in tasks.items():
        # A task another request created meanwhile wins (at most one open task per record).
        VerificationTask.objects.bulk_create(batch, batch_size=500, ignore_conflicts=True)
        record_ids = [getattr(t, f"{record_field}_id") for t in batch]
        _log_tasks(actor, channel, owners[owner_id], entity, record_ids)
        by_owner[_user_name(owners[owner_id])] = len(batch)
    if wanted is not None:
        skipped += wanted - len(matched)
    return TaskBatch(
        created=sum(by_owner.values()),
        already_open=len(already),
        skipped=skipped,
        unowned=unowned,
        truncated=truncated,
        by_owner=by_owner,
    )


@dataclass(frozen=True)
class VerifyResult:
    verified: int
    refused: int  # visible, but not the actor's to change


def records_mark_verified(
    *, actor: Any, channel: str, entity: str, ids: Sequence[Any]
) -> VerifyResult:
    """Mark the selected records as checked today, all in one transaction (each through the
    people service, so each record's history says so). Their open tasks close."""
    _check_entity(entity)
    parsed = _parse_ids(ids, MAX_VERIFY_PER_CALL)
    model = Organisation if entity == ORGANISATION else Contact
    records = list(access.visible(actor, model._default_manager.filter(pk__in=parsed)))
    allowed = [r for r in records if access.can(actor, "change", r)]
    with transaction.atomic():
        for record in allowed:
            if entity == ORGANISATION:
                people.organisation_mark_verified(organisation=record, actor=actor, channel=channel)
            else:
                people.contact_mark_verified(contact=record, actor=actor, channel=channel)
    return VerifyResult(verified=len(allowed), refused=len(set(parsed)) - len(allowed))


TASK_ACTIONS = ("verify", "left", "closed")


def verification_task_resolve(
    *, actor: Any, channel: str, task: VerificationTask, action: str
) -> VerificationTask:
    """Settle a task from the task list: the record is as it was (verify), the contact has left,
    or the organisation has closed. Each also marks the record verified, which closes the task."""
    record = task.record
    if record is None or not access.can(actor, "view", record):
        raise PermissionDenied(_("This record is not visible to you."))
    if task.owner_id != getattr(actor, "pk", None) and not access.can(actor, "change", record):
        raise PermissionDenied(_("This task is not yours and you may not change the record."))
    if task.done_at is not None:
        raise ValidationFailed(errors=[FieldError("task", _("this task is already done"))])
    now = timezone.now()
    if action == "verify" and isinstance(record, Organisation):
        people.organisation_mark_verified(organisation=record, actor=actor, channel=channel)
    elif action == "verify" and isinstance(record, Contact):
        people.contact_mark_verified(contact=record, actor=actor, channel=channel)
    elif action == "left" and isinstance(record, Contact):
        people.contact_update(
            contact=record,
            actor=actor,
            channel=channel,
            data={"has_left": True, "last_verified_at": now},
        )
    elif action == "closed" and isinstance(record, Organisation):
        people.organisation_update(
            organisation=record,
            actor=actor,
            channel=channel,
            data={"status": OrganisationStatus.CLOSED, "last_verified_at": now},
        )
    else:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "action", _("“%(value)s” does not apply to this record") % {"value": action}
                )
            ]
        )
    task.refresh_from_db()
    return task


# --- snapshots and the sweep -------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotResult:
    day: dt.date
    rows: int
    replaced: int


def _pairs_as_of(entity: str, day: dt.date) -> dict[int | None, int]:
    pairs = duplicates.open_pairs_by_owners(entity, as_of=day)
    return dict(duplicates.credited_to_first_owner(pairs)) if pairs is not None else {}


def snapshot_take(
    *, day: dt.date | None = None, progress: Progress | None = None
) -> SnapshotResult:
    """Freeze the figures of `day` (default today) per entity and owner; taking it again the
    same day replaces it. A past day is rebuilt from the records (see `rules` on "as of")."""
    today = timezone.localdate()
    day = day or today
    if day > today:
        raise ValidationFailed(errors=[FieldError("day", _("cannot be in the future"))])
    if day == today:
        # Through the tally, brought fully up to date first (inline: this runs in a job or CLI).
        tally_catch_up(inline_buckets=10**9, request_background=tally_refresh)
    policy = FreshnessPolicy.current()
    rows: list[QualitySnapshot] = []
    for entity in ENTITIES:
        if day == today:
            by_owner: dict[int | None, dict[str, int]] = {}
            for tally in QualityTally.objects.filter(entity=entity).only("owner_id", "counts"):
                rules.add_counts(by_owner.setdefault(tally.owner_id, {}), tally.counts)
        else:
            by_owner = counts_by_owner_in_slices(entity, policy.rules, day)
        pairs = _pairs_as_of(entity, day)
        for owner_id in set(by_owner) | set(pairs):
            rows.append(
                QualitySnapshot(
                    day=day,
                    entity=entity,
                    owner_id=owner_id,
                    counts=by_owner.get(owner_id, {}),
                    duplicates=pairs.get(owner_id, 0),
                )
            )
        if progress:
            progress(
                f"  {entity}: {sum(c.get(rules.TOTAL, 0) for c in by_owner.values()):,} records"
            )
    with transaction.atomic():
        replaced, _detail = QualitySnapshot.objects.filter(day=day).delete()
        QualitySnapshot.objects.bulk_create(rows, batch_size=500)
    return SnapshotResult(day=day, rows=len(rows), replaced=replaced)


@dataclass(frozen=True)
class SweepResult:
    tasks_closed: int


def staleness_sweep(*, progress: Progress | None = None) -> SweepResult:
    """The daily pass: recompute every figure under today's date, and close the tasks of records
    verified by writers that send no signal (bulk updates)."""
    tally_refresh(progress=progress)
    closed = 0
    with audit_context(actor=None, channel=Channel.JOB):
        for field_name in ("organisation", "contact"):
            open_tasks = VerificationTask.objects.filter(
                done_at__isnull=True, **{f"{field_name}__last_verified_at__isnull": False}
            ).select_related(field_name)
            for task in open_tasks.iterator(chunk_size=500):
                if task.record is not None:
                    closed += verification_tasks_close(record=task.record)
    return SweepResult(tasks_closed=closed)


def _outcome(record: Model) -> str:
    if isinstance(record, Contact) and record.has_left:
        return TaskOutcome.LEFT
    if isinstance(record, Organisation) and record.status == OrganisationStatus.CLOSED:
        return TaskOutcome.CLOSED
    return TaskOutcome.VERIFIED


def verification_tasks_close(*, record: Model) -> int:
    """Close the open task of `record` if it was verified since the task was created. Called on
    every save of an organisation or contact (`receivers`), inside the saver's audit context."""
    verified_at = getattr(record, "last_verified_at", None)
    if verified_at is None:
        return 0
    field_name = "organisation" if isinstance(record, Organisation) else "contact"
    open_tasks = VerificationTask.objects.filter(
        **{field_name: record}, done_at__isnull=True, created_at__lte=verified_at
    )
    closed = 0
    for task in open_tasks:  # at most one (a unique constraint); saved one by one: audited
        task.done_at = verified_at
        task.outcome = _outcome(record)
        task.save(update_fields=["done_at", "outcome"])
        closed += 1
    return closed


def tally_refresh_now(*, progress: Progress | None = None) -> None:
    """Recompute every figure now (the CLI, and the background task the dashboard asks for)."""
    tally_refresh(progress=progress)
