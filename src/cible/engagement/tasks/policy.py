"""Who sees and handles whose tasks, on top of core.access's roles and teams.

Tasks are personal work, not shared records: the account visibility policy does not apply.
A person sees and handles their own tasks; a sales manager also those of the teams they manage;
an administrator everyone's. A task may be given to oneself, to a teammate (an SDR handing a
follow-up to the AE of their team) or, for a manager, to anyone of the teams they manage.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from cible.core import access

_MANAGED_CACHE = "_cible_managed_ids"


def managed_ids(user: Any) -> frozenset[int]:
    """The user and the members of the teams the user manages (read once per user object)."""
    cached = getattr(user, _MANAGED_CACHE, None)
    if cached is None:
        User = get_user_model()
        ids = set(User.objects.filter(profile__teams__manager=user).values_list("id", flat=True))
        ids.add(user.pk)
        cached = frozenset(ids)
        setattr(user, _MANAGED_CACHE, cached)
    return cached


def visible(user: Any, queryset: QuerySet[Any], *, field: str = "assignee") -> QuerySet[Any]:
    """`queryset` (of tasks, or of rows with a `field` pointing at a user) narrowed for `user`."""
    role = access.role_of(user)
    if role is None:
        return queryset.none()
    if access.is_admin(user):
        return queryset
    return queryset.filter(**{f"{field}_id__in": managed_ids(user)})


def may_handle(user: Any, assignee_id: int) -> bool:
    """May `user` complete or reassign a task of `assignee_id`? Machines (no user) may."""
    if user is None:
        return True
    if access.role_of(user) is None:
        return False
    return access.is_admin(user) or assignee_id in managed_ids(user)


def may_assign(user: Any, assignee_id: int) -> bool:
    """May `user` give a task to `assignee_id`? Machines (no user) may."""
    if user is None:
        return True
    if access.role_of(user) is None:
        return False
    return (
        access.is_admin(user)
        or assignee_id in managed_ids(user)
        or assignee_id in access.teammate_ids(user)
    )


def is_manager(user: Any) -> bool:
    """Whether `user` has a team view at all (administrators see every team)."""
    return access.is_admin(user) or len(managed_ids(user)) > 1
