"""REST endpoints of leads and stage definitions: thin over the selectors and services."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from cible.core.api_kit import ERRORS, WRITE_ERRORS, Id, paginate, raise_query_errors, viewer
from cible.core.audit import Channel
from cible.core.errors import NotFound
from cible.lifecycle.leads import hooks, selectors, services
from cible.lifecycle.leads.models import DefinitionApproval, StageDefinition
from cible.lifecycle.leads.schemas import (
    AcceptIn,
    ApproveIn,
    ConvertIn,
    ConvertOut,
    DefinitionIn,
    DefinitionOut,
    LeadIn,
    LeadOut,
    LeadPage,
    LeadPatch,
    LeadQuery,
    MoveIn,
    RejectIn,
    StageCountOut,
    TransitionOut,
    definition_out,
    lead_out,
    transition_out,
)

router = Router(tags=["leads"])


@router.get("/leads", response={200: LeadPage, **ERRORS})
def list_leads(request: HttpRequest, params: Query[LeadQuery]) -> Any:
    """Visible leads matching the filters of the list page, one page at a time."""
    qs, query = selectors.lead_list(viewer=viewer(request), params=request.GET)
    raise_query_errors(query.errors)
    return paginate(
        qs.select_related(None),
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=lead_out,
    )


@router.get("/leads/stage-counts", response={200: list[StageCountOut], **ERRORS})
def lead_stage_counts(request: HttpRequest, params: Query[LeadQuery]) -> Any:
    """Visible leads per stage under the other filters (the list page's tabs)."""
    return selectors.stage_counts(viewer=viewer(request), params=request.GET)


@router.post("/leads", response={201: LeadOut, **WRITE_ERRORS})
def create_lead(request: HttpRequest, payload: LeadIn) -> Any:
    """Open a lead; 409 naming the live lead when the contact already has one."""
    lead = services.open_lead(actor=viewer(request), channel=Channel.API, **payload.data())
    return Status(201, lead_out(lead))


@router.get("/leads/{pk}", response={200: LeadOut, **ERRORS})
def get_lead(request: HttpRequest, pk: Path[Id]) -> Any:
    return lead_out(selectors.lead_get(viewer=viewer(request), pk=pk))


@router.patch("/leads/{pk}", response={200: LeadOut, **WRITE_ERRORS})
def update_lead(request: HttpRequest, pk: Path[Id], payload: LeadPatch) -> Any:
    """Change BANT, notes, owner, source or campaign (`version` must be the one you read)."""
    lead = selectors.lead_get(viewer=viewer(request), pk=pk)
    data = payload.data()
    version = data.pop("version")
    lead = services.lead_update(
        lead=lead, actor=viewer(request), channel=Channel.API, data=data, expected_version=version
    )
    return lead_out(lead)


@router.post("/leads/{pk}/move", response={200: LeadOut, **WRITE_ERRORS})
def move_lead(request: HttpRequest, pk: Path[Id], payload: MoveIn) -> Any:
    """Move the lead; a move the graph or the agreed definitions forbid is a 422 naming why."""
    lead = selectors.lead_get(viewer=viewer(request), pk=pk)
    services.move(lead=lead, actor=viewer(request), channel=Channel.API, **payload.data())
    return lead_out(lead)


@router.post("/leads/{pk}/accept", response={200: LeadOut, **WRITE_ERRORS})
def accept_lead(request: HttpRequest, pk: Path[Id], payload: AcceptIn) -> Any:
    lead = selectors.lead_get(viewer=viewer(request), pk=pk)
    services.accept(lead=lead, actor=viewer(request), channel=Channel.API, **payload.data())
    return lead_out(lead)


@router.post("/leads/{pk}/reject", response={200: LeadOut, **WRITE_ERRORS})
def reject_lead(request: HttpRequest, pk: Path[Id], payload: RejectIn) -> Any:
    lead = selectors.lead_get(viewer=viewer(request), pk=pk)
    services.reject(lead=lead, actor=viewer(request), channel=Channel.API, **payload.data())
    return lead_out(lead)


@router.post("/leads/{pk}/convert", response={201: ConvertOut, **WRITE_ERRORS})
def convert_lead(request: HttpRequest, pk: Path[Id], payload: ConvertIn) -> Any:
    """Create the lead's opportunity and move the lead to Opportunity (SQL, or SAL meeting SQL)."""
    lead = selectors.lead_get(viewer=viewer(request), pk=pk)
    opportunity = hooks.convert(
        lead=lead, actor=viewer(request), channel=Channel.API, **payload.data()
    )
    return Status(201, {"opportunity": opportunity.pk, "lead": lead_out(lead)})


@router.get("/leads/{pk}/transitions", response={200: list[TransitionOut], **ERRORS})
def lead_transitions(request: HttpRequest, pk: Path[Id]) -> Any:
    lead = selectors.lead_get(viewer=viewer(request), pk=pk)
    return [transition_out(t) for t in selectors.lead_transitions(lead=lead)]


def _definitions() -> Any:
    approvals = Prefetch(
        "approvals", queryset=DefinitionApproval.objects.select_related("approver")
    )
    return StageDefinition.objects.prefetch_related(approvals).order_by("stage", "-version")


@router.get("/stage-definitions", response={200: list[DefinitionOut], **ERRORS})
def list_definitions(request: HttpRequest) -> Any:
    """Every version of every stage definition, newest first per stage, with its approvals."""
    return [definition_out(d) for d in _definitions()]


@router.post("/stage-definitions", response={201: DefinitionOut, **WRITE_ERRORS})
def create_definition(request: HttpRequest, payload: DefinitionIn) -> Any:
    """Write a new draft version; 422 names any unknown or contradictory criteria key."""
    definition = services.write_definition(
        stage=payload.stage,
        text=payload.text,
        criteria=payload.criteria,
        actor=viewer(request),
        channel=Channel.API,
    )
    return Status(201, definition_out(_definitions().get(pk=definition.pk)))


@router.post("/stage-definitions/{pk}/approve", response={200: DefinitionOut, **WRITE_ERRORS})
def approve_definition(request: HttpRequest, pk: Path[Id], payload: ApproveIn) -> Any:
    definition = _definitions().filter(pk=pk).first()
    if definition is None:
        raise NotFound(_("Not found."))
    services.approve_definition(
        definition=definition, actor=viewer(request), side=payload.side, channel=Channel.API
    )
    return definition_out(_definitions().get(pk=pk))
