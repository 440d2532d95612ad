"""The data-quality dashboard (`/quality/`) over the demo base: 1,000,000 organisations and
3,000,000 contacts at the 1m size.

Server time through `django.test.Client` (the whole request: catch-up of the tally, the
figures summed over the viewer's slices, duplicate pairs by owner, trends, charts, template):

- as the administrator, steady state (p50/p95 over ≥ 30 runs);
- right after a record was verified (the page recomputes the one or two slices that changed);
- as an AE under a team-private policy (figures over the records that AE may see);
- an owner's stale list, page 1.

Baseline, same run: a raw `SELECT COUNT(*)` of the organisation table. For context, timed once:
the single aggregate pass over every organisation and every contact that a dashboard without the
tally would run, and the full recomputation of the tally (the nightly sweep's work).

If the duplicates app found no pairs, 1 % of the organisations are paired as open "likely
duplicates" for the run (and removed afterwards), so that the pair-by-owner query is measured.

Target: dashboard < 1 s. Standalone: CIBLE_DATABASE_URL=… python bench/bench_quality.py.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from common import Result, admin_user, percentile, print_table, setup_django, summary, time_runs

TARGET_MS = 1000


def _seconds(action: Any) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def _plant_pairs() -> int:
    """Open pairs for 1 % of the organisations, if detection has produced none."""
    from django.apps import apps

    from cible.people.models import Organisation

    try:
        pair = apps.get_model("duplicates", "DuplicatePair")
    except LookupError:
        return 0
    if pair.objects.filter(status="open").exists():
        return 0
    top = Organisation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    rng = random.Random(4)
    wanted = top // 100
    seen: set[tuple[int, int]] = set()
    while len(seen) < wanted:
        a = rng.randint(1, top - 1)
        b = a + rng.randint(1, 50)
        if b <= top:
            seen.add((a, b))
    pair.objects.bulk_create(
        (
            pair(entity="organisation", record_a=a, record_b=b, score=0.9, reasons=[])
            for a, b in sorted(seen)
        ),
        batch_size=2000,
    )
    return wanted


def _remove_planted(count: int) -> None:
    if count:
        from django.apps import apps

        apps.get_model("duplicates", "DuplicatePair").objects.filter(reasons=[]).delete()


def run(runs: int = 30) -> tuple[list[Result], dict[str, Any]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from cible.core.models import AccessPolicy
    from cible.people.models import Organisation
    from cible.people.services import organisation_mark_verified
    from cible.quality.freshness import tally
    from cible.quality.freshness.models import FreshnessPolicy

    admin = admin_user()
    client = Client()
    client.force_login(admin)
    details: dict[str, Any] = {}
    results: list[Result] = []

    def raw_count() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM people_organisation")
            cursor.fetchone()

    baseline = time_runs(raw_count, runs)
    print(f"  raw COUNT(*) of organisations   {summary(baseline)}", flush=True)
    base_p95 = percentile(baseline, 95)

    planted = _plant_pairs()
    if planted:
        print(f"  planted {planted:,} open duplicate pairs for the run", flush=True)
    try:
        refresh = _seconds(tally.tally_refresh)
        print(f"  full recomputation of the tally: {refresh:.1f} s", flush=True)
        policy_rules = FreshnessPolicy.current().rules
        today = timezone.localdate()
        one_pass = {
            entity: _seconds(
                lambda entity=entity: tally.counts_by_owner(
                    tally.base_queryset(entity), entity, policy_rules, today
                )
            )
            for entity in tally.ENTITIES
        }
        print(
            "  one aggregate pass without the tally: "
            + ", ".join(f"{e} {s:.1f} s" for e, s in one_pass.items()),
            flush=True,
        )

        def dashboard(c: Client = client) -> None:
            response = c.get("/quality/")
            assert response.status_code == 200, response.status_code

        steady = time_runs(dashboard, runs)
        with CaptureQueriesContext(connection) as captured:
            dashboard()
        queries = len(captured)  # now: the log is a bounded deque that later queries rotate
        print(f"  dashboard (admin)               {summary(steady)}; {queries} queries")

        ids = list(
            Organisation.objects.filter(pk__in=random.Random(5).sample(range(1, 1_000_000), 200))
            .order_by("pk")
            .values_list("pk", flat=True)[: runs + 3]
        )
        edited: list[float] = []
        for pk in ids:
            organisation_mark_verified(
                organisation=Organisation.objects.get(pk=pk), actor=admin, channel="cli"
            )
            edited.append(_seconds(dashboard) * 1000)
        edited = edited[3:] or edited
        print(f"  dashboard right after an edit   {summary(edited)}")

        policy = AccessPolicy.current()
        previous = policy.account_visibility
        policy.account_visibility = "team"
        policy.save()
        try:
            ae = get_user_model().objects.get(username="ae.paris")
            ae_client = Client()
            ae_client.force_login(ae)
            as_ae = time_runs(lambda: dashboard(ae_client), runs)
        finally:
            policy.account_visibility = previous
            policy.save()
        print(f"  dashboard (AE, team-private)    {summary(as_ae)}")

        def stale_list() -> None:
            response = client.get(f"/quality/stale/organisation/?owner={ae.pk}")
            assert response.status_code == 200, response.status_code

        stale = time_runs(stale_list, runs)
        print(f"  an owner's stale list, page 1   {summary(stale)}")
    finally:
        _remove_planted(planted)

    for name, timings, note in (
        ("quality dashboard, admin: p95", steady, ""),
        ("quality dashboard right after an edit: p95", edited, "1–2 slices recomputed"),
        ("quality dashboard, AE (team-private): p95", as_ae, ""),
        ("stale list of an owner, page 1: p95", stale, ""),
    ):
        p95 = percentile(timings, 95)
        results.append(
            Result(
                "quality",
                name,
                p95,
                "ms",
                base_p95,
                "raw COUNT(*) of the organisation table, p95",
                "< 1 s",
                p95 < TARGET_MS,
                note,
            )
        )
    details.update(
        {
            "full_refresh_s": refresh,
            "one_pass_s": one_pass,
            "dashboard_p50_ms": statistics.median(steady),
            "dashboard_queries": queries,
            "planted_pairs": planted,
        }
    )
    results.append(
        Result(
            "quality",
            "full recomputation of the figures (nightly, background)",
            refresh * 1000,
            "ms",
            (one_pass["organisation"] + one_pass["contact"]) * 1000,
            "one aggregate pass over organisations and contacts, as a dashboard without the tally",
            "",
        )
    )
    return results, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    results, details = run(args.runs)
    print_table("Data-quality dashboard", results)
    print(f"  details: {details}")


if __name__ == "__main__":
    main()
