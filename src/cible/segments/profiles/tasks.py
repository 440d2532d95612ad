"""Background work of the profiles app (Huey; run the consumer with `cible worker`).

- on demand: the full computation of one profile, queued when its criteria change;
- every night: every active profile again, since criteria such as "created in the last 90 days"
  move with the calendar and some changes (a contact's function) reach scores only this way.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from cible.core.audit import Channel
from cible.segments.profiles import compute
from cible.segments.profiles.models import IdealCustomerProfile


@db_task()
def compute_profile(profile_id: int, actor_id: int | None = None) -> None:
    """The full computation of one profile, in the name of whoever asked for it (if anyone)."""
    profile = IdealCustomerProfile.objects.filter(pk=profile_id, is_active=True).first()
    if profile is None:
        return
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    compute.fit_scores_compute(profile=profile, actor=actor, channel=Channel.JOB)


@db_task()
def refresh_organisations(organisation_ids: list[int]) -> None:
    compute.fit_scores_refresh_for(organisation_ids=organisation_ids)


@db_periodic_task(crontab(hour="1", minute="40"))
def nightly_rescore() -> None:
    for profile in IdealCustomerProfile.objects.filter(is_active=True):
        compute.fit_scores_compute(profile=profile)


@db_task()
def after_bulk_write(
    organisation_ids: list[int] | None, actor_id: int | None, channel: str
) -> None:
    """Fit scores of the organisations an import wrote (all of them: None)."""
    from django.contrib.auth import get_user_model

    from cible.segments.profiles.compute import fit_scores_after_bulk

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    ids = set(organisation_ids) if organisation_ids is not None else None
    fit_scores_after_bulk(organisation_ids=ids, actor=actor, channel=channel)
