"""What an erasure (privacy app, GDPR art. 17) takes out of the duplicates app's own tables.

A merge keeps both records as they were (`MergeRecord` snapshots and labels) so that it can be
undone. When a person is anonymised, the fact of each of their merges stays — who merged, when,
through which channel, which ids, which related rows moved — but what said who they were goes:

- the merges where they are the record kept or the record merged, and those of the duplicates
  merged into them (a chain of merges of one person): the snapshot fields that describe the
  person (every free-text field of a contact: names, emails, phones, job title, LinkedIn …) are
  redacted whole, links to other people cut, and the labels become "Anonymised contact #id" as
  in the audit trail. The other record of such a merge, when it is another person (a merge that
  was undone), only loses the text that quotes the erased person;
- for a single erasure, any other merge whose snapshots or labels quote one of the values that
  identify the person on their own (an organisation's notes holding their email), and the
  messages of bulk merges that name them;
- the pairs of the person: their reasons, should one quote a value.

Undoing a merge whose record kept was anonymised is refused (`merge.merge_undo`): the snapshot no
longer holds the person. Registered with `privacy.hooks` in `DuplicatesConfig.ready`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from cible.quality.duplicates.models import BulkMergeRun, DuplicatePair, Entity, MergeRecord
from cible.quality.privacy.erasure import ANONYMOUS_NAME
from cible.quality.privacy.personal_data import (
    REDACTED,
    personal_fields,
    personal_links,
    variants,
)

# A chain of merges into merges; ten is already unusual (as privacy's own history walk).
CHAIN_DEPTH = 10
# Beyond this many people at once (a retention batch), merges that do not involve them are not
# searched for their values: the sweep is a scan of every merge per value.
SWEEP_LIMIT = 20
SWEEP_CHUNK = 25  # values per query of the sweep
SNAPSHOTS = ("survivor_before", "loser_snapshot")


def erase_people(contact_ids: Sequence[int], scrubber: Any) -> int:
    """The eraser (see `privacy.hooks`): returns how many merges and pairs it changed."""
    people = merged_into(contact_ids)
    changed = _erase_merges(people, scrubber)
    if len(contact_ids) <= SWEEP_LIMIT:
        changed += _sweep(scrubber, exclude=_merges_of(people))
    return changed + _erase_pairs(people, scrubber)


def merged_into(contact_ids: Iterable[int]) -> set[int]:
    """The contacts and every contact merged into them (and not taken back by an undo)."""
    people = {int(pk) for pk in contact_ids}
    frontier = set(people)
    for _depth in range(CHAIN_DEPTH):
        losers = set(
            MergeRecord.objects.filter(
                entity=Entity.CONTACT, survivor_id__in=frontier, undone_at__isnull=True
            ).values_list("loser_id", flat=True)
        )
        frontier = losers - people
        if not frontier:
            break
        people |= frontier
    return people


def _merges_of(people: set[int]) -> Any:
    return MergeRecord.objects.filter(entity=Entity.CONTACT).filter(
        Q(survivor_id__in=people) | Q(loser_id__in=people)
    )


def redact_person(snapshot: Any, scrubber: Any) -> Any:
    """A contact's snapshot with every field describing the person redacted whole."""
    if not isinstance(snapshot, dict):
        return scrubber.json(snapshot)
    fields = dict(snapshot.get("fields") or {})
    for name in personal_fields():
        if fields.get(name) not in (None, ""):
            fields[name] = REDACTED
    for name in personal_links():
        if fields.get(name) is not None:
            fields[name] = None
    return scrubber.json({**snapshot, "fields": fields})


def _redact_side(
    record: Any, snapshot: str, label: str, pk: int, people: set[int], scrubber: Any
) -> None:
    """One side of a merge: the erased person's snapshot is redacted whole and their label
    replaced; anyone else's only loses the text that quotes an erased person."""
    if pk in people:
        setattr(record, snapshot, redact_person(getattr(record, snapshot), scrubber))
        setattr(record, label, f"{ANONYMOUS_NAME}{pk}")
    else:
        setattr(record, snapshot, scrubber.json(getattr(record, snapshot)))
        setattr(record, label, scrubber.text(getattr(record, label)))


def _erase_merges(people: set[int], scrubber: Any) -> int:
    changed = 0
    for record in _merges_of(people).order_by("pk"):
        before = _state(record)
        _redact_side(
            record, "survivor_before", "survivor_label", record.survivor_id, people, scrubber
        )
        _redact_side(record, "loser_snapshot", "loser_label", record.loser_id, people, scrubber)
        if _state(record) != before:
            record.save(update_fields=[*SNAPSHOTS, "survivor_label", "loser_label"])
            changed += 1
    return changed


def _state(record: MergeRecord) -> tuple[Any, ...]:
    return (
        record.survivor_before,
        record.loser_snapshot,
        record.survivor_label,
        record.loser_label,
    )


def _sweep(scrubber: Any, *, exclude: Any) -> int:
    """Other merges quoting a value that identifies the person: that text goes."""
    values = variants(getattr(scrubber, "identifying", ()))
    if not values:
        return 0
    merges = MergeRecord.objects.exclude(pk__in=exclude.values("pk")).annotate(
        before_text=Cast("survivor_before", TextField()),
        loser_text=Cast("loser_snapshot", TextField()),
    )
    found: dict[int, Any] = {}
    for start in range(0, len(values), SWEEP_CHUNK):
        query = Q()
        for value in values[start : start + SWEEP_CHUNK]:
            for name in ("before_text", "loser_text", "survivor_label", "loser_label"):
                query |= Q(**{f"{name}__icontains": value})
        for record in merges.filter(query).exclude(pk__in=list(found)):
            found[record.pk] = record
    changed = 0
    for record in found.values():
        before = _state(record)
        record.survivor_before = scrubber.json(record.survivor_before)
        record.loser_snapshot = scrubber.json(record.loser_snapshot)
        record.survivor_label = scrubber.text(record.survivor_label)
        record.loser_label = scrubber.text(record.loser_label)
        if _state(record) != before:
            record.save(update_fields=[*SNAPSHOTS, "survivor_label", "loser_label"])
            changed += 1
    return changed + _sweep_bulk_errors(values, scrubber)


def _sweep_bulk_errors(values: list[str], scrubber: Any) -> int:
    """The messages of refused pairs kept by bulk merges name the records ("You may not change
    Jeanne Martin …")."""
    runs = BulkMergeRun.objects.annotate(errors_text=Cast("errors", TextField()))
    query = Q()
    for value in values:
        query |= Q(errors_text__icontains=value)
    changed = 0
    for pk, errors in runs.filter(query).values_list("pk", "errors"):
        cleaned = scrubber.json(errors)
        if cleaned != errors:
            BulkMergeRun.objects.filter(pk=pk).update(errors=cleaned)
            changed += 1
    return changed


def _erase_pairs(people: set[int], scrubber: Any) -> int:
    pairs = DuplicatePair.objects.filter(entity=Entity.CONTACT).filter(
        Q(record_a__in=people) | Q(record_b__in=people)
    )
    changed = 0
    for pair in pairs.only("pk", "reasons"):
        reasons = scrubber.json(pair.reasons)
        if reasons != pair.reasons:
            DuplicatePair.objects.filter(pk=pair.pk).update(reasons=reasons)
            changed += 1
    return changed
