"""The one place that decides who sees and changes what (seed 004: "who may see and change what").

Every list, count, detail page, search, export, API answer and job goes through `visible()` for
rows and `can()` for actions, so a rule changed here changes everywhere at once.

The policy (an `AccessPolicy` row an administrator edits):
- administrators see and change everything;
- organisations and contacts ("account" records) are shared, or private to the owner's team;
  Marketing works the whole base and always sees them;
- opportunities ("pipeline" records) are shared, or private to the owner's team; Marketing sees
  them for funnel analysis, but never their amounts unless the policy or their profile grants it;
- a sales manager sees what the teams they manage see; unowned records are everybody's.
"""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import Model, Q, QuerySet

from cible.core.models import AccessPolicy, Visibility
from cible.core.roles import Role

Action = Literal["view", "change", "delete", "view_amounts", "export", "administer"]

_POLICY_CACHE = "_cible_access_policy"
_TEAMMATES_CACHE = "_cible_teammates"


def role_of(user: Any) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return Role.ADMIN
    profile = getattr(user, "profile", None)
    return profile.role if profile is not None else None


def is_admin(user: Any) -> bool:
    return role_of(user) == Role.ADMIN


def policy_for(user: Any) -> AccessPolicy:
    """The policy, read once per user object (i.e. once per request or job)."""
    cached = getattr(user, _POLICY_CACHE, None)
    if cached is None:
        cached = AccessPolicy.current()
        setattr(user, _POLICY_CACHE, cached)
    return cached


def teammate_ids(user: Any) -> frozenset[int]:
    """The user, members of the user's teams and members of the teams the user manages."""
    cached = getattr(user, _TEAMMATES_CACHE, None)
    if cached is None:
        from django.contrib.auth import get_user_model

        User = get_user_model()
        team_filter = Q(profile__teams__members__user=user) | Q(profile__teams__manager=user)
        ids = set(User.objects.filter(team_filter).values_list("id", flat=True))
        ids.add(user.pk)
        cached = frozenset(ids)
        setattr(user, _TEAMMATES_CACHE, cached)
    return cached


def _team_private(user: Any, kind: str) -> bool:
    policy = policy_for(user)
    setting = policy.pipeline_visibility if kind == "pipeline" else policy.account_visibility
    return setting == Visibility.TEAM


def _sees_all(user: Any, kind: str) -> bool:
    role = role_of(user)
    if role is None:
        return False
    if role == Role.ADMIN or role == Role.MARKETING:
        return True
    return not _team_private(user, kind)


def visible(user: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """`queryset` narrowed to the rows `user` may see."""
    model = queryset.model
    if role_of(user) is None:
        return queryset.none()
    kind = getattr(model, "access_kind", "account")
    if _sees_all(user, kind):
        return queryset
    owner = getattr(model, "access_owner_field", "owner")
    return queryset.filter(
        Q(**{f"{owner}__isnull": True}) | Q(**{f"{owner}_id__in": teammate_ids(user)})
    )


def _owner_id(obj: Model) -> int | None:
    return getattr(obj, f"{getattr(obj, 'access_owner_field', 'owner')}_id", None)


def _is_visible(user: Any, obj: Model) -> bool:
    if role_of(user) is None:
        return False
    if _sees_all(user, getattr(obj, "access_kind", "account")):
        return True
    owner_id = _owner_id(obj)
    return owner_id is None or owner_id in teammate_ids(user)


def can(user: Any, action: Action, obj: Model | None = None) -> bool:
    """May `user` perform `action` on `obj` (or on records in general when obj is None)?"""
    role = role_of(user)
    if role is None:
        return False
    if role == Role.ADMIN:
        return True
    if action == "administer":
        return False
    if action == "export":
        return True
    if action == "view_amounts":
        if role != Role.MARKETING:
            return obj is None or _is_visible(user, obj)
        policy = policy_for(user)
        granted = policy.marketing_sees_amounts or getattr(user.profile, "sees_deal_amounts", False)
        return granted and (obj is None or _is_visible(user, obj))
    if obj is None:
        return action in ("view", "change")  # reading lists and creating records
    if not _is_visible(user, obj):
        return False
    if action == "view":
        return True
    kind = getattr(obj, "access_kind", "account")
    if role == Role.MARKETING and kind == "pipeline":
        return False  # Marketing reads the pipeline; Sales owns it.
    owner_id = _owner_id(obj)
    if action == "change":
        if kind == "account" and not _team_private(user, kind):
            return True  # a shared base is maintained by everyone who works it
        return owner_id is None or owner_id in teammate_ids(user)
    if action == "delete":
        return owner_id == user.pk or (
            role == Role.SALES_MANAGER and owner_id in teammate_ids(user)
        )
    return False


def amounts_visible(user: Any) -> bool:
    """Whether deal amounts may be shown to `user` at all (lists, exports, API)."""
    return can(user, "view_amounts")
