"""Moving what refers to a record, and snapshots of records: the mechanics of merge and undo.

Nothing here names a related model: the relations are those Django knows of the merged model
(`_meta.related_objects`: contacts, subsidiaries, opportunities, and whatever later apps add),
plus the external ids of the imports app, found by name when it is installed. Every move is
recorded so that undo can put each row back where it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import ManyToManyRel, ManyToOneRel, Model, OneToOneRel
from django.utils.translation import gettext as _

from cible.core.errors import ValidationFailed
from cible.quality.duplicates.entities import EntitySpec

OWN_APP = "duplicates"

# --- snapshots ----------------------------------------------------------------------------------


def snapshot(record: Model) -> dict[str, Any]:
    """Django's own serialisation of one record (fields and many-to-many), as JSON data."""
    return json.loads(serializers.serialize("json", [record], cls=DjangoJSONEncoder))[0]


def deserialized(data: Mapping[str, Any]) -> Any:
    return next(iter(serializers.deserialize("json", json.dumps([data]))))


def snapshot_record(data: Mapping[str, Any]) -> Model:
    """An unsaved record holding a snapshot's values, to show them."""
    return deserialized(data).object  # type: ignore[no-any-return]


def _existing(model: type[Model], pk: Any) -> bool:
    return pk is not None and model._default_manager.filter(pk=pk).exists()


def drop_dangling(obj: Model) -> None:
    """References to rows deleted since the snapshot become empty rather than failing."""
    for field in obj._meta.concrete_fields:
        if field.is_relation and field.null:
            value = getattr(obj, field.attname)
            if value is not None and not _existing(field.related_model, value):  # type: ignore[arg-type]
                setattr(obj, field.attname, None)


# --- rows that cannot both point to one record --------------------------------------------------
# A model whose rows are unique per (record, other columns) — a contact is a campaign's member
# once — registers how two clashing rows become one; merge then folds the loser's row into the
# survivor's instead of refusing, and undo puts both back as they were.

Combine = Callable[[Any, Any], None]  # combine(kept, dropped): update `kept`, unsaved
_combiners: dict[type[Model], tuple[tuple[str, ...], Combine]] = {}


def register_merge_combiner(
    model: type[Model], *, unique_with: tuple[str, ...], combine: Combine
) -> None:
    _combiners[model] = (unique_with, combine)


