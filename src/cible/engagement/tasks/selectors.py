"""Reads of tasks and notifications, through `policy` (whose tasks a viewer may see)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from cible.core import access
from cible.core.errors import NotFound
from cible.engagement.tasks import policy
from cible.engagement.tasks.models import Notification, Task

BELL_SIZE = 5


def _ordered(qs: QuerySet[Task], *, done: bool) -> QuerySet[Task]:
    if done:
        return qs.filter(done_at__isnull=False).order_by("-done_at", "-id")
    # Ascending due time puts the overdue first, then today's, then the undated.
    return qs.filter(done_at__isnull=True).order_by(F("due_at").asc(nulls_last=True), "id")


def task_list(
    *, viewer: Any, scope: str = "mine", done: bool = False, assignee: int | None = None
) -> QuerySet[Task]:
    """The viewer's tasks ("mine"), or those of everyone they may see ("team"), open or done."""
    # Prefetched, not joined: a join before ORDER BY … LIMIT would join every open task of a
    # team (100,000 in the benchmark) to find the first 50.
    qs = Task.objects.prefetch_related("contact", "organisation", "assignee")
    if scope == "team":
        qs = policy.visible(viewer, qs)
        if assignee is not None:
            qs = qs.filter(assignee_id=assignee)
    else:
        qs = policy.visible(viewer, qs).filter(assignee_id=viewer.pk)
    return _ordered(qs, done=done)


def task_get(*, viewer: Any, pk: int) -> Task:
    task = policy.visible(viewer, Task.objects.select_related("assignee")).filter(pk=pk).first()
    if task is None:
        raise NotFound(_("No such task, or not one you may see."))
    return task


def open_count(*, viewer: Any) -> int:
    return Task.objects.filter(assignee_id=viewer.pk, done_at__isnull=True).count()


def record_tasks(*, viewer: Any, record: Any) -> list[Task]:
    """Open tasks about a contact or an organisation, among those the viewer may see."""
    field = record._meta.model_name  # "contact" or "organisation"
    qs = policy.visible(viewer, Task.objects.filter(**{field: record}))
    related = qs.select_related("assignee", "contact", "organisation")
    return list(_ordered(related, done=False)[:50])


def assignable_users(*, viewer: Any) -> list[Any]:
    """Whom the viewer may give a task to, for the forms: self, teammates, managed teams."""
    User = get_user_model()
    qs = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    if not access.is_admin(viewer):
        qs = qs.filter(pk__in=policy.managed_ids(viewer) | access.teammate_ids(viewer))
    return list(qs)


def team_members(*, viewer: Any) -> list[Any]:
    """The people whose tasks the viewer may see besides their own (the team view's filter)."""
    User = get_user_model()
    qs = User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    if not access.is_admin(viewer):
        qs = qs.filter(pk__in=policy.managed_ids(viewer))
    return list(qs)


# --- notifications ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bell:
    unread: int
    latest: list[Notification]


def unread_count(*, user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def latest_notifications(*, user: Any, limit: int = BELL_SIZE) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


def bell(*, user: Any) -> Bell:
    """What the navbar bell shows: two queries."""
    return Bell(unread_count(user=user), latest_notifications(user=user))


def notification_list(*, user: Any, unread: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def notification_get(*, user: Any, pk: int) -> Notification:
    found = Notification.objects.filter(user=user, pk=pk).first()
    if found is None:
        raise NotFound(_("No such notification."))
    return found
