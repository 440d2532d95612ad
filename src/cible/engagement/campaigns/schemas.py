"""API shapes of campaigns and their members."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field, model_validator

from cible.core.api_kit import Id, InputSchema, ListParams, Loose
from cible.engagement.campaigns.models import Campaign, CampaignMember
from cible.engagement.campaigns.selectors import CampaignFigures
from cible.engagement.campaigns.services import MembersAdded


class CampaignIn(InputSchema):
    name: str | None = None
    type: str | None = Field(
        None, description="email, event, webinar, content, ads, social, referral"
    )
    goal: str | None = Field(None, description="demand_generation, brand or awareness")
    status: str | None = Field(None, description="planned, active, completed or cancelled")
    description: str | None = None
    starts_on: Loose = Field(None, description="YYYY-MM-DD or DD/MM/YYYY.")
    ends_on: Loose = Field(None, description="Not before starts_on.")
    budget: Loose = Field(None, description="An amount ≥ 0.")
    actual_cost: Loose = Field(None, description="An amount ≥ 0.")
    currency: str | None = Field(None, description="ISO 4217 code; EUR by default.")
    target: Id | None = Field(None, description="Id of a target you see.")
    owner: Id | None = Field(None, description="User id; you by default.")
    utm_source: str | None = Field(None, description="Letters, digits, - _ . only.")
    utm_medium: str | None = None
    utm_campaign: str | None = None
    utm_content: str | None = None
    utm_term: str | None = None


class CampaignPatch(CampaignIn):
    version: int = Field(..., description="The version you read; a newer one gives 409.")


class CampaignOut(Schema):
    id: int
    version: int
    name: str
    type: str
    goal: str
    status: str
    description: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    budget: Decimal
    actual_cost: Decimal
    currency: str
    target: int | None
    owner: int | None
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    utm_term: str
    members: int = Field(description="Members whose contact you may see.")
    responses: int = Field(description="Members who reached at least “clicked”.")
    leads: int | None = Field(description="Null when no app reports leads.")
    cost_per_lead: Decimal | None
    created_at: dt.datetime
    updated_at: dt.datetime


class FunnelStepOut(Schema):
    status: str
    count: int = Field(description="Members who reached at least this status.")


class KindCountOut(Schema):
    kind: str
    count: int


class FiguresOut(Schema):
    members: int
    funnel: list[FunnelStepOut]
    responses: int
    response_rate: float | None
    budget_used: float | None = Field(description="Actual cost / budget.")
    leads: int | None
    cost_per_lead: Decimal | None
    cost_per_response: Decimal | None
    interactions: list[KindCountOut]


class CampaignDetailOut(CampaignOut):
    figures: FiguresOut


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_cursor: str | None
    count: int | None = None


class CampaignQuery(ListParams):
    """The filters of the campaigns list page, under the same names."""

    name: str | None = Field(None, description="Name contains.")
    type: str | None = None
    goal: str | None = None
    status: str | None = None
    period_min: str | None = Field(None, description="Running on or after this date.")
    period_max: str | None = Field(None, description="Running on or before this date.")
    owner: str | None = Field(None, description="User id, or 'none'.")
    target: str | None = Field(None, description="Target id.")


class MemberOut(Schema):
    contact: int
    first_name: str
    last_name: str
    email: str
    organisation: int | None
    status: str
    added_at: dt.datetime
    status_changed_at: dt.datetime
    responded_at: dt.datetime | None


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None
    count: int | None = None


class MemberQuery(Schema):
    status: str | None = None
    search: str | None = Field(None, max_length=200, description="Start of a name or email.")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=500)
    count: bool = False


class MembersIn(InputSchema):
    """Either `contacts` (ids, up to 10,000) or `target` (a target id), not both."""

    contacts: list[Id] | None = Field(None, max_length=10_000)
    target: Id | None = None

    @model_validator(mode="after")
    def _one_source(self) -> MembersIn:
        if (self.contacts is None) == (self.target is None):
            raise ValueError("give either contacts or target")
        return self


class MembersAddedOut(Schema):
    added: int
    already_members: int
    opted_out: int
    no_email: int
    considered: int


def campaign_out(campaign: Campaign) -> dict[str, Any]:
    """Expects the list annotations and `attach_results` (the selectors give both)."""
    c = campaign
    return {
        "id": c.pk,
        "version": c.version,
        "name": c.name,
        "type": c.type,
        "goal": c.goal,
        "status": c.status,
        "description": c.description,
        "starts_on": c.starts_on,
        "ends_on": c.ends_on,
        "budget": c.budget,
        "actual_cost": c.actual_cost,
        "currency": c.currency,
        "target": c.target_id,
        "owner": c.owner_id,
        "utm_source": c.utm_source,
        "utm_medium": c.utm_medium,
        "utm_campaign": c.utm_campaign,
        "utm_content": c.utm_content,
        "utm_term": c.utm_term,
        "members": getattr(c, "member_count", 0),
        "responses": getattr(c, "response_count", 0),
        "leads": getattr(c, "lead_count", None),
        "cost_per_lead": _money(getattr(c, "cost_per_lead", None)),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def _rate(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 4)


def figures_out(figures: CampaignFigures) -> dict[str, Any]:
    return {
        "members": figures.members,
        "funnel": [{"status": s.status, "count": s.count} for s in figures.funnel],
        "responses": figures.responses,
        "response_rate": _rate(figures.response_rate),
        "budget_used": _rate(figures.budget_used),
        "leads": figures.leads,
        "cost_per_lead": _money(figures.cost_per_lead),
        "cost_per_response": _money(figures.cost_per_response),
        "interactions": [{"kind": k.kind, "count": k.count} for k in figures.interactions],
    }


def member_out(member: CampaignMember) -> dict[str, Any]:
    contact = member.contact
    return {
        "contact": member.contact_id,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "email": contact.email,
        "organisation": contact.organisation_id,
        "status": member.status,
        "added_at": member.added_at,
        "status_changed_at": member.status_changed_at,
        "responded_at": member.responded_at,
    }


def added_out(result: MembersAdded) -> dict[str, Any]:
    return {
        "added": result.added,
        "already_members": result.already_members,
        "opted_out": result.opted_out,
        "no_email": result.no_email,
        "considered": result.named,
    }
