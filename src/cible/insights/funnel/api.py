"""`GET /funnel`: the funnel report's figures as JSON, with the page's filters under the same
names, parsed by the same code (`selectors.filters_from_params`): a bad value is a 422 naming
the parameter."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from cible.core.api_kit import ERRORS, viewer
from cible.insights.funnel.selectors import FunnelReport, filters_from_params, funnel_report

router = Router(tags=["funnel"])


class FunnelQuery(Schema):
    period: str | None = Field(
        None, description="this_year, last_12_months (default), last_2_years or custom."
    )
    start: str | None = Field(None, description="First day (YYYY-MM-DD) of a custom period.")
    end: str | None = Field(None, description="Last day (YYYY-MM-DD) of a custom period.")
    mode: str | None = Field(
        None,
        description="arrival (default: leads that arrived in the period) or activity (leads "
        "that entered a stage in the period).",
    )
    source: str | None = Field(None, description="Lead source code.")
    campaign: str | None = Field(None, description="Campaign id.")
    segment: str | None = Field(None, description="Segment id: leads of its organisations.")
    owner: str | None = Field(None, description="User id of the leads' owner.")
    compare: str | None = Field(None, description="source (default) or campaign.")


class ReasonOut(Schema):
    code: str
    label: str
    count: int


class StageOut(Schema):
    stage: str
    label: str
    reached: int
    to_next: float | None = Field(description="Share reaching the next stage (0–1).")
    from_first: float | None = Field(description="Share of the first stage's leads (0–1).")
    timed_to_next: int | None = Field(description="Leads with a time to the next stage.")
    skipped_to_next: int | None = Field(description="Leads that skipped: no time.")
    median_days_to_next: float | None
    p75_days_to_next: float | None
    still_here: int
    recycled: int
    disqualified: int
    reasons: list[ReasonOut]


class GroupOut(Schema):
    key: str
    label: str
    reached: list[int]
    to_next: list[float | None]
    overall: float | None


class FunnelOut(Schema):
    period_start: str
    period_end: str
    mode: str
    compare: str
    leads: int
    customers: int
    overall: float | None
    stages: list[StageOut]
    groups: list[GroupOut]


def _out(report: FunnelReport) -> dict[str, Any]:
    filters = report.filters
    return {
        "period_start": filters.period.start.isoformat(),
        "period_end": filters.period.end.isoformat(),
        "mode": filters.mode.value,
        "compare": filters.compare.value,
        "leads": report.leads,
        "customers": report.customers,
        "overall": report.overall,
        "stages": [
            {
                "stage": row.stage,
                "label": row.label,
                "reached": row.reached,
                "to_next": row.to_next,
                "from_first": row.from_first,
                "timed_to_next": row.step.timed if row.step else None,
                "skipped_to_next": row.step.skipped if row.step else None,
                "median_days_to_next": row.step.median_days if row.step else None,
                "p75_days_to_next": row.step.p75_days if row.step else None,
                "still_here": row.still_here,
                "recycled": row.recycled,
                "disqualified": row.disqualified,
                "reasons": [vars(reason) for reason in row.reasons],
            }
            for row in report.stages
        ],
        "groups": [
            {
                "key": group.key,
                "label": group.label,
                "reached": list(group.reached),
                "to_next": list(group.to_next),
                "overall": group.overall,
            }
            for group in report.groups
        ],
    }


@router.get("/funnel", response={200: FunnelOut, **ERRORS})
def get_funnel(request: HttpRequest, params: Query[FunnelQuery]) -> Any:
    """Leads reaching each stage, conversions, median and p75 days between stages, losses by
    reason, and the comparison by source or campaign — over the leads you may see."""
    filters = filters_from_params(params=request.GET, today=timezone.localdate())
    return _out(funnel_report(viewer=viewer(request), filters=filters))
