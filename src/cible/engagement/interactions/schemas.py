"""API shapes of interactions and of event ingestion.

Events are taken as loose JSON objects and checked one by one by the service, so that one
malformed event is listed in `rejected` instead of refusing the other 9,999.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Schema
from pydantic import ConfigDict, Field, WithJsonSchema

from cible.core.api_kit import Id, InputSchema, ListParams, Loose
from cible.engagement.interactions.events import MAX_EVENTS
from cible.engagement.interactions.models import Interaction, InteractionKind

_KIND_DESCRIPTION = "One of: " + ", ".join(InteractionKind.values) + "."


class InteractionIn(InputSchema):
    kind: str = Field(..., description=_KIND_DESCRIPTION)
    contact: Id | None = Field(None, description="Contact id.")
    organisation: Id | None = Field(
        None, description="Organisation id (default: the contact's organisation)."
    )
    campaign: Id | None = Field(None, description="Campaign id.")
    occurred_at: Loose = Field(None, description="ISO 8601 time with its offset (default: now).")
    owner: Id | None = Field(None, description="User id (calls and meetings: you by default).")
    outcome: str | None = None
    subject: str | None = None
    notes: str | None = None
    duration_seconds: Loose = None
    source: str | None = Field(None, description="The sending system, with event_id.")
    event_id: str | None = Field(None, description="Stored once per source.")
    visitor_key: str | None = Field(None, description="An email or an anonymous visitor id.")
    properties: dict[str, Any] | None = None


class InteractionOut(Schema):
    id: int
    kind: str
    occurred_at: dt.datetime
    contact: int | None
    organisation: int | None
    campaign: int | None
    owner: int | None
    outcome: str
    subject: str
    notes: str
    duration_seconds: int | None
    channel: str
    source: str
    event_id: str
    visitor_key: str
    properties: dict[str, Any]
    created_at: dt.datetime


class InteractionPage(Schema):
    items: list[InteractionOut]
    next_cursor: str | None
    count: int | None = None


class InteractionQuery(ListParams):
    contact: Id | None = None
    organisation: Id | None = None
    campaign: Id | None = None
    kind: str | None = Field(None, description="One kind, or several separated by commas.")
    since: str | None = Field(None, description="ISO 8601: from this time (included).")
    until: str | None = Field(None, description="ISO 8601: before this time (excluded).")


_EVENT_SCHEMA = {
    "type": "object",
    "required": ["event_id", "kind"],
    "properties": {
        "event_id": {"type": "string", "maxLength": 100},
        "source": {"type": "string", "maxLength": 50},
        "kind": {"type": "string", "enum": list(InteractionKind.values)},
        "occurred_at": {"type": "string", "format": "date-time"},
        "email": {"type": "string"},
        "contact_id": {"type": "integer"},
        "visitor_id": {"type": "string", "maxLength": 254},
        "organisation_id": {"type": "integer"},
        "domain": {"type": "string"},
        "campaign": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        "properties": {"type": "object"},
    },
}


class EventsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    events: Annotated[
        list[Any],
        WithJsonSchema({"type": "array", "items": _EVENT_SCHEMA}),
    ] = Field(
        ...,
        description=(
            f"Up to {MAX_EVENTS:,} events. Each needs event_id and kind, and one of email, "
            "contact_id or visitor_id; occurred_at is ISO 8601 with its offset (default: now)."
        ),
    )


class RejectedOut(Schema):
    index: int
    event_id: str
    field: str
    message: str


class IngestOut(Schema):
    accepted: int = Field(description="Events stored by this call.")
    duplicates: int = Field(description="Events already stored (same source and event_id).")
    rejected: list[RejectedOut] = Field(description="Events refused, with the reason.")


def interaction_out(i: Interaction) -> dict[str, Any]:
    return {
        "id": i.pk,
        "kind": i.kind,
        "occurred_at": i.occurred_at,
        "contact": i.contact_id,
        "organisation": i.organisation_id,
        "campaign": i.campaign_id,
        "owner": i.owner_id,
        "outcome": i.outcome,
        "subject": i.subject,
        "notes": i.notes,
        "duration_seconds": i.duration_seconds,
        "channel": i.channel,
        "source": i.source,
        "event_id": i.event_id,
        "visitor_key": i.visitor_key,
        "properties": i.properties,
        "created_at": i.created_at,
    }
