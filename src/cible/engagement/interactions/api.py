"""REST endpoints of interactions: thin over the selectors and services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, paginate, raise_query_errors, viewer
from cible.core.audit import Channel
from cible.core.errors import FieldError
from cible.core.normalisers import NormalisationError
from cible.core.values import moment
from cible.engagement.interactions import selectors, services
from cible.engagement.interactions.models import InteractionKind
from cible.engagement.interactions.schemas import (
    EventsIn,
    IngestOut,
    InteractionIn,
    InteractionOut,
    InteractionPage,
    InteractionQuery,
    interaction_out,
)

router = Router(tags=["interactions"])


@router.get("/interactions", response={200: InteractionPage, **ERRORS})
def list_interactions(request: HttpRequest, params: Query[InteractionQuery]) -> Any:
    """Visible interactions, newest first, filtered by contact, organisation, campaign, kind
    and period."""
    errors: list[FieldError] = []
    kinds = [k.strip() for k in (params.kind or "").split(",") if k.strip()]
    for kind in kinds:
        if kind not in InteractionKind.values:
            errors.append(
                FieldError(
                    "kind", _("“%(value)s” is not a kind of interaction") % {"value": kind[:40]}
                )
            )
    bounds: dict[str, Any] = {}
    for name in ("since", "until"):
        try:
            bounds[name] = moment(getattr(params, name), field=name)
        except NormalisationError as error:
            errors.append(FieldError(error.field, error.message))
    raise_query_errors(errors)
    qs = selectors.interactions(
        viewer(request),
        contact=params.contact,
        organisation=params.organisation,
        campaign=params.campaign,
        kinds=kinds,
        **bounds,
    )
    return paginate(
        qs,
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=interaction_out,
    )


@router.post("/interactions", response={201: InteractionOut, **WRITE_ERRORS})
def create_interaction(request: HttpRequest, payload: InteractionIn) -> Any:
    """Record one interaction (a call, a meeting, an email sent by another tool …)."""
    interaction = services.interaction_create(
        actor=viewer(request), channel=Channel.API, data=payload.data()
    )
    return Status(201, interaction_out(interaction))


@router.post("/events", response={200: IngestOut, **ERRORS})
def ingest_events(request: HttpRequest, payload: EventsIn) -> Any:
    """Store website and product events, up to 10,000 per call; idempotent by (source,
    event_id). Each event stands alone: the valid ones are stored, the others come back in
    `rejected` with the field and the reason, and events already stored count as duplicates."""
    result = services.ingest_events(events=payload.events, actor=viewer(request))
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "rejected": [
            {"index": r.index, "event_id": r.event_id, "field": r.field, "message": r.message}
            for r in result.rejected
        ],
    }
