"""Reads of pairs and merges, always through the viewer's access rights.

A viewer sees a pair only when they may see both of its records (`core.access.visible`), and a
pair whose record is gone (merged or deleted since) is not shown at all: both are the same
semi-join on the records' ids, so the queue, its counts, the API and bulk merge agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cible.core import access
from cible.core import normalisers as norm
from cible.core.errors import FieldError, NotFound
from cible.core.values import is_id
from cible.quality.duplicates import scoring
from cible.quality.duplicates.entities import ENTITIES, EntitySpec, spec_for
from cible.quality.duplicates.merge import (
    LOSER,
    SURVIVOR,
    default_choices,
    default_survivor,
    field_value,
)
from cible.quality.duplicates.models import (
    BulkMergeRun,
    DetectionRun,
    DuplicatePair,
    Entity,
    MergeRecord,
    PairStatus,
)
from cible.quality.duplicates.relations import snapshot_record

# Score bands of the queue's filter: (lowest score, highest score excluded).
BANDS: dict[str, tuple[float, float]] = {
    "high": (0.95, 1.01),
    "likely": (scoring.DEFAULT_THRESHOLD, 0.95),
    "possible": (0.0, scoring.DEFAULT_THRESHOLD),
}
BAND_LABELS = {
    "high": gettext_lazy("Very likely (95 % and more)"),
    "likely": gettext_lazy("Likely"),
    "possible": gettext_lazy("Possible (below the threshold)"),
}


def visible_ids(viewer: Any, entity: str) -> QuerySet[Any]:
    spec = spec_for(entity)
    return access.visible(viewer, spec.model._default_manager.all()).values("pk")


def pair_queryset(
    *, viewer: Any, entity: str, status: str | None = PairStatus.OPEN
) -> QuerySet[DuplicatePair]:
    """Pairs of `entity` whose two records exist and are visible to `viewer`."""
    ids = visible_ids(viewer, entity)
    qs = DuplicatePair.objects.filter(entity=entity, record_a__in=ids, record_b__in=ids)
    if status:
        qs = qs.filter(status=status)
    return qs


@dataclass
class PairFilters:
    entity: str = Entity.ORGANISATION
    status: str = PairStatus.OPEN
    band: str = ""
    owner: int | None = None
    min_score: float | None = None
    errors: list[FieldError] = field(default_factory=list)

    def as_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"entity": self.entity, "status": self.status}
        if self.band:
            params["band"] = self.band
        if self.owner:
            params["owner"] = self.owner
        if self.min_score is not None:
            params["min_score"] = self.min_score
        return params


def parse_filters(params: Mapping[str, Any]) -> PairFilters:
    """The queue's filters from a query string; a bad value is reported and ignored."""
    filters = PairFilters()
    entity = params.get("entity") or Entity.ORGANISATION
    if entity in ENTITIES:
        filters.entity = entity
    else:
        filters.errors.append(FieldError("entity", _("must be organisation or contact")))
    status = params.get("status") or PairStatus.OPEN
    if status in PairStatus.values:
        filters.status = status
    else:
        filters.errors.append(FieldError("status", _("must be open, merged or not_duplicate")))
    band = params.get("band") or ""
    if band in BANDS or band == "":
        filters.band = band
    else:
        filters.errors.append(FieldError("band", _("must be high, likely or possible")))
    owner = str(params.get("owner") or "").strip()
    if owner:
        if is_id(owner):
            filters.owner = int(owner)
        else:
            filters.errors.append(FieldError("owner", _("must be a user id")))
    raw = str(params.get("min_score") or "").strip().replace(",", ".")
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if 0 <= value <= 1:
            filters.min_score = value
        else:
            filters.errors.append(FieldError("min_score", _("must be a number between 0 and 1")))
    return filters


def pair_list(*, viewer: Any, filters: PairFilters) -> QuerySet[DuplicatePair]:
    """The review queue: visible pairs matching the filters, most likely first."""
    qs = pair_queryset(viewer=viewer, entity=filters.entity, status=filters.status)
    if filters.band:
        low, high = BANDS[filters.band]
        qs = qs.filter(score__gte=low, score__lt=high)
    if filters.min_score is not None:
        qs = qs.filter(score__gte=filters.min_score)
    if filters.owner:
        owned = spec_for(filters.entity).model._default_manager.filter(owner_id=filters.owner)
        owned_ids = owned.values("pk")
        qs = qs.filter(Q(record_a__in=owned_ids) | Q(record_b__in=owned_ids))
    return qs.order_by("-score", "pk")


def records_of(entity: str, pairs: list[DuplicatePair]) -> dict[int, Model]:
    """The records of a page of pairs, in one query (with their owner)."""
    ids = {pk for pair in pairs for pk in (pair.record_a, pair.record_b)}
    model = spec_for(entity).model
    related = ["owner", "organisation"] if entity == Entity.CONTACT else ["owner"]
    return model._default_manager.select_related(*related).in_bulk(ids)


