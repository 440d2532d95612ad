"""A branch's question, answered for a whole group of enrolments in one query (set-based).

- opened / clicked: an email this program sent them (at the named send step, or any) was
  opened / clicked — read from the outbox by the messages' idempotency keys;
- replied / visited: an `email_replied` / `web_visit` interaction since enrolment;
- score: their lead's profile or engagement score is at least the threshold;
- segment: their organisation is in the segment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from django.db.models import Exists, OuterRef, Q

from cible.core.idsets import InIds
from cible.engagement.interactions.models import InteractionKind
from cible.lifecycle.leads.models import FINAL, Lead
from cible.nurture.mailing.models import OutboundMessage
from cible.nurture.programs.exits import interacted
from cible.nurture.programs.models import Enrolment
from cible.segments.axes.models import Membership


class Walker(Protocol):
    id: int
    contact_id: int
    lead_id: int | None


def holds(
    config: Mapping[str, Any],
    group: Sequence[Walker],
    *,
    send_steps: Sequence[int],
    key: Callable[[int, int], str],
) -> set[int]:
    """The ids of the enrolments of `group` for which the branch's condition holds."""
    condition = config.get("condition")
    ids = [s.id for s in group]
    if condition in ("opened", "clicked"):
        chosen = config.get("email_step")
        steps = [int(chosen)] if chosen else list(send_steps)
        keys = {key(s.id, step): s.id for s in group for step in steps}
        column = "opened_at" if condition == "opened" else "clicked_at"
        hits = OutboundMessage.objects.filter(
            key__in=list(keys), **{f"{column}__isnull": False}
        ).values_list("key", flat=True)
        return {keys[k] for k in hits}
    base = Enrolment.objects.filter(InIds("pk", ids))
    if condition == "replied":
        matched = base.filter(interacted(InteractionKind.EMAIL_REPLIED))
    elif condition == "visited":
        matched = base.filter(interacted(InteractionKind.WEB_VISIT))
    elif condition == "score":
        column = "profile_score" if config.get("score") == "profile" else "engagement_score"
        lead = Lead.objects.filter(
            Q(pk=OuterRef("lead_id"))
            | (Q(contact_id=OuterRef("contact_id")) & ~Q(stage__in=FINAL)),
            **{f"{column}__gte": int(config.get("threshold") or 0)},
        )
        matched = base.filter(Exists(lead))
    elif condition == "segment":
        member = Membership.objects.filter(
            segment_id=int(config.get("segment") or 0),
            organisation_id=OuterRef("contact__organisation_id"),
        )
        matched = base.filter(Exists(member))
    else:
        return set()
    return set(matched.values_list("pk", flat=True))
