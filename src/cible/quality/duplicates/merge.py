"""Merging two records into one, undoing a merge, and the decisions on pairs (SPEC C2).

A merge keeps every related record: whatever points at the loser (contacts, subsidiaries,
opportunities, and the records of apps that do not exist yet: interactions, consents …) is found
through Django's model meta-data and repointed to the survivor, never by a list written here.
The loser's history stays where it was (its log entries keep its id) and the survivor's history
gains an entry naming the merge, whose record (`MergeRecord`) holds both records as they were and
every row moved, so that undo puts everything back, the loser under its own id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.audit import audit_context
from cible.core.concurrency import save_versioned
from cible.core.errors import (
    CibleError,
    ConflictError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from cible.people import hooks
from cible.quality.duplicates.entities import RESTRICTIVE_ORDER, EntitySpec, spec_for
from cible.quality.duplicates.models import (
    BulkMergeRun,
    DuplicatePair,
    MergeRecord,
    PairStatus,
    RunStatus,
)
from cible.quality.duplicates.relations import (
    deserialized,
    drop_dangling,
    move_back,
    move_relations,
    snapshot,
    union_m2m,
)

SURVIVOR, LOSER = "survivor", "loser"

# --- defaults: which record survives, which value of each field ----------------------------------


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def field_value(record: Model, name: str) -> Any:
    """The stored value of a compared field (the id for a reference)."""
    field: Any = record._meta.get_field(name)
    return getattr(record, field.attname)


def completeness(spec: EntitySpec, record: Model) -> int:
    """How many compared fields are filled: the fuller record survives by default."""
    return sum(1 for f in spec.fields if not _blank(field_value(record, f.name)))


def default_survivor(spec: EntitySpec, a: Model, b: Model) -> tuple[Model, Model]:
    """(survivor, loser): the more complete record survives; on a tie, the older one."""
    key_a = (completeness(spec, a), -a.pk)
    key_b = (completeness(spec, b), -b.pk)
    return (a, b) if key_a >= key_b else (b, a)


def default_choices(spec: EntitySpec, survivor: Model, loser: Model) -> dict[str, str]:
    """Per field, whose value survives: a filled value beats an empty one; of two filled values,
    the more complete record's, or the more recently updated one's when both are as complete;
    restrictive fields keep the more restrictive value (an opt-out always stays)."""
    fuller = completeness(spec, survivor) - completeness(spec, loser)
    if fuller:
        newer = SURVIVOR if fuller > 0 else LOSER
    else:
        newer = LOSER if loser.updated_at > survivor.updated_at else SURVIVOR  # type: ignore[attr-defined]
    choices: dict[str, str] = {}
    for f in spec.fields:
        mine, theirs = field_value(survivor, f.name), field_value(loser, f.name)
        if f.rule == "follows":
            continue
        if f.rule == "restrictive":
            order = RESTRICTIVE_ORDER[f.name]
            rank = {value: n for n, value in enumerate(order)}
            choices[f.name] = LOSER if rank.get(theirs, 99) < rank.get(mine, 99) else SURVIVOR
        elif mine == theirs or _blank(theirs):
            choices[f.name] = SURVIVOR
        elif _blank(mine):
            choices[f.name] = LOSER
        else:
            choices[f.name] = newer
    for f in spec.fields:
        if f.rule == "follows":
            leader = choices.get(f.follows, SURVIVOR)
            # A follower goes with its leader, unless that leaves it empty and the other is not.
            picked = field_value(survivor if leader == SURVIVOR else loser, f.name)
            other = field_value(loser if leader == SURVIVOR else survivor, f.name)
            choices[f.name] = (
                leader
                if not (_blank(picked) and not _blank(other))
                else (LOSER if leader == SURVIVOR else SURVIVOR)
            )
    return choices


# --- the merge ----------------------------------------------------------------------------------


def _locked(model: type[Model], pk: Any) -> Any:
    try:
        return model._default_manager.select_for_update().get(pk=pk)
    except model.DoesNotExist:  # type: ignore[attr-defined]
        raise NotFound(_("This record no longer exists (merged or deleted meanwhile).")) from None


def _check_may_change(actor: Any, *records: Model) -> None:
    for record in records:
        if not access.can(actor, "change", record):
            raise PermissionDenied(
                _("You may not change %(record)s, so you may not merge it.") % {"record": record}
            )


def _chosen_data(
    spec: EntitySpec, survivor: Model, loser: Model, choices: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The fields to write on the survivor (the loser's values where chosen), and the full choice
    per field as recorded."""
    defaults = default_choices(spec, survivor, loser)
    recorded: dict[str, str] = {}
    data: dict[str, Any] = {}
    for f in spec.fields:
        choice = choices.get(f.name, defaults[f.name])
        if choice not in (SURVIVOR, LOSER):
            raise ValidationFailed(
                errors=[_field_error(f.name, _("choose the value of one of the two records"))]
            )
        recorded[f.name] = choice
        value = field_value(loser if choice == LOSER else survivor, f.name)
        if f.reference and value in (loser.pk, survivor.pk) and f.name in ("parent", "reports_to"):
            value = None  # a record cannot be its own parent or manager
        if value != field_value(survivor, f.name):
            data[f.name] = "" if value is None and not f.reference else value
    return data, recorded


