"""Opportunity fields for segment rules, targets and ICP criteria (`cible.segments.rules`).

Segments sit below the pipeline (ARCHITECTURE.md layers), so the pipeline registers its fields
from its `ready()`. At the organisation level each one means "has at least one opportunity
such that": `opportunities.stage in [lost]` is "has lost a deal".
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from cible.pipeline.models import LostReason, OpportunityType, Stage
from cible.segments.rules import Kind, RuleField, register_field

_AMOUNT_LIMIT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
_HELP = _("True when at least one opportunity of the organisation passes the test.")


def _field(name: str, label: object, kind: Kind, **options: object) -> RuleField:
    return RuleField(
        name=f"opportunities.{name}",
        label=label,
        kind=kind,
        level="organisation",
        lookup=f"opportunities__{name}",
        relation="opportunities",
        help=_HELP,
        **options,  # type: ignore[arg-type]
    )


def register() -> None:
    amounts = {"decimal_places": 2, "minimum": -_AMOUNT_LIMIT, "maximum": _AMOUNT_LIMIT}
    for rule_field in (
        _field("stage", _("opportunity: stage"), "choice", choices=Stage.choices),
        _field("type", _("opportunity: type"), "choice", choices=OpportunityType.choices),
        _field("lost_reason", _("opportunity: lost reason"), "choice", choices=LostReason.choices),
        _field("closed_on", _("opportunity: closed on"), "date"),
        _field("expected_close_date", _("opportunity: expected close date"), "date"),
        _field("one_time_amount", _("opportunity: one-time amount"), "number", **amounts),
        _field("recurring_amount", _("opportunity: monthly recurring amount"), "number", **amounts),
        _field("owner", _("opportunity: owner"), "reference"),
        _field("created_at", _("opportunity: created"), "datetime"),
    ):
        register_field(rule_field)
