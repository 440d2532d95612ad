"""API shapes of opportunities. Amounts are null for viewers the access policy hides them from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import Id, InputSchema, ListParams, Loose
from cible.pipeline.models import Opportunity


class OpportunityIn(InputSchema):
    name: str | None = None
    organisation: Id | None = Field(None, description="Organisation id (required to create).")
    owner: Id | None = Field(None, description="User id.")
    type: str | None = None
    one_time_amount: Loose = None
    recurring_amount: Loose = Field(None, description="Monthly recurring amount.")
    currency: str | None = None
    stage: str | None = None
    probability: Loose = None
    expected_close_date: Loose = Field(None, description="YYYY-MM-DD or DD/MM/YYYY.")
    closed_on: Loose = None
    lost_reason: str | None = None
    lost_reason_detail: str | None = None
    competitors: list[Loose] | None = Field(None, description="Product names or ids.")
    description: str | None = None


class OpportunityPatch(OpportunityIn):
    version: int = Field(..., description="The version you read; a newer one gives 409.")


class OpportunityBulkItem(OpportunityIn):
    id: Id | None = Field(None, description="Update this opportunity.")
    version: int | None = Field(None, description="When given, a newer stored version is refused.")


class OpportunityBulkIn(InputSchema):
    items: list[OpportunityBulkItem] = Field(..., max_length=1000)


class OpportunityOut(Schema):
    id: int
    version: int
    name: str
    organisation: int
    lead: int | None = None  # the lead the deal was converted from
    owner: int | None
    type: str
    one_time_amount: Decimal | None = Field(description="Null when you may not see amounts.")
    recurring_amount: Decimal | None
    annual_value: Decimal | None
    currency: str | None
    stage: str
    probability: int
    expected_close_date: dt.date | None
    closed_on: dt.date | None
    lost_reason: str
    lost_reason_detail: str
    competitors: list[str]
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None
    count: int | None = None


class OpportunityQuery(ListParams):
    """The filters of the opportunities list page, under the same names."""

    name: str | None = Field(None, description="Name contains.")
    organisation: str | None = Field(None, description="Organisation id.")
    organisation_name: str | None = None
    stage: str | None = None
    type: str | None = None
    owner: str | None = Field(None, description="User id, or 'none'.")
    competitor: str | None = Field(None, description="Product id.")
    lost_reason: str | None = None
    expected_close_date_min: str | None = None
    expected_close_date_max: str | None = None
    closed_on_min: str | None = None
    closed_on_max: str | None = None
    created_at_min: str | None = None
    created_at_max: str | None = None
    probability_min: str | None = None
    probability_max: str | None = None
    one_time_amount_min: str | None = Field(None, description="Only if you may see amounts.")
    one_time_amount_max: str | None = None
    recurring_amount_min: str | None = None
    recurring_amount_max: str | None = None


def opportunity_out(opportunity: Opportunity, *, show_amounts: bool) -> dict[str, Any]:
    """Expects `competitors` prefetched (lists do it) to avoid a query per row."""
    o = opportunity
    return {
        "id": o.pk,
        "version": o.version,
        "name": o.name,
        "organisation": o.organisation_id,
        "lead": o.lead_id,
        "owner": o.owner_id,
        "type": o.type,
        "one_time_amount": o.one_time_amount if show_amounts else None,
        "recurring_amount": o.recurring_amount if show_amounts else None,
        "annual_value": o.annual_value if show_amounts else None,
        "currency": o.currency if show_amounts else None,
        "stage": o.stage,
        "probability": o.probability,
        "expected_close_date": o.expected_close_date,
        "closed_on": o.closed_on,
        "lost_reason": o.lost_reason,
        "lost_reason_detail": o.lost_reason_detail,
        "competitors": sorted(p.name for p in o.competitors.all()),
        "description": o.description,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
    }