def _field_error(field: str, message: str) -> Any:
    from cible.core.errors import FieldError

    return FieldError(field, message)


def _merge_entry(record: Model, text: str, other_label: str, note: dict[str, Any]) -> LogEntry:
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_pk=str(record.pk),
        object_id=record.pk,
        object_repr=str(record)[:255],
        action=LogEntry.Action.UPDATE,
        changes={text: ["", other_label]},
        additional_data=note,
    )


@transaction.atomic
def records_merge(
    *,
    entity: str,
    survivor: Model,
    loser: Model,
    actor: Any,
    channel: str,
    choices: Mapping[str, str] | None = None,
    versions: Mapping[int, int] | None = None,
    pair: DuplicatePair | None = None,
) -> MergeRecord:
    """Merge `loser` into `survivor`: chosen values, every related row, history; audited.

    `choices` maps a field to "survivor" or "loser" (defaults per `default_choices`);
    `versions` maps each record's id to the version the person compared (409 if it moved).
    """
    spec = spec_for(entity)
    if survivor.pk == loser.pk:
        raise ValidationFailed(_("A record cannot be merged with itself."))
    first, second = sorted((survivor.pk, loser.pk))
    locked = {pk: _locked(spec.model, pk) for pk in (first, second)}  # same order: no deadlock
    survivor, loser = locked[survivor.pk], locked[loser.pk]
    _check_may_change(actor, survivor, loser)
    for record in (survivor, loser):
        expected = (versions or {}).get(record.pk)
        if expected is not None and expected != record.version:  # type: ignore[attr-defined]
            raise ConflictError(
                _(
                    "%(record)s was changed by someone else since you compared the records; "
                    "compare them again."
                )
                % {"record": record}
            )
    data, recorded = _chosen_data(spec, survivor, loser, choices or {})
    survivor_label, loser_label = str(survivor)[:255], str(loser)[:255]
    record = MergeRecord.objects.create(
        entity=entity,
        survivor_id=survivor.pk,
        loser_id=loser.pk,
        survivor_label=survivor_label,
        loser_label=loser_label,
        survivor_before=snapshot(survivor),
        loser_snapshot=snapshot(loser),
        survivor_version=0,
        values=recorded,
        pair=pair,
        channel=channel,
        merged_by=actor if getattr(actor, "pk", None) else None,
    )
    note = {"channel": str(channel), "merge": {"id": record.pk, "loser": loser.pk}}
    with audit_context(actor=actor, channel=channel):
        moved = move_relations(spec, loser, survivor, note)
        moved += union_m2m(spec, loser, survivor)
        kept = hooks.merge_kept(
            entity=entity, loser_id=loser.pk, survivor_id=survivor.pk, actor=actor, channel=channel
        )
        if kept:  # what other apps carried over themselves (segments placed by hand)
            moved.append({"kind": "kept", "notes": kept})
        loser_pk = loser.pk
        loser.delete()
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(spec.model),
            object_pk=str(loser_pk),
            action=LogEntry.Action.DELETE,
        ).update(additional_data={**note, "merged_into": survivor.pk})
        survivor = spec.update(
            **{entity: survivor},
            actor=actor,
            channel=channel,
            data=data,
            expected_version=survivor.version,  # type: ignore[attr-defined]
        )
        _merge_entry(survivor, _("merged into this record"), f"{loser_label} (#{loser_pk})", note)
    record.moved = moved
    record.survivor_version = survivor.version  # type: ignore[attr-defined]
    record.save(update_fields=["moved", "survivor_version"])
    if pair is not None:
        DuplicatePair.objects.filter(pk=pair.pk).update(
            status=PairStatus.MERGED, decided_by=record.merged_by, decided_at=timezone.now()
        )
    return record


