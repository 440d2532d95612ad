"""A rule as a person writes it (form, API, simulator), checked into a `RuleDraft`.

The services save drafts; the simulator compiles them without saving. Every problem is named by
its field (`team`, `conditions.0.value`), all of them at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from cible.core.errors import FieldError, ValidationFailed
from cible.lifecycle.leads.models import RecycleReason
from cible.people.models import Team
from cible.routing.assignment import conditions
from cible.routing.assignment.models import Action, Method
from cible.segments.axes.models import Segment
from cible.segments.targets.models import Target

NAME_MAX = 120


@dataclass
class RuleDraft:
    """The checked fields of a rule; `conditions` is parsed (a Group)."""

    name: str
    active: bool
    action: str
    method: str
    team_id: int | None
    user_id: int | None
    program_id: int | None
    recycle_reason: str
    conditions: conditions.Group
    pk: int | None = None

    def fields(self) -> dict[str, Any]:
        """Model field values to save."""
        return {
            "name": self.name,
            "active": self.active,
            "action": self.action,
            "method": self.method,
            "team_id": self.team_id,
            "user_id": self.user_id,
            "program_id": self.program_id,
            "recycle_reason": self.recycle_reason,
            "conditions": self.conditions.to_json() if self.conditions.conditions else {},
        }


def _id(raw: Any) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if raw > 0 else -1
    text = str(raw).strip()
    return int(text) if text.isdigit() and int(text) > 0 else -1


def _flag(raw: Any, default: bool) -> bool:
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    return str(raw).strip().lower() in ("1", "true", "on", "yes", "oui")


def clean(data: Mapping[str, Any], *, pk: int | None = None, prefix: str = "") -> RuleDraft:
    """Check a rule's fields; ValidationFailed lists every problem by field (under `prefix`)."""
    errors: list[FieldError] = []
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        errors.append(FieldError("name", _("give the rule a name")))
    elif len(name) > NAME_MAX:
        errors.append(FieldError("name", _("at most %(max)s characters") % {"max": NAME_MAX}))
    action = str(data.get("action") or Action.ASSIGN_TEAM)
    if action not in Action.values:
        errors.append(FieldError("action", _("“%(v)s” is not an action") % {"v": action[:40]}))
    method = str(data.get("method") or Method.ROUND_ROBIN)
    if method not in Method.values:
        errors.append(FieldError("method", _("“%(v)s” is not a method") % {"v": method[:40]}))
    team_id, user_id = _id(data.get("team")), _id(data.get("user"))
    program_id = _id(data.get("program"))
    reason = str(data.get("recycle_reason") or "")
    if action == Action.ASSIGN_TEAM:
        if team_id is None:
            errors.append(FieldError("team", _("choose the team that takes these leads")))
        elif not Team.objects.filter(pk=team_id).exists():
            errors.append(FieldError("team", _("no team has this id")))
    if action == Action.ASSIGN_USER:
        if user_id is None:
            errors.append(FieldError("user", _("choose the person who takes these leads")))
        elif not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
            errors.append(FieldError("user", _("no active user has this id")))
    if action == Action.NURTURE:
        from cible.nurture.programs.models import NurtureProgram

        if program_id is None:
            errors.append(FieldError("program", _("choose the nurture program")))
        elif not NurtureProgram.objects.filter(pk=program_id).exists():
            errors.append(FieldError("program", _("no nurture program has this id")))
    if action == Action.RECYCLE and reason not in RecycleReason.values:
        errors.append(FieldError("recycle_reason", _("say why these leads go back to Marketing")))
    group = conditions.EVERY_LEAD
    try:
        group = conditions.parse(data.get("conditions"))
    except conditions.ConditionsInvalid as error:
        errors.extend(error.errors)
    else:
        errors.extend(_unknown_references(group))
    if errors:
        if prefix:
            errors = [FieldError(f"{prefix}.{e.field}", e.message) for e in errors]
        raise ValidationFailed(errors=errors)
    return RuleDraft(
        name=name,
        active=_flag(data.get("active"), True),
        action=action,
        method=method,
        team_id=team_id if action == Action.ASSIGN_TEAM else None,
        user_id=user_id if action == Action.ASSIGN_USER else None,
        program_id=program_id if action == Action.NURTURE else None,
        recycle_reason=reason if action == Action.RECYCLE else "",
        conditions=group,
        pk=pk,
    )


def _paths(group: conditions.Group, path: str) -> list[tuple[str, conditions.Condition]]:
    found: list[tuple[str, conditions.Condition]] = []
    for index, node in enumerate(group.conditions):
        where = f"{path}.conditions.{index}"
        if isinstance(node, conditions.Group):
            found.extend(_paths(node, where))
        else:
            found.append((where, node))
    return found


def _unknown_references(group: conditions.Group) -> list[FieldError]:
    """Targets and segments a condition names that do not exist, by the condition's path."""
    known = {
        "target": set(
            Target.objects.filter(pk__in=group.ids_of("target")).values_list("pk", flat=True)
        ),
        "segment": set(
            Segment.objects.filter(pk__in=group.ids_of("segment")).values_list("pk", flat=True)
        ),
    }
    messages = {
        "target": _("no target has the id %(ids)s"),
        "segment": _("no segment has the id %(ids)s"),
    }
    errors: list[FieldError] = []
    for path, condition in _paths(group, "conditions"):
        if condition.field in known:
            missing = [v for v in condition.value if v not in known[condition.field]]
            if missing:
                errors.append(
                    FieldError(
                        f"{path}.value",
                        messages[condition.field] % {"ids": ", ".join(map(str, missing))},
                    )
                )
    return errors
