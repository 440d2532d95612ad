"""What keeps fit scores current when records change (connected in `apps.ready`).

People and the pipeline do not know profiles exist (ARCHITECTURE.md layers): the profiles app
listens to the model signals instead — as the axes app does for segment membership, and after
it (its receivers are connected first), so a criterion on segments sees the new membership. The
organisation concerned is re-scored for every active, scored profile, synchronously, inside the
writer's transaction: a rolled-back save leaves its old score.

- an organisation saved, or its installed products changed: itself;
- a related row that criteria can test (a contact, an opportunity — any model behind a to-many
  rule field, built in or registered by a higher app) saved or deleted: its organisation and the
  one it left, but only when some active criterion reads that relation (or segments);
- an organisation put in or taken out of a segment by hand: itself, when some active criterion
  reads segments. (Rule segments change with their organisation's save, above; a full rebuild
  of segments reaches the scores through the nightly run or `cible profiles score`.)

Bulk writers (`core.bulk`, imports, the demo) send no signal: they call
`compute.fit_scores_after_bulk(organisation_ids=…)`; the nightly run catches the rest.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from cible.people.models import Organisation
from cible.segments import rules
from cible.segments.profiles.models import IdealCustomerProfile, ProfileCriterion
from cible.segments.profiles.refresh import fit_scores_refresh_for
from cible.segments.rules.sql import relation_path

_OLD_PARENT = "_profiles_old_organisation_id"
_CLEARED = "_profiles_cleared"


@cache
def _watched() -> dict[type[Model], str]:
    """Model behind a to-many rule field -> its column pointing to the organisation."""
    watched: dict[type[Model], str] = {}
    for rule_field in rules.fields_for("organisation"):
        if rule_field.many and rule_field.kind != "list":
            model, back, _lookup = relation_path(rule_field)
            watched[model] = back
    return watched


def _scored_profiles_exist() -> bool:
    return IdealCustomerProfile.objects.filter(is_active=True, scored_at__isnull=False).exists()


def _criteria_read(model: type[Model]) -> bool:
    """Whether an active, scored criterion tests rows of `model` (or segments, which may depend
    on anything)."""
    stored = ProfileCriterion.objects.filter(
        profile__is_active=True, profile__scored_at__isnull=False
    ).values_list("rule", flat=True)
    for rule in stored:
        try:
            group = rules.parse(rule, level="organisation", resolve=False)
        except rules.RuleInvalid:
            continue
        for rule_field in group.fields():
            if rule_field.kind == "segment":
                return True
            many = rule_field.many and rule_field.kind != "list"
            if many and relation_path(rule_field)[0] is model:
                return True
    return False


def _refresh(ids: set[int | None]) -> None:
    wanted = {pk for pk in ids if pk is not None}
    if wanted:
        fit_scores_refresh_for(organisation_ids=wanted)


def organisation_saved(
    sender: type[Model], instance: Organisation, raw: bool = False, **kwargs: Any
) -> None:
    if not raw and _scored_profiles_exist():
        _refresh({instance.pk})


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
    if not reverse:
        if action != "pre_clear" and _scored_profiles_exist():
            _refresh({instance.pk})
        return
    # A product's organisations changed (product.installed_at.add(…) / .clear()).
    if action == "pre_clear":
        ids = sender._default_manager.filter(competitorproduct_id=instance.pk).values_list(
            "organisation_id", flat=True
        )
        setattr(instance, _CLEARED, set(ids))
    elif _scored_profiles_exist():
        _refresh(
            getattr(instance, _CLEARED, set()) if action == "post_clear" else set(pk_set or ())
        )


def related_saving(sender: type[Model], instance: Model, raw: bool = False, **kwargs: Any) -> None:
    back = _watched().get(sender)
    if back is None or raw or instance.pk is None:
        return
    old = sender._default_manager.filter(pk=instance.pk).values_list(back, flat=True).first()
    setattr(instance, _OLD_PARENT, old)


def related_changed(sender: type[Model], instance: Model, raw: bool = False, **kwargs: Any) -> None:
    back = _watched().get(sender)
    if back is None or raw:
        return
    ids = {getattr(instance, back), getattr(instance, _OLD_PARENT, None)}
    if ids == {None} or not _scored_profiles_exist() or not _criteria_read(sender):
        return
    _refresh(ids)


def membership_changed(
    sender: type[Model], instance: Any, raw: bool = False, **kwargs: Any
) -> None:
    if raw or not _scored_profiles_exist() or not _criteria_read(sender):
        return
    _refresh({instance.organisation_id})


def bulk_written(*, model: type[Model], ids: set[int] | None, actor: Any, channel: str) -> None:
    """An import wrote rows without signals: re-score their organisations in the background,
    after the axes app's listener (registered first), so criteria on segments see them."""
    from cible.segments.profiles.tasks import after_bulk_write

    if not _scored_profiles_exist():
        return
    wanted: set[int] | None = ids
    if model is not Organisation:
        back = _watched().get(model)
        if back is None or not _criteria_read(model):
            return
        if ids is not None:
            rows = model._default_manager.filter(pk__in=ids).exclude(**{f"{back}__isnull": True})
            wanted = set(rows.values_list(back, flat=True))
    if wanted == set():
        return
    actor_id = getattr(actor, "pk", None)
    listed = sorted(wanted) if wanted is not None else None
    transaction.on_commit(lambda: after_bulk_write(listed, actor_id, channel))


def connect() -> None:
    from cible.people.hooks import register_bulk_listener

    register_bulk_listener(bulk_written)
    from cible.segments.axes.models import Membership

    post_save.connect(membership_changed, sender=Membership, dispatch_uid="profiles-member-in")
    post_delete.connect(membership_changed, sender=Membership, dispatch_uid="profiles-member-out")
    through = Organisation.installed_products.through
    post_save.connect(organisation_saved, sender=Organisation, dispatch_uid="profiles-org-saved")
    m2m_changed.connect(products_changed, sender=through, dispatch_uid="profiles-products")
    rules.watch_fields(_listen_to_relation)


def _listen_to_relation(rule_field: rules.RuleField) -> None:
    """The model behind a to-many rule field (contacts, opportunities registered later)."""
    if rule_field.level != "organisation" or not rule_field.many or rule_field.kind == "list":
        return
    model, _back, _lookup = relation_path(rule_field)
    _watched.cache_clear()
    uid = model._meta.label_lower
    pre_save.connect(related_saving, sender=model, dispatch_uid=f"profiles-saving:{uid}")
    post_save.connect(related_changed, sender=model, dispatch_uid=f"profiles-saved:{uid}")
    post_delete.connect(related_changed, sender=model, dispatch_uid=f"profiles-deleted:{uid}")
