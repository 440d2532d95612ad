"""API shapes of leads, transitions and stage definitions (shape only: the services validate)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from cible.core.api_kit import Id, InputSchema, ListParams, Loose
from cible.lifecycle.leads.models import Lead, StageDefinition, StageTransition


class LeadIn(InputSchema):
    contact: Id | None = Field(None, description="Contact id (a contact or an organisation).")
    organisation: Id | None = Field(None, description="Defaults to the contact's organisation.")
    source: str = Field(..., description="website, event, webinar, referral, …")
    source_detail: str = ""
    campaign: Id | None = None
    owner: Id | None = Field(None, description="User id.")
    stage: str = Field("suspect", description="suspect, prospect or mql.")


class LeadPatch(InputSchema):
    version: int = Field(..., description="The version you read; a newer one gives 409.")
    budget: str | None = None
    authority: str | None = None
    need: str | None = None
    timing: str | None = None
    qualification_notes: str | None = None
    owner: Id | None = None
    source: str | None = None
    source_detail: str | None = None
    campaign: Id | None = None


class MoveIn(InputSchema):
    to_stage: str
    reason: str = Field("", description="A recycle or disqualification reason code.")
    note: str = ""
    requalify_on: Loose = Field(None, description="YYYY-MM-DD; required to recycle.")
    version: int | None = Field(None, description="When given, a newer stored version is a 409.")


class AcceptIn(InputSchema):
    version: int | None = None


class RejectIn(InputSchema):
    reason: str = Field(..., description="Why Sales rejects the lead, in words.")
    note: str = ""
    requalify_on: Loose = Field(None, description="Defaults to three months from today.")
    version: int | None = None


class ConvertIn(InputSchema):
    name: str = ""
    one_time_amount: Loose = None
    recurring_amount: Loose = None
    expected_close_date: Loose = None
    owner: Id | None = None
    version: int | None = None


class LeadOut(Schema):
    id: int
    version: int
    contact: int | None
    organisation: int | None
    external_id: str
    stage: str
    stage_entered_at: dt.datetime
    arrived_at: dt.datetime
    source: str
    source_detail: str
    campaign: int | None
    owner: int | None
    budget: str
    authority: str
    need: str
    timing: str
    qualification_notes: str
    recycle_reason: str
    requalify_on: dt.date | None
    disqualify_reason: str
    profile_score: int | None
    engagement_score: int | None
    grade: str


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None
    count: int | None = None


class LeadQuery(ListParams):
    """The filters of the leads list page, under the same names."""

    q: str | None = Field(None, description="Contact or organisation name starts with.")
    stage: str | None = None
    owner: str | None = Field(None, description="User id, or 'none'.")
    source: str | None = None
    campaign: str | None = Field(None, description="Campaign id.")
    grade: str | None = None
    arrived_min: str | None = None
    arrived_max: str | None = None
    contact: str | None = Field(None, description="Contact id.")
    organisation: str | None = Field(None, description="Organisation id.")


class StageCountOut(Schema):
    stage: str
    count: int


class TransitionOut(Schema):
    id: int
    from_stage: str
    to_stage: str
    occurred_at: dt.datetime
    actor: int | None
    actor_name: str
    channel: str
    reason: str
    note: str
    definition: int | None
    definition_version: int | None
    profile_score: int | None
    engagement_score: int | None
    grade: str


class DefinitionIn(InputSchema):
    stage: str
    text: str
    criteria: dict[str, Any] = Field(
        default_factory=dict,
        description='{"min_profile_score": 60, "min_engagement_score": 40, "grades": ["A1"], '
        '"bant": {"budget": ["approved"], …}}',
    )


class ApproveIn(InputSchema):
    side: str = Field(..., description="marketing or sales")


class ApprovalOut(Schema):
    approver: int
    approver_name: str
    side: str
    approved_at: dt.datetime


class DefinitionOut(Schema):
    id: int
    stage: str
    version: int
    text: str
    criteria: dict[str, Any]
    status: str
    written_by: int | None
    created_at: dt.datetime
    agreed_at: dt.datetime | None
    approvals: list[ApprovalOut]


class ConvertOut(Schema):
    opportunity: int
    lead: LeadOut


def lead_out(lead: Lead) -> dict[str, Any]:
    fields = [name for name in LeadOut.model_fields if name not in ("contact", "organisation")]
    data = {name: getattr(lead, name) for name in fields if name not in ("campaign", "owner")}
    data.update(
        contact=lead.contact_id,
        organisation=lead.organisation_id,
        campaign=lead.campaign_id,
        owner=lead.owner_id,
    )
    return data


def transition_out(t: StageTransition) -> dict[str, Any]:
    """Expects `actor` and `definition` selected with the transition."""
    return {
        "id": t.pk,
        "from_stage": t.from_stage,
        "to_stage": t.to_stage,
        "occurred_at": t.occurred_at,
        "actor": t.actor_id,
        "actor_name": t.actor.get_full_name() if t.actor else "",
        "channel": t.channel,
        "reason": t.reason,
        "note": t.note,
        "definition": t.definition_id,
        "definition_version": t.definition.version if t.definition else None,
        "profile_score": t.profile_score,
        "engagement_score": t.engagement_score,
        "grade": t.grade,
    }


def definition_out(d: StageDefinition) -> dict[str, Any]:
    """Expects `approvals__approver` prefetched."""
    return {
        "id": d.pk,
        "stage": d.stage,
        "version": d.version,
        "text": d.text,
        "criteria": d.criteria,
        "status": d.status,
        "written_by": d.written_by_id,
        "created_at": d.created_at,
        "agreed_at": d.agreed_at,
        "approvals": [
            {
                "approver": a.approver_id,
                "approver_name": a.approver.get_full_name(),
                "side": a.side,
                "approved_at": a.approved_at,
            }
            for a in d.approvals.all()
        ],
    }
