"""Events stored for an unknown email find their contact as soon as the contact exists:
created or given that email through the services (post_save), or written in bulk by an
import (people.hooks' bulk listener, since bulk writes fire no model signal)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from cible.people.hooks import register_bulk_listener
from cible.people.models import Contact


def _contact_saved(
    sender: type[Contact], instance: Contact, raw: bool = False, **kwargs: Any
) -> None:
    if raw or not instance.email_key:
        return
    from cible.engagement.interactions.services import attach_unmatched

    attach_unmatched(contacts=[instance])


def _contacts_written(*, model: type[Any], ids: set[int] | None, **kwargs: Any) -> None:
    if model is not Contact:
        return
    from cible.engagement.interactions.services import attach_unmatched

    attach_unmatched()  # starts from the (few) unmatched emails, not from the imported rows


def connect() -> None:
    post_save.connect(_contact_saved, sender=Contact, dispatch_uid="interactions-attach-unmatched")
    register_bulk_listener(_contacts_written)