def pair_merge(
    *,
    pair: DuplicatePair,
    actor: Any,
    channel: str,
    survivor_id: int | None = None,
    choices: Mapping[str, str] | None = None,
    versions: Mapping[int, int] | None = None,
) -> MergeRecord:
    """Merge the two records of an open pair; the survivor is `survivor_id` or the default."""
    if pair.status != PairStatus.OPEN:
        raise ConflictError(_("This pair has already been decided on."))
    spec = spec_for(pair.entity)
    records = spec.model._default_manager.in_bulk([pair.record_a, pair.record_b])
    if len(records) < 2:
        raise NotFound(_("One of the two records no longer exists (merged or deleted meanwhile)."))
    a, b = records[pair.record_a], records[pair.record_b]
    if survivor_id is None:
        survivor, loser = default_survivor(spec, a, b)
    elif survivor_id in (a.pk, b.pk):
        survivor, loser = (a, b) if survivor_id == a.pk else (b, a)
    else:
        raise ValidationFailed(
            errors=[_field_error("survivor", _("must be the id of one of the two records"))]
        )
    return records_merge(
        entity=pair.entity,
        survivor=survivor,
        loser=loser,
        actor=actor,
        channel=channel,
        choices=choices,
        versions=versions,
        pair=pair,
    )


# --- undo ---------------------------------------------------------------------------------------


def erased_message(pk: int) -> str:
    return _(
        "Contact #%(id)s was anonymised (erasure of their personal data): this merge no longer "
        "holds who they were, so it cannot be undone."
    ) % {"id": pk}


@transaction.atomic
def merge_undo(*, merge: MergeRecord, actor: Any, channel: str) -> Model:
    """Put the loser back under its own id with its related rows, and the survivor's values as
    they were; refused if the survivor changed since the merge. Returns the restored loser."""
    merge = MergeRecord.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ConflictError(_("This merge has already been undone."))
    spec = spec_for(merge.entity)
    survivor = spec.model._default_manager.select_for_update().filter(pk=merge.survivor_id).first()
    if survivor is None:
        raise ConflictError(
            _("%(record)s no longer exists, so this merge cannot be undone.")
            % {"record": merge.survivor_label}
        )
    if getattr(survivor, "anonymised_at", None) is not None:
        raise ConflictError(erased_message(survivor.pk))
    _check_may_change(actor, survivor)
    if survivor.version != merge.survivor_version:  # type: ignore[attr-defined]
        raise ConflictError(
            _(
                "%(record)s has been changed since the merge (version %(then)s, now %(now)s): "
                "undoing would overwrite those changes, so the merge cannot be undone."
            )
            % {
                "record": survivor,
                "then": merge.survivor_version,
                "now": survivor.version,  # type: ignore[attr-defined]
            }
        )
    if spec.model._default_manager.filter(pk=merge.loser_id).exists():
        raise ConflictError(_("A record already has the id of the merged record."))
    note = {"channel": str(channel), "merge": {"id": merge.pk, "undone": True}}
    with audit_context(actor=actor, channel=channel):
        restored = deserialized(merge.loser_snapshot)
        drop_dangling(restored.object)
        restored.save()
        loser = spec.model._default_manager.get(pk=merge.loser_id)
        for group in merge.moved:
            move_back(group, survivor.pk, loser.pk)
        before = deserialized(merge.survivor_before)
        drop_dangling(before.object)
        skipped = {"id", "version", "created_at", "updated_at"}
        for field in spec.model._meta.concrete_fields:
            if field.name not in skipped:
                setattr(survivor, field.attname, getattr(before.object, field.attname))
        save_versioned(survivor)  # type: ignore[type-var]
        for name, values in (before.m2m_data or {}).items():
            getattr(survivor, name).set(values)
        for group in merge.moved:
            if group["kind"] == "kept":
                hooks.merge_restored(
                    entity=merge.entity,
                    loser_id=loser.pk,
                    survivor_id=survivor.pk,
                    notes=group["notes"],
                    actor=actor,
                    channel=channel,
                )
        _merge_entry(survivor, _("merge undone"), f"{merge.loser_label} (#{loser.pk})", note)
        _merge_entry(loser, _("restored by undoing a merge"), merge.survivor_label, note)
    merge.undone_at = timezone.now()
    merge.undone_by = actor if getattr(actor, "pk", None) else None
    merge.save(update_fields=["undone_at", "undone_by"])
    if merge.pair_id:
        DuplicatePair.objects.filter(pk=merge.pair_id).update(
            status=PairStatus.OPEN, decided_by=None, decided_at=None
        )
    return loser