def _combine_clashes(
    related: type[Model], name: str, loser: Model, survivor: Model
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fold each of the loser's rows that would clash into the survivor's; returns snapshots of
    the survivor's rows before, and of the loser's rows deleted."""
    if related not in _combiners:
        return [], []
    unique_with, combine = _combiners[related]
    manager = related._default_manager
    kept_rows = {
        tuple(getattr(row, f"{c}_id", getattr(row, c, None)) for c in unique_with): row
        for row in manager.filter(**{name: survivor.pk})
    }
    before, dropped = [], []
    for row in manager.filter(**{name: loser.pk}):
        key = tuple(getattr(row, f"{c}_id", getattr(row, c, None)) for c in unique_with)
        kept = kept_rows.get(key)
        if kept is None:
            continue
        before.append(snapshot(kept))
        dropped.append(snapshot(row))
        combine(kept, row)
        row.delete()
        kept.save()
    return before, dropped


# --- moving related rows ------------------------------------------------------------------------


def _label(model: type[Model]) -> str:
    return model._meta.label_lower


def _audit_moves(
    model: type[Model], field: str, ids: list[int], old: Any, new: Any, merge_note: dict[str, Any]
) -> None:
    """A log entry per moved row of an audited model: its history shows where it went and why."""
    if not ids or not auditlog.contains(model):
        return
    content_type = ContentType.objects.get_for_model(model)
    entries = [
        LogEntry(
            content_type=content_type,
            object_pk=str(pk),
            object_id=pk,
            object_repr=f"{model._meta.verbose_name} #{pk}",
            action=LogEntry.Action.UPDATE,
            changes={field: [str(old), str(new)]},
            additional_data=merge_note,
        )
        for pk in ids
    ]
    LogEntry.objects.bulk_create(entries, batch_size=500)


def move_relations(
    spec: EntitySpec, loser: Model, survivor: Model, note: dict[str, Any]
) -> list[dict[str, Any]]:
    """Repoint every row referring to `loser` to `survivor`; returns what moved, for undo."""
    moved: list[dict[str, Any]] = []
    model = spec.model
    for relation in model._meta.related_objects:
        related = relation.related_model
        if related._meta.app_label == OWN_APP:
            continue
        if isinstance(relation, ManyToManyRel):
            moved.extend(_move_through_rows(relation, loser, survivor))
            continue
        if not isinstance(relation, ManyToOneRel):  # OneToOneRel is a ManyToOneRel
            continue
        name = relation.field.name
        combined, dropped = _combine_clashes(related, name, loser, survivor)
        rows = related._default_manager.filter(**{name: loser.pk})
        if related is model:
            rows = rows.exclude(pk=survivor.pk)  # the survivor's own link is a chosen value
        ids = list(rows.values_list("pk", flat=True))
        if combined:
            moved.append(
                {
                    "kind": "combined",
                    "model": _label(related),
                    "field": name,
                    "ids": [],
                    "deleted": dropped,
                    "combined": combined,
                }
            )
        if not ids:
            continue
        if (
            isinstance(relation, OneToOneRel)
            and related._default_manager.filter(**{name: survivor.pk}).exists()
        ):
            raise ValidationFailed(
                _("Both records have a %(what)s; keep one of them before merging.")
                % {"what": related._meta.verbose_name}
            )
        try:
            with transaction.atomic():
                related._default_manager.filter(pk__in=ids).update(**{name: survivor.pk})
        except IntegrityError:
            raise ValidationFailed(
                _("The %(what)s of both records cannot be combined (they would clash).")
                % {"what": related._meta.verbose_name_plural}
            ) from None
        _audit_moves(related, name, ids, loser.pk, survivor.pk, note)
        moved.append({"kind": "fk", "model": _label(related), "field": name, "ids": ids})
    moved.extend(_move_external_keys(spec, loser, survivor))
    return moved


def _move_through_rows(
    relation: ManyToManyRel, loser: Model, survivor: Model
) -> list[dict[str, Any]]:
    """Rows of another model's many-to-many to ours (e.g. a campaign's members): repointed, or
    deleted where the survivor is already linked (kept in the merge record for undo)."""
    through: Any = relation.through
    field: Any = relation.field
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    rows = through._default_manager.filter(**{target: loser.pk})
    if not rows.exists():
        return []
    linked = set(
        through._default_manager.filter(**{target: survivor.pk}).values_list(
            f"{source}_id", flat=True
        )
    )
    clashing = list(rows.filter(**{f"{source}_id__in": linked}))
    moving = list(rows.exclude(**{f"{source}_id__in": linked}).values_list("pk", flat=True))
    through._default_manager.filter(pk__in=moving).update(**{target: survivor.pk})
    deleted = [snapshot(row) for row in clashing]
    through._default_manager.filter(pk__in=[row.pk for row in clashing]).delete()
    return [
        {
            "kind": "m2m",
            "model": _label(through),
            "field": target,
            "ids": moving,
            "deleted": deleted,
        }
    ]


def _external_key_model() -> type[Model] | None:
    """The imports app's external ids, when it is installed (it is a sibling, not a dependency)."""
    try:
        model = apps.get_model("imports", "ExternalKey")
    except LookupError:
        return None
    names = {f.name for f in model._meta.get_fields()}
    return model if {"entity", "object_id"} <= names else None


def _move_external_keys(spec: EntitySpec, loser: Model, survivor: Model) -> list[dict[str, Any]]:
    model = _external_key_model()
    if model is None:
        return []
    rows = model._default_manager.filter(entity__in=spec.external_key_entities, object_id=loser.pk)
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return []
    model._default_manager.filter(pk__in=ids).update(object_id=survivor.pk)
    return [{"kind": "external_key", "model": _label(model), "field": "object_id", "ids": ids}]


def union_m2m(spec: EntitySpec, loser: Model, survivor: Model) -> list[dict[str, Any]]:
    moved = []
    for name in spec.union_m2m:
        mine = set(getattr(survivor, name).values_list("pk", flat=True))
        added = [pk for pk in getattr(loser, name).values_list("pk", flat=True) if pk not in mine]
        if added:
            getattr(survivor, name).add(*added)
            moved.append({"kind": "m2m_union", "model": "", "field": name, "ids": added})
    return moved


def move_back(group: Mapping[str, Any], survivor_pk: Any, loser_pk: Any) -> None:
    kind = group["kind"]
    if kind in ("m2m_union", "kept"):
        return  # the survivor's links come back with its snapshot; the keepers undo their own
    model = apps.get_model(group["model"])
    field = group["field"]
    manager = model._default_manager
    if kind == "external_key":
        manager.filter(pk__in=group["ids"], object_id=survivor_pk).update(object_id=loser_pk)
        return
    manager.filter(pk__in=group["ids"], **{field: survivor_pk}).update(**{field: loser_pk})
    for row in group.get("combined", []):
        deserialized(row).save()  # the survivor's row as it was before the loser's was folded in
    for row in group.get("deleted", []):
        restored = deserialized(row)
        if not manager.filter(pk=restored.object.pk).exists():
            restored.object.pk = None
            restored.save()