def pair_get(*, viewer: Any, pk: Any, status: str | None = None) -> DuplicatePair:
    """One pair the viewer may see (both records visible), or NotFound."""
    pair = DuplicatePair.objects.filter(pk=pk).first() if is_id(pk) else None
    if (
        pair is None
        or not pair_queryset(viewer=viewer, entity=pair.entity, status=status)
        .filter(pk=pair.pk)
        .exists()
    ):
        raise NotFound(_("Not found, or not visible to you."))
    return pair


# --- side by side -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    value_a: str
    value_b: str
    differs: bool
    default: str  # "a" or "b": whose value survives unless someone chooses otherwise
    empty_a: bool
    empty_b: bool


@dataclass(frozen=True)
class Comparison:
    pair: DuplicatePair
    spec: EntitySpec
    a: Model
    b: Model
    rows: list[Row]
    survivor: str  # "a" or "b" by default
    reasons: list[tuple[str, bool]]  # (phrase, evidence for)
    may_merge: bool
    extra_rows: list[tuple[str, str, str]]  # (label, a, b): counts of related records


def display(record: Model, name: str, viewer: Any) -> str:
    """A field's value as shown to people: labels of choices, names of references, local
    numbers and dates; a reference the viewer may not see is not named."""
    model_field: Any = record._meta.get_field(name)
    value = field_value(record, name)
    if value is None or value == "":
        return ""
    if model_field.is_relation:
        target = getattr(record, name)
        if target is None:
            return ""
        if hasattr(target, "access_kind") and not access.can(viewer, "view", target):
            return _("(not visible to you)")
        if hasattr(target, "get_full_name"):
            return target.get_full_name() or target.get_username()
        return str(target)
    if model_field.choices:
        return str(getattr(record, f"get_{name}_display")())
    if name == "region":
        return f"{norm.region_label(value)} ({value})"
    if name == "country":
        return f"{norm.country_label(value)} ({value})"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, int | Decimal | float):
        return formats.number_format(value, force_grouping=True)
    return str(value)


def _related_counts(spec: EntitySpec, record: Model) -> dict[str, int]:
    counts: dict[str, int] = {}
    for relation in spec.model._meta.related_objects:
        related = relation.related_model
        if related._meta.app_label == "duplicates" or relation.many_to_many:
            continue
        label = str(related._meta.verbose_name_plural)
        if related is spec.model:
            label = str(_("subsidiaries") if spec.name == Entity.ORGANISATION else _("reports"))
        number = related._default_manager.filter(**{relation.field.name: record.pk}).count()
        counts[label] = counts.get(label, 0) + number
    return counts


def comparison(*, viewer: Any, pair: DuplicatePair) -> Comparison:
    spec = spec_for(pair.entity)
    records = spec.model._default_manager.in_bulk([pair.record_a, pair.record_b])
    if len(records) < 2:
        raise NotFound(_("One of the two records no longer exists (merged or deleted meanwhile)."))
    a, b = records[pair.record_a], records[pair.record_b]
    survivor, loser = default_survivor(spec, a, b)
    defaults = default_choices(spec, survivor, loser)
    side = {SURVIVOR: "a" if survivor.pk == a.pk else "b"}
    side[LOSER] = "b" if side[SURVIVOR] == "a" else "a"
    rows = []
    for f in spec.fields:
        value_a, value_b = display(a, f.name, viewer), display(b, f.name, viewer)
        rows.append(
            Row(
                name=f.name,
                label=spec.verbose(f.name),
                value_a=value_a,
                value_b=value_b,
                differs=field_value(a, f.name) != field_value(b, f.name),
                default=side[defaults[f.name]],
                empty_a=value_a == "",
                empty_b=value_b == "",
            )
        )
    counts_a, counts_b = _related_counts(spec, a), _related_counts(spec, b)
    extra = [
        (label, str(counts_a.get(label, 0)), str(counts_b.get(label, 0)))
        for label in dict.fromkeys([*counts_a, *counts_b])
        if counts_a.get(label) or counts_b.get(label)
    ]
    for name in spec.union_m2m:
        names_a = ", ".join(str(x) for x in getattr(a, name).all())
        names_b = ", ".join(str(x) for x in getattr(b, name).all())
        if names_a or names_b:
            extra.append((spec.verbose(name), names_a, names_b))
    return Comparison(
        pair=pair,
        spec=spec,
        a=a,
        b=b,
        rows=rows,
        survivor=side[SURVIVOR],
        reasons=[(scoring.describe(r), scoring.is_for(r)) for r in pair.reasons],
        may_merge=pair.status == PairStatus.OPEN
        and access.can(viewer, "change", a)
        and access.can(viewer, "change", b),
        extra_rows=extra,
    )


# --- merges, runs -------------------------------------------------------------------------------


