"""What keeps rule segments current when records change (connected in `apps.ready`).

People and the pipeline do not know segments exist (ARCHITECTURE.md layers): the axes app
listens to the model signals instead, and refreshes the membership of the organisations
concerned, synchronously, inside the writer's transaction — so a page shown after a save shows
the new segments, and a rolled-back save leaves no trace.

- an organisation saved: itself; about to be deleted: its segments lose a member;
- its installed products changed (many-to-many): itself;
- a related row that rules can test (a contact, an opportunity — any model behind a to-many rule
  field, registered or built in) saved or deleted: its organisation, and the one it left.

Bulk writers (`core.bulk`, imports, the demo) send no signal: they call
`services.membership_after_bulk(organisation_ids=…)` for the ids they wrote.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from cible.people.models import Organisation
from cible.segments import rules
from cible.segments.rules.sql import relation_path

_OLD_PARENT = "_segments_old_organisation_id"
_CLEARED = "_segments_cleared"


@cache
def _watched() -> dict[type[Model], tuple[str, str]]:
    """Model behind a to-many rule field -> (its column pointing to the organisation, the
    relation's name)."""
    watched: dict[type[Model], tuple[str, str]] = {}
    for rule_field in rules.fields_for("organisation"):
        if rule_field.many and rule_field.kind != "list":
            model, back, _lookup = relation_path(rule_field)
            watched[model] = (back, rule_field.relation)
    return watched


def _tested(relation: str) -> bool:
    """Does some rule segment test fields through `relation` ("contacts" …)?"""
    from cible.segments.axes.plan import load_plan

    return any(f.relation == relation for f in load_plan().fields())


def _refresh(ids: set[int | None]) -> None:
    from cible.segments.axes.services import membership_refresh_for

    wanted = {i for i in ids if i is not None}
    if wanted:
        membership_refresh_for(organisation_ids=wanted)


def organisation_saved(
    sender: type[Model], instance: Organisation, raw: bool = False, **kwargs: Any
) -> None:
    if not raw:
        _refresh({instance.pk})


def organisation_deleting(sender: type[Model], instance: Organisation, **kwargs: Any) -> None:
    from cible.segments.axes.membership import organisation_removed

    organisation_removed(organisation_id=instance.pk)


def products_changed(
    sender: type[Model],
    instance: Model,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not _tested("installed_products"):
        return
    if not reverse:
        if action != "pre_clear":
            _refresh({instance.pk})
        return
    # A product's organisations changed (product.installed_at.add(…)).
    if action == "pre_clear":
        ids = set(
            sender._default_manager.filter(competitorproduct_id=instance.pk).values_list(
                "organisation_id", flat=True
            )
        )
        setattr(instance, _CLEARED, ids)
    elif action == "post_clear":
        _refresh(getattr(instance, _CLEARED, set()))
    else:
        _refresh(set(pk_set or ()))


def related_saving(sender: type[Model], instance: Model, raw: bool = False, **kwargs: Any) -> None:
    watched = _watched().get(sender)
    if watched is None or raw or instance.pk is None or not _tested(watched[1]):
        return
    back = watched[0]
    old = sender._default_manager.filter(pk=instance.pk).values_list(back, flat=True).first()
    setattr(instance, _OLD_PARENT, old)


def related_changed(sender: type[Model], instance: Model, raw: bool = False, **kwargs: Any) -> None:
    watched = _watched().get(sender)
    if watched is None or raw or not _tested(watched[1]):
        return
    _refresh({getattr(instance, watched[0]), getattr(instance, _OLD_PARENT, None)})


def merge_recorded(
    sender: type[Model], instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    """A merge of organisations was undone: the restored record comes back through a raw save
    (no refresh), so its segments are computed here. (A merge itself needs nothing more than
    `merging.keep`: the loser's membership goes with it, the survivor's save refreshes the
    survivor.)"""
    if raw or getattr(instance, "entity", None) != "organisation":
        return
    if update_fields and "undone_at" in update_fields and instance.undone_at is not None:
        _refresh({instance.loser_id, instance.survivor_id})


# The duplicates app sits beside segments (ARCHITECTURE.md layers): named, never imported.
MERGE_RECORD = "duplicates.MergeRecord"


def organisations_of(model: type[Model], ids: set[int] | None) -> set[int] | None:
    """The organisations whose segments rows of `model` written in bulk may change: the rows
    themselves (organisations), or their organisations when a rule tests that relation; None
    when they are all concerned."""
    if model is Organisation:
        return ids
    watched = _watched().get(model)
    if watched is None or not _tested(watched[1]):
        return set()
    if ids is None:
        return None
    return set(
        model._default_manager.filter(pk__in=ids)
        .exclude(**{f"{watched[0]}__isnull": True})
        .values_list(watched[0], flat=True)
    )


def bulk_written(*, model: type[Model], ids: set[int] | None, actor: Any, channel: str) -> None:
    """An import wrote rows without signals: their segments are brought up to date in the
    background once its last batch committed (a full rebuild when they are many)."""
    from cible.segments.axes.tasks import after_bulk_write

    wanted = organisations_of(model, ids)
    if wanted == set():
        return
    actor_id = getattr(actor, "pk", None)
    listed = sorted(wanted) if wanted is not None else None
    transaction.on_commit(lambda: after_bulk_write(listed, actor_id, channel))


def connect() -> None:
    from cible.people.hooks import register_bulk_listener, register_merge_keeper
    from cible.segments.axes.merging import KEEPER

    register_bulk_listener(bulk_written)
    register_merge_keeper(KEEPER)
    through = Organisation.installed_products.through
    post_save.connect(organisation_saved, sender=Organisation, dispatch_uid="segments-org-saved")
    pre_delete.connect(
        organisation_deleting, sender=Organisation, dispatch_uid="segments-org-deleting"
    )
    m2m_changed.connect(products_changed, sender=through, dispatch_uid="segments-products")
    post_save.connect(merge_recorded, sender=MERGE_RECORD, dispatch_uid="segments-merge")
    rules.watch_fields(_listen_to_relation)


def _listen_to_relation(rule_field: rules.RuleField) -> None:
    """The model behind a to-many rule field (contacts, opportunities registered later)."""
    if rule_field.level != "organisation" or not rule_field.many or rule_field.kind == "list":
        return
    model, _back, _lookup = relation_path(rule_field)
    _watched.cache_clear()
    uid = model._meta.label_lower
    pre_save.connect(related_saving, sender=model, dispatch_uid=f"segments-saving:{uid}")
    post_save.connect(related_changed, sender=model, dispatch_uid=f"segments-saved:{uid}")
    post_delete.connect(related_changed, sender=model, dispatch_uid=f"segments-deleted:{uid}")
