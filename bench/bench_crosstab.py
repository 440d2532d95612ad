"""The segment cross-tab (issue 5: "a 2-axis cross-tab with win rate and revenue over two years of
opportunities: ≤ 500 ms") through `insights.performance.selectors.crosstab`, as the
administrator, beside the raw grouped SQL of the same deals query in the same run.

Also measured, without a target: the cross-tab counting accounts (it reads every organisation),
counting contacts (every contact), one axis with every measure (`segment_performance`), and
the win-rate cross-tab of an AE whose deals are private to the team (access filters).

Needs the demo dataset and its memberships: when the membership table is empty, the rule
segments are rebuilt first (`cible segments rebuild`). Standalone:
CIBLE_DATABASE_URL=… python bench/bench_crosstab.py [--runs 30].
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from common import Result, admin_user, percentile, print_table, setup_django, time_runs

AXES = ("geography", "installed-crm")
TARGET_MS = 500

RAW_DEALS = """
SELECT ma.segment_id, mb.segment_id,
       SUM(CASE WHEN o.stage NOT IN ('won', 'lost') THEN 1 ELSE 0 END),
       SUM(CASE WHEN o.stage NOT IN ('won', 'lost')
                THEN o.one_time_amount + 12 * o.recurring_amount END),
       SUM(CASE WHEN o.stage = 'won' THEN 1 ELSE 0 END),
       SUM(CASE WHEN o.stage = 'lost' THEN 1 ELSE 0 END),
       SUM(CASE WHEN o.stage = 'won' THEN o.one_time_amount + 12 * o.recurring_amount END),
       SUM(CASE WHEN o.stage = 'won' THEN {days} END)
FROM pipeline_opportunity o
LEFT JOIN segments_membership ma ON ma.organisation_id = o.organisation_id AND ma.axis_id = %s
LEFT JOIN segments_membership mb ON mb.organisation_id = o.organisation_id AND mb.axis_id = %s
WHERE o.stage NOT IN ('won', 'lost') OR o.closed_on BETWEEN %s AND %s
GROUP BY ma.segment_id, mb.segment_id
"""
DAYS = {
    "sqlite": "CAST(julianday(o.closed_on) - julianday(date(o.created_at)) AS INTEGER)",
    "postgresql": "(o.closed_on - CAST((o.created_at AT TIME ZONE 'UTC') AS date))",
}


def _ensure_memberships() -> None:
    from django.core.management import call_command

    from cible.core.bulk import refresh_statistics
    from cible.segments.axes.models import Membership

    if not Membership.objects.exists():
        print("  rebuilding the rule segments first (empty membership table)", flush=True)
        call_command("segments", "rebuild")
    # Fresh planner statistics on the membership table (a rebuild rewrites it), as autovacuum
    # would give on PostgreSQL after a while; without them it may choose a nested loop.
    refresh_statistics(Membership)


def _team_ae() -> Any:
    from django.contrib.auth import get_user_model

    from cible.core.roles import Role

    return get_user_model().objects.filter(profile__role=Role.AE).order_by("pk").first()


def run(runs: int = 30) -> tuple[list[Result], dict[str, Any]]:
    from django.db import connection
    from django.utils import timezone

    from cible.insights.performance.periods import Period, Preset
    from cible.insights.performance.selectors import crosstab, segment_performance
    from cible.segments.axes.models import Axis

    _ensure_memberships()
    admin = admin_user()
    axis_a, axis_b = (Axis.objects.get(code=code) for code in AXES)
    period = Period.of(Preset.LAST_2_YEARS, today=timezone.localdate())
    results: list[Result] = []
    details: dict[str, Any] = {}
    tabs: list[Any] = []

    def through_selector(viewer: Any = admin, measure: str = "win_rate") -> None:
        tabs.append(
            crosstab(viewer=viewer, axis_a=axis_a, axis_b=axis_b, period=period, measure=measure)
        )

    raw_rows: list[Any] = []

    def raw() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                RAW_DEALS.format(days=DAYS[connection.vendor]),
                [axis_a.pk, axis_b.pk, period.start, period.end],
            )
            raw_rows[:] = cursor.fetchall()

    raw_timings = time_runs(raw, runs)
    timings = {"win_rate": time_runs(through_selector, runs)}
    timings["revenue_won"] = time_runs(lambda: through_selector(measure="revenue_won"), runs)
    tab = tabs[-1]
    deals = tab.total.closed
    assert deals == sum(row[4] + row[5] for row in raw_rows), "selector and raw SQL disagree"
    few = max(3, runs // 6)
    timings["accounts"] = time_runs(lambda: through_selector(measure="accounts"), few, warmup=1)
    timings["contacts"] = time_runs(lambda: through_selector(measure="contacts"), few, warmup=1)
    timings["segment_performance"] = time_runs(
        lambda: segment_performance(viewer=admin, axis=axis_a, period=period), few, warmup=1
    )
    ae = _team_ae()
    if ae is not None:
        timings["ae_win_rate"] = time_runs(lambda: through_selector(viewer=ae), runs)
    raw_p95 = percentile(raw_timings, 95)
    labels = {
        "win_rate": "cross-tab geography × CRM, win rate: p95",
        "revenue_won": "cross-tab geography × CRM, revenue won: p95",
        "accounts": "cross-tab counting accounts: p95",
        "contacts": "cross-tab counting contacts: p95",
        "segment_performance": "one axis, every measure (geography): p95",
        "ae_win_rate": "cross-tab win rate as an AE (private deals): p95",
    }
    for key, values in timings.items():
        p95 = percentile(values, 95)
        targeted = key in ("win_rate", "revenue_won")
        print(
            f"  {labels[key]:<52} p50 {statistics.median(values):8.2f} ms  p95 {p95:8.2f} ms"
            f"  (n={len(values)}); raw deals query p95 {raw_p95:7.2f} ms",
            flush=True,
        )
        results.append(
            Result(
                "crosstab",
                labels[key],
                p95,
                "ms",
                raw_p95,
                "raw grouped SQL of the same deals query, p95",
                f"≤ {TARGET_MS} ms" if targeted else "",
                p95 <= TARGET_MS if targeted else None,
            )
        )
        details[key] = {"p50": statistics.median(values), "p95": p95, "runs": len(values)}
    details["raw_p95"] = raw_p95
    details["closed_deals"] = deals
    details["cells"] = sum(len(row) for row in tab.cells)
    details["flags"] = [
        f"{cell.row.name} × {cell.column.name}: {cell.flag.sentence}"
        for cell in tab.flagged[:3]
        if cell.flag
    ]
    print(f"  {deals:,} deals closed in the period, {details['cells']} cells; top flags:")
    for sentence in details["flags"]:
        print(f"    {sentence}")
    return results, details


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    found, _details = run(args.runs)
    print_table("cross-tab", found)
