"""Optimistic concurrency for `VersionedModel` records.

A save first moves the row from the version the editor read to the next one with a single
`UPDATE … WHERE id = ? AND version = ?`. Zero rows updated means somebody saved in between:
the caller gets a `ConflictError` and nothing is written. The conditional UPDATE also takes the
row's write lock, so the full save that follows cannot interleave with another one.

A model may name `derived_fields`: columns other processes keep current (a lead's scores,
rewritten within a second of each interaction). An edit never writes them back, so a form
opened before a rescore cannot put the old scores back.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from cible.core.errors import ConflictError
from cible.core.models import VersionedModel

V = TypeVar("V", bound=VersionedModel)


def save_versioned(obj: V, *, expected_version: int | None = None) -> V:
    """Save `obj`, refusing if its row is no longer at `expected_version` (default: obj.version)."""
    if obj.pk is None or obj._state.adding:
        obj.save()
        return obj
    expected = obj.version if expected_version is None else expected_version
    model = type(obj)
    with transaction.atomic():
        moved = model._default_manager.filter(pk=obj.pk, version=expected).update(
            version=F("version") + 1
        )
        if not moved:
            current = (
                model._default_manager.filter(pk=obj.pk).values_list("version", flat=True).first()
            )
            if current is None:
                raise ConflictError(_("This record has been deleted by someone else."))
            raise ConflictError(
                _(
                    "Someone else saved this record while you were editing it "
                    "(your version %(mine)s, now %(theirs)s). "
                    "Reload it to see their changes, then apply yours again."
                )
                % {"mine": expected, "theirs": current}
            )
        obj.version = expected + 1
        derived = getattr(model, "derived_fields", ())
        if derived:
            obj.save(
                update_fields=[
                    f.name
                    for f in model._meta.concrete_fields
                    if not f.primary_key and f.name not in derived
                ]
            )
        else:
            obj.save()
    return obj
