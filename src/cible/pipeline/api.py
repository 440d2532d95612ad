"""REST endpoints of opportunities: thin over the selectors and services."""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from cible.core import access
from cible.core.api_kit import (
    BULK_ERRORS,
    ERRORS,
    WRITE_ERRORS,
    BulkOut,
    BulkSpec,
    Id,
    paginate,
    raise_query_errors,
    run_bulk,
    viewer,
)
from cible.core.audit import Channel
from cible.core.errors import FieldError, PermissionDenied
from cible.people.selectors import get_visible
from cible.pipeline import selectors, services
from cible.pipeline.models import Opportunity
from cible.pipeline.schemas import (
    OpportunityBulkIn,
    OpportunityIn,
    OpportunityOut,
    OpportunityPage,
    OpportunityPatch,
    OpportunityQuery,
    opportunity_out,
)

router = Router(tags=["opportunities"])


def _refuse_hidden_amount_filters(request: HttpRequest) -> None:
    """Filtering by an amount you may not see would reveal it: refuse rather than ignore."""
    if access.amounts_visible(viewer(request)):
        return
    names = [f.param for f in selectors.AMOUNT_FILTERS]
    sent = [p for name in names for p in (f"{name}_min", f"{name}_max") if request.GET.get(p)]
    if sent:
        raise PermissionDenied(
            _("You may not filter by deal amounts."),
            errors=[FieldError(p, _("you may not see deal amounts")) for p in sent],
        )


@router.get("/opportunities", response={200: OpportunityPage, **ERRORS})
def list_opportunities(request: HttpRequest, params: Query[OpportunityQuery]) -> Any:
    """Visible opportunities matching the filters of the list page, one page at a time."""
    _refuse_hidden_amount_filters(request)
    qs, query = selectors.opportunity_list(viewer=viewer(request), params=request.GET)
    raise_query_errors(query.errors)
    show = access.amounts_visible(viewer(request))
    qs = qs.select_related(None).prefetch_related("competitors")
    return paginate(
        qs,
        cursor=params.cursor,
        limit=params.limit,
        with_count=params.count,
        serialize=lambda o: opportunity_out(o, show_amounts=show),
    )


@router.post("/opportunities", response={201: OpportunityOut, **WRITE_ERRORS})
def create_opportunity(request: HttpRequest, payload: OpportunityIn) -> Any:
    opportunity = services.opportunity_create(
        actor=viewer(request), channel=Channel.API, data=payload.data()
    )
    show = access.amounts_visible(viewer(request))
    return Status(201, opportunity_out(opportunity, show_amounts=show))


@router.post("/opportunities/bulk", response={200: BulkOut, **BULK_ERRORS})
def bulk_opportunities(
    request: HttpRequest, payload: OpportunityBulkIn, match: Literal["id"] = "id"
) -> Any:
    """Create or update up to 1,000 opportunities, all or nothing: an item with an `id` updates
    that opportunity, one without is created."""
    user = viewer(request)

    def find(field: str, raw: Any) -> Model | None:
        return access.visible(user, Opportunity.objects.all()).filter(pk=raw).first()

    spec = BulkSpec.for_services(
        actor=user,
        model=Opportunity,
        find=find,
        create=services.opportunity_create,
        update=services.opportunity_update,
    )
    items = [item.model_dump(exclude_unset=True) for item in payload.items]
    return run_bulk(items, match=match, spec=spec)


@router.get("/opportunities/{pk}", response={200: OpportunityOut, **ERRORS})
def get_opportunity(request: HttpRequest, pk: Path[Id]) -> Any:
    opportunity = get_visible(viewer=viewer(request), model=Opportunity, pk=pk)
    return opportunity_out(
        opportunity, show_amounts=access.can(viewer(request), "view_amounts", opportunity)
    )


@router.patch("/opportunities/{pk}", response={200: OpportunityOut, **WRITE_ERRORS})
def update_opportunity(request: HttpRequest, pk: Path[Id], payload: OpportunityPatch) -> Any:
    """Change the fields sent; `version` must be the one you read (409 if it moved since)."""
    opportunity = get_visible(viewer=viewer(request), model=Opportunity, pk=pk)
    data = payload.data()
    version = data.pop("version")
    opportunity = services.opportunity_update(
        opportunity=opportunity,
        actor=viewer(request),
        channel=Channel.API,
        data=data,
        expected_version=version,
    )
    return opportunity_out(
        opportunity, show_amounts=access.can(viewer(request), "view_amounts", opportunity)
    )


@router.delete("/opportunities/{pk}", response={204: None, **WRITE_ERRORS})
def delete_opportunity(request: HttpRequest, pk: Path[Id]) -> Any:
    opportunity = get_visible(viewer=viewer(request), model=Opportunity, pk=pk)
    services.opportunity_delete(opportunity=opportunity, actor=viewer(request), channel=Channel.API)
    return Status(204, None)
