"""Demo: routing and service levels (issue 7 §1–4, seed 004 §4, seed 003).

Rotations for the sales teams and a rule set from the most specific rule to a catch-all (one of
them sending the leads not ready to buy to the incubator program of the nurture step), the live
MQLs routed through the same services as in production; then the four handoffs' service levels
and the clocks the history implies, replayed, so queues, breaches, escalations and the compliance
report are alive on `make demo`.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.test.utils import override_settings
from django.utils import timezone

from cible.demo.generator import DemoContext, Step, register
from cible.lifecycle.leads.models import Lead
from cible.routing.assignment.models import Assignment
from cible.routing.assignment.seeding import seed_routing
from cible.routing.sla.demo import replay


def create_routing(ctx: DemoContext) -> None:
    made = seed_routing(
        teams=ctx.teams, actor=None, program_id=ctx.shared.get("nurture_program_id")
    )
    ctx.count("routing rules", made["rules"])
    ctx.count("assignments", made["routed"])
    # The live MQLs were routed when they became MQLs: their service-level clocks started then,
    # so the queue shows who is late, and the sweep has breaches to escalate.
    entered = Lead.objects.filter(pk=OuterRef("lead_id")).values("stage_entered_at")[:1]
    Assignment.objects.update(assigned_at=Subquery(entered))
    # The managers of the demo's teams are invented: their escalation emails go nowhere.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        clocks = replay(now=timezone.now())
    ctx.count("sla clocks", clocks["assignments"])
    ctx.count("sla breaches", clocks["breached"])


register(Step("routing", 120, create_routing, "routing rules, assignments and service levels"))
