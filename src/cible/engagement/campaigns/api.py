"""REST endpoints of campaigns: thin over the selectors and services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, paginate, raise_query_errors, viewer
from cible.core.audit import Channel
from cible.core.errors import FieldError, NotFound, ValidationFailed
from cible.engagement.campaigns import selectors, services
from cible.engagement.campaigns.models import Campaign, MemberStatus
from cible.engagement.campaigns.schemas import (
    CampaignDetailOut,
    CampaignIn,
    CampaignPage,
    CampaignPatch,
    CampaignQuery,
    MemberPage,
    MemberQuery,
    MembersAddedOut,
    MembersIn,
    added_out,
    campaign_out,
    figures_out,
    member_out,
)
from cible.segments.targets.selectors import target_get

router = Router(tags=["campaigns"])


def _detail(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    figures = selectors.campaign_figures(viewer=viewer(request), campaign=campaign)
    out = campaign_out(campaign)
    out.update(
        members=figures.members,
        responses=figures.responses,
        leads=figures.leads,
        cost_per_lead=figures_out(figures)["cost_per_lead"],
    )
    return {**out, "figures": figures_out(figures)}


@router.get("/campaigns", response={200: CampaignPage, **ERRORS})
def list_campaigns(request: HttpRequest, params: Query[CampaignQuery]) -> Any:
    """Visible campaigns matching the filters of the list page, with their figures."""
    qs, query = selectors.campaign_list(viewer=viewer(request), params=request.GET)
    raise_query_errors(query.errors)
    return paginate(
        qs,
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=campaign_out,
    )


@router.post("/campaigns", response={201: CampaignDetailOut, **WRITE_ERRORS})
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Any:
    campaign = services.campaign_create(
        actor=viewer(request), channel=Channel.API, data=payload.data()
    )
    # The answer is built from the new row itself: its owner may be someone whose campaigns the
    # creator does not see (a team-private policy), and it was created all the same.
    return Status(201, _detail(request, campaign))


@router.get("/campaigns/{pk}", response={200: CampaignDetailOut, **ERRORS})
def get_campaign(request: HttpRequest, pk: Path[Id]) -> Any:
    """The campaign with its figures: the member funnel, response rate, leads, costs."""
    return _detail(request, selectors.campaign_get(viewer=viewer(request), pk=pk))


@router.patch("/campaigns/{pk}", response={200: CampaignDetailOut, **WRITE_ERRORS})
def update_campaign(request: HttpRequest, pk: Path[Id], payload: CampaignPatch) -> Any:
    """Change the fields sent; `version` must be the one you read (409 if it moved since)."""
    campaign = selectors.campaign_get(viewer=viewer(request), pk=pk)
    data = payload.data()
    version = data.pop("version")
    services.campaign_update(
        campaign=campaign,
        actor=viewer(request),
        channel=Channel.API,
        data=data,
        expected_version=version,
    )
    return _detail(request, campaign)


@router.delete("/campaigns/{pk}", response={204: None, **WRITE_ERRORS})
def delete_campaign(request: HttpRequest, pk: Path[Id]) -> Any:
    """Refused with 409 when interactions, leads or forms refer to the campaign."""
    campaign = selectors.campaign_get(viewer=viewer(request), pk=pk)
    services.campaign_delete(campaign=campaign, actor=viewer(request), channel=Channel.API)
    return Status(204, None)


@router.get("/campaigns/{pk}/members", response={200: MemberPage, **ERRORS})
def list_members(request: HttpRequest, pk: Path[Id], params: Query[MemberQuery]) -> Any:
    """Members whose contact you may see, by name; filter by status, search by name or email."""
    campaign = selectors.campaign_get(viewer=viewer(request), pk=pk)
    status = params.status or ""
    if status and status not in MemberStatus.values:
        raise ValidationFailed(
            _("Invalid query parameters."),
            errors=[
                FieldError(
                    "status",
                    _("“%(value)s” is not one of: %(choices)s")
                    % {"value": status[:40], "choices": ", ".join(MemberStatus.values)},
                )
            ],
        )
    qs = selectors.member_list(
        viewer=viewer(request), campaign=campaign, status=status, search=params.search or ""
    )
    return paginate(
        qs, cursor=params.cursor, limit=params.limit, with_count=params.count, serialize=member_out
    )


@router.post("/campaigns/{pk}/members", response={200: MembersAddedOut, **WRITE_ERRORS})
def add_members(request: HttpRequest, pk: Path[Id], payload: MembersIn) -> Any:
    """Add contacts by id, or every contact of a target (an organisation target: their
    people). Members already there are skipped, and, for an email campaign, contacts who opted
    out of emails or have no address; the answer counts each."""
    user = viewer(request)
    campaign = selectors.campaign_get(viewer=user, pk=pk)
    if payload.target is not None:
        try:
            target = target_get(viewer=user, pk=payload.target)
        except NotFound:
            raise ValidationFailed(
                errors=[
                    FieldError(
                        "target",
                        _("no target #%(id)s shared with you") % {"id": payload.target},
                    )
                ]
            ) from None
        result = services.add_members_from_target(
            campaign=campaign, target=target, actor=user, channel=Channel.API
        )
    else:
        result = services.add_members(
            campaign=campaign, contact_ids=payload.contacts or [], actor=user, channel=Channel.API
        )
    return added_out(result)


@router.delete("/campaigns/{pk}/members/{contact_id}", response={204: None, **WRITE_ERRORS})
def remove_member(request: HttpRequest, pk: Path[Id], contact_id: Path[Id]) -> Any:
    campaign = selectors.campaign_get(viewer=viewer(request), pk=pk)
    services.remove_member(
        campaign=campaign, contact=contact_id, actor=viewer(request), channel=Channel.API
    )
    return Status(204, None)
