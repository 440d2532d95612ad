"""What freshness does when organisations and contacts change (connected in `apps.ready`).

People sits below quality and does not know it exists (ARCHITECTURE.md): freshness listens to
the model signals instead. Two reactions, both cheap enough for every save:

- the changed record's tally slice is marked for recomputation (one INSERT, no lock);
- a verification closes the record's open verification task, whoever verified it and however.

Bulk writers (`core.bulk`) send no signal: new ids are noticed by the tally anyway, and updates
are caught by the daily sweep, or at once through `tally.tally_invalidate`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from cible.people.models import Contact, Organisation
from cible.quality.freshness import services
from cible.quality.freshness.models import BUCKET_SIZE, TallyChange
from cible.quality.freshness.rules import CLOSED_STATUS, CONTACT, ORGANISATION
from cible.quality.freshness.tally import tally_forget_all


def _mark(entity: str, pks: set[int]) -> None:
    TallyChange.objects.bulk_create(
        TallyChange(entity=entity, bucket=b) for b in sorted({pk // BUCKET_SIZE for pk in pks})
    )


def _mark_contacts_of(organisation: Organisation) -> None:
    """A contact of a closed organisation is stale too: its slice depends on the organisation."""
    pks = set(Contact.objects.filter(organisation_id=organisation.pk).values_list("pk", flat=True))
    if pks:
        _mark(CONTACT, pks)


_OLD_STATUS = "_freshness_old_status"


def organisation_saving(
    sender: type[Model], instance: Organisation, raw: bool = False, **kwargs: Any
) -> None:
    """Note the status before the save: only closing or reopening changes the contacts'."""
    if raw or instance.pk is None:
        return
    old = Organisation.objects.filter(pk=instance.pk).values_list("status", flat=True).first()
    setattr(instance, _OLD_STATUS, old)


def record_saved(sender: type[Model], instance: Model, raw: bool = False, **kwargs: Any) -> None:
    if raw:
        return
    entity = ORGANISATION if isinstance(instance, Organisation) else CONTACT
    _mark(entity, {instance.pk})
    if isinstance(instance, Organisation):
        old = getattr(instance, _OLD_STATUS, None)
        if old != instance.status and CLOSED_STATUS in (old, instance.status):
            _mark_contacts_of(instance)
    services.verification_tasks_close(record=instance)


def record_deleted(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    entity = ORGANISATION if isinstance(instance, Organisation) else CONTACT
    _mark(entity, {instance.pk})


def organisation_deleting(sender: type[Model], instance: Organisation, **kwargs: Any) -> None:
    # Its contacts lose their organisation (SET NULL, no signal): their slices change.
    _mark_contacts_of(instance)


def user_deleted(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    # Their records become unowned without a signal per record: recompute everything.
    tally_forget_all()


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

    for model in (Organisation, Contact):
        post_save.connect(record_saved, sender=model, dispatch_uid=f"freshness-saved-{model}")
        post_delete.connect(record_deleted, sender=model, dispatch_uid=f"freshness-del-{model}")
    pre_save.connect(organisation_saving, sender=Organisation, dispatch_uid="freshness-org-saving")
    pre_delete.connect(
        organisation_deleting, sender=Organisation, dispatch_uid="freshness-org-deleting"
    )
    post_delete.connect(user_deleted, sender=get_user_model(), dispatch_uid="freshness-user-del")
