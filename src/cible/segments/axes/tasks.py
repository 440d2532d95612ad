"""Background work of the axes app (Huey; run the consumer with `cible worker`).

Segments are kept current as records change (receivers) — no timer rebuilds them. A full rebuild
is for after bulk writes that send no signals, or for a rule change on a big base, and runs here
when the UI asks for it, reporting its progress in its `RebuildRun`.
"""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from cible.segments.axes import services
from cible.segments.axes.models import RebuildRun


@db_task()
def rebuild_membership(run_id: int) -> None:
    run = RebuildRun.objects.filter(pk=run_id).first()
    if run is not None:
        services.membership_rebuild(run=run, channel=run.channel or "job")


@db_task()
def after_bulk_write(
    organisation_ids: list[int] | None, actor_id: int | None, channel: str
) -> None:
    """Segments of the organisations an import wrote (all of them: None)."""
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    ids = set(organisation_ids) if organisation_ids is not None else None
    services.membership_after_bulk(organisation_ids=ids, actor=actor, channel=channel)
