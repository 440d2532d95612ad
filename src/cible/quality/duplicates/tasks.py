"""Huey tasks of the duplicates app: thin over the services, so detection over a million records
and large bulk merges go on after the web request or API call that asked for them."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from cible.quality.duplicates import services


@db_task(retries=0)
def detection_task(run_id: int) -> None:
    services.detection_execute(run_id=run_id)


@db_task(retries=0)
def bulk_merge_task(run_id: int, actor_id: int | None) -> None:
    services.bulk_merge_execute(run_id=run_id, actor_id=actor_id)
