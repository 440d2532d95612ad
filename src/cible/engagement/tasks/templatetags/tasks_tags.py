"""The navbar bell's data (`{% tasks_bell as bell %}`): two queries, none for visitors."""

from __future__ import annotations

from typing import Any

from django import template

from cible.engagement.tasks import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def tasks_bell(context: template.Context) -> selectors.Bell | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return selectors.bell(user=user)


@register.filter
def overdue(task: Any, now: Any) -> bool:
    """Whether an open task's due time is before `now` (the page's one "now")."""
    return bool(task.is_overdue(now))