# --- decisions ----------------------------------------------------------------------------------


def pair_mark_not_duplicate(*, pair: DuplicatePair, actor: Any, channel: str) -> DuplicatePair:
    """Remember that the two records are different: detection never proposes them again."""
    spec = spec_for(pair.entity)
    records = spec.model._default_manager.in_bulk([pair.record_a, pair.record_b])
    if len(records) < 2:
        raise NotFound(_("One of the two records no longer exists (merged or deleted meanwhile)."))
    _check_may_change(actor, *records.values())
    with transaction.atomic():
        updated = DuplicatePair.objects.filter(pk=pair.pk, status=PairStatus.OPEN).update(
            status=PairStatus.NOT_DUPLICATE,
            decided_by=actor if getattr(actor, "pk", None) else None,
            decided_at=timezone.now(),
        )
        if not updated:
            raise ConflictError(_("This pair has already been decided on."))
        note = {"channel": str(channel), "not_duplicate": pair.pk}
        with audit_context(actor=actor, channel=channel):
            for record in records.values():
                other = records[pair.record_b if record.pk == pair.record_a else pair.record_a]
                _merge_entry(
                    record, _("marked as not a duplicate of"), f"{other} (#{other.pk})", note
                )
    pair.refresh_from_db()
    return pair


def pair_reopen(*, pair: DuplicatePair, actor: Any, channel: str) -> DuplicatePair:
    """Take back a "not a duplicate" decision: the pair is to review again."""
    if pair.status != PairStatus.NOT_DUPLICATE:
        raise ConflictError(_("Only a pair marked as not a duplicate can be reopened."))
    spec = spec_for(pair.entity)
    records = spec.model._default_manager.in_bulk([pair.record_a, pair.record_b])
    _check_may_change(actor, *records.values())
    DuplicatePair.objects.filter(pk=pair.pk).update(
        status=PairStatus.OPEN, decided_by=None, decided_at=None
    )
    pair.refresh_from_db()
    return pair


# --- bulk merge ---------------------------------------------------------------------------------

ProgressCallback = Callable[[BulkMergeRun], None]
PROGRESS_EVERY = 25


def bulk_merge(
    *,
    run: BulkMergeRun,
    actor: Any,
    pairs: Any,
    progress: ProgressCallback | None = None,
) -> BulkMergeRun:
    """Merge `pairs` (open, best first) one by one with the default survivor and values.

    Each merge is its own transaction: one refused pair (changed meanwhile, a clash) is counted
    and reported, the others go on. A pair whose record was merged by an earlier one is skipped.
    """
    BulkMergeRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, total=len(pairs))
    run.refresh_from_db()
    for n, pair in enumerate(pairs, start=1):
        try:
            pair_merge(pair=pair, actor=actor, channel=run.channel)
        except (NotFound, ConflictError):
            run.skipped += 1
        except (PermissionDenied, CibleError) as error:
            run.failed += 1
            if len(run.errors) < 100:
                run.errors.append({"pair": pair.pk, "message": str(error)[:500]})
        else:
            run.merged += 1
        if n % PROGRESS_EVERY == 0 or n == len(pairs):
            BulkMergeRun.objects.filter(pk=run.pk).update(
                merged=run.merged, skipped=run.skipped, failed=run.failed, errors=run.errors
            )
            if progress is not None:
                progress(run)
            if BulkMergeRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
                BulkMergeRun.objects.filter(pk=run.pk).update(
                    status=RunStatus.CANCELLED, finished_at=timezone.now()
                )
                run.refresh_from_db()
                return run
    BulkMergeRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE,
        finished_at=timezone.now(),
        merged=run.merged,
        skipped=run.skipped,
        failed=run.failed,
        errors=run.errors,
    )
    run.refresh_from_db()
    return run