def merge_queryset(*, viewer: Any, entity: str | None = None) -> QuerySet[MergeRecord]:
    """Merges whose surviving record the viewer may see (the loser lives on inside it)."""
    entities = [entity] if entity else list(ENTITIES)
    condition = Q()
    for name in entities:
        condition |= Q(entity=name, survivor_id__in=visible_ids(viewer, name))
    return MergeRecord.objects.filter(condition).select_related("merged_by", "undone_by")


def merge_get(*, viewer: Any, pk: Any) -> MergeRecord:
    found = merge_queryset(viewer=viewer).filter(pk=pk).first() if is_id(pk) else None
    if found is None:
        raise NotFound(_("Not found, or not visible to you."))
    return found


def loser_history(merge: MergeRecord) -> QuerySet[LogEntry]:
    """The merged record's own history, kept under its id and reachable from the merge."""
    content_type = ContentType.objects.get_for_model(spec_for(merge.entity).model)
    return (
        LogEntry.objects.filter(content_type=content_type, object_pk=str(merge.loser_id))
        .select_related("actor")
        .order_by("-timestamp")
    )


def snapshot_rows(merge: MergeRecord, viewer: Any) -> list[tuple[str, str, str]]:
    """(field, survivor's value before, loser's value) from the merge's snapshots, as shown."""
    spec = spec_for(merge.entity)
    before = snapshot_record(merge.survivor_before)
    loser = snapshot_record(merge.loser_snapshot)
    rows = []
    for f in spec.fields:
        a, b = _shown(before, f.name, viewer), _shown(loser, f.name, viewer)
        if a or b:
            rows.append((spec.verbose(f.name), a, b))
    return rows


def moved_rows(merge: MergeRecord) -> list[tuple[int, str]]:
    """(how many, what) for each kind of row the merge moved, in words."""
    spec = spec_for(merge.entity)
    described = []
    for group in merge.moved:
        if group.get("kind") == "m2m_union":
            label = spec.verbose(group["field"])
        else:
            try:
                model = apps.get_model(group["model"])
            except (LookupError, ValueError):
                label = group["model"]
            else:
                label = str(model._meta.verbose_name_plural)
                if model is spec.model:
                    label = str(
                        _("subsidiaries") if spec.name == Entity.ORGANISATION else _("reports")
                    )
        described.append((len(group.get("ids", [])), label))
    return described


def _shown(record: Model, name: str, viewer: Any) -> str:
    try:
        return display(record, name, viewer)
    except ObjectDoesNotExist:  # a reference deleted since the merge
        return f"#{field_value(record, name)}"


def bulk_candidates(*, viewer: Any, entity: str, threshold: float) -> list[DuplicatePair]:
    """Open pairs at or above `threshold` whose two records the viewer may change, best first."""
    if not access.can(viewer, "change"):
        return []
    pairs = list(
        pair_queryset(viewer=viewer, entity=entity)
        .filter(score__gte=threshold)
        .order_by("-score", "pk")
    )
    if access.is_admin(viewer):
        return pairs
    allowed = []
    for start in range(0, len(pairs), 400):
        chunk = pairs[start : start + 400]
        records = records_of(entity, chunk)
        allowed += [
            p
            for p in chunk
            if access.can(viewer, "change", records[p.record_a])
            and access.can(viewer, "change", records[p.record_b])
        ]
    return allowed


def latest_detection(entity: str) -> DetectionRun | None:
    return DetectionRun.objects.filter(entity=entity).order_by("-created_at").first()


def bulk_run_get(*, viewer: Any, pk: Any) -> BulkMergeRun:
    run = BulkMergeRun.objects.filter(pk=pk).first() if is_id(pk) else None
    if run is None or not (access.is_admin(viewer) or run.started_by_id == viewer.pk):
        raise NotFound(_("Not found, or not visible to you."))
    return run


def open_counts(*, viewer: Any) -> dict[str, int]:
    return {entity: pair_queryset(viewer=viewer, entity=entity).count() for entity in ENTITIES}


# --- the section on a record's page -------------------------------------------------------------


def record_section(viewer: Any, record: Model) -> dict[str, Any] | None:
    """Open look-alikes of a record and the merges it absorbed, for its page (people's hook)."""
    entity = record._meta.model_name or ""
    if entity not in ENTITIES:
        return None
    pairs = list(
        pair_queryset(viewer=viewer, entity=entity)
        .filter(Q(record_a=record.pk) | Q(record_b=record.pk))
        .order_by("-score")[:20]
    )
    merges = list(
        MergeRecord.objects.filter(entity=entity, survivor_id=record.pk)
        .select_related("merged_by")
        .order_by("-merged_at")[:20]
    )
    if not pairs and not merges:
        return None
    others = records_of(entity, pairs)
    return {
        "key": "duplicates",
        "title": _("Duplicates"),
        "count": len(pairs) + len(merges),
        "template": "duplicates/_record_section.html",
        "pairs": [
            (p, others.get(p.record_b if p.record_a == record.pk else p.record_a)) for p in pairs
        ],
        "merges": merges,
    }
