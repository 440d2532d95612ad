"""Routing through a 20-rule set by concurrent workers, beside a raw UPDATE of the same leads' owner
in the same batches and processes, measured in the same run.

1. A fresh database (`migrate`): 5 teams of 8 members (capacities 500 to 4,000, so nobody fills
   up), 2,000 organisations in 6 regions (one in ten owned by a member: account matching), a
   shared target, and 20 rules — region × grade, source × score, engagement ranges, a named
   person, the target, a recycle, a foreign-country rule and a catch-all — using the three
   methods. N MQLs (bulk insert) with varied source, grade, scores and organisation. Not timed.
2. Baseline: W processes each `UPDATE … SET owner_id = … WHERE id IN (batch)`, one transaction per
   batch of 50, over the same leads; owners are then cleared again.
3. Routing: W processes each call `services.route(lead_ids=batch)` over their share, in batches
   of 50 (lead locks, member locks, counters, owners, assignment rows, recycles, signals).
4. Decision time: W processes decide 250 fresh leads each, one lead per call (the compiled rule
   set, the lead's values, the rules, the member — no write), then route them for real one per
   call (locks, owner, counters, assignment row, SLA clocks on commit); p95 of each beside the
   p95 of a raw one-lead UPDATE by the same processes.

    python bench/bench_routing.py --db postgres --leads 20000      # 4 workers, PostgreSQL
    python bench/bench_routing.py --db sqlite --workers 1          # one process on SQLite
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import time
from typing import Any

from common import Result, percentile, print_table, setup_django

TEAMS = 5
TEAM_SIZE = 8
BATCH = 50
LATENCY_LEADS = 250  # per worker
REGIONS = ["FR-IDF", "FR-HDF", "FR-ARA", "FR-NAQ", "FR-OCC", "FR-PAC"]
SOURCES = ["website", "webinar", "event", "referral", "purchased_list", "advertising"]
GRADES = [p + e for p in "ABCD" for e in "1234"]
TARGET_RATE = 500.0
TARGET_P95_MS = 10.0


def _setup(total: int, extra: int) -> dict[str, Any]:
    from django.utils import timezone

    from cible.core.bulk import bulk_insert, refresh_statistics
    from cible.lifecycle.leads.models import Lead
    from cible.people.models import Organisation
    from cible.people.services import team_create, user_create
    from cible.routing.assignment import services
    from cible.segments.targets.services import target_create

    admin = user_create(username="bench-admin", password=None, role="admin")
    teams, members = [], []
    for t in range(TEAMS):
        manager = user_create(username=f"m{t}", password=None, role="sales_manager")
        team = team_create(name=f"Team {t}", manager=manager)
        teams.append(team)
        for m in range(TEAM_SIZE):
            user = user_create(username=f"s{t}-{m}", password=None, role="sdr", teams=[team])
            services.member_save(
                team=team,
                user=user,
                actor=admin,
                channel="cli",
                data={"capacity": 500 * (1 + m % 8)},
            )
            members.append(user.pk)
    rng = random.Random(7)
    orgs = Organisation.objects.bulk_create(
        Organisation(
            legal_name=f"Org {i}",
            name_key=f"org {i}",
            region=REGIONS[i % len(REGIONS)],
            country="FR" if i % 25 else "BE",
            owner_id=members[i % len(members)] if i % 10 == 0 else None,
        )
        for i in range(2000)
    )
    target = target_create(
        actor=admin,
        channel="cli",
        data={
            "name": "North",
            "level": "organisation",
            "shared": True,
            "definition": {
                "organisation": {
                    "conditions": [{"field": "region", "op": "in", "value": ["FR-HDF"]}]
                }
            },
        },
    )
    rules: list[dict[str, Any]] = []
    for t in range(5):
        rules.append(
            {
                "name": f"Region {t}",
                "team": teams[t].pk,
                "method": "round_robin",
                "conditions": {
                    "conditions": [
                        {"field": "region", "op": "in", "value": [REGIONS[t + 1]]},
                        {"field": "grade", "op": "in", "value": ["A1", "A2", "B1"]},
                    ]
                },
            }
        )
    for t in range(5):
        rules.append(
            {
                "name": f"Source {t}",
                "team": teams[t].pk,
                "method": "weighted",
                "conditions": {
                    "conditions": [
                        {"field": "source", "op": "in", "value": [SOURCES[t]]},
                        {"field": "profile_score", "op": "gte", "value": 60},
                    ]
                },
            }
        )
    for t in range(5):
        rules.append(
            {
                "name": f"Engaged {t}",
                "team": teams[t].pk,
                "method": "least_loaded",
                "conditions": {
                    "match": "any",
                    "conditions": [
                        {
                            "field": "engagement_score",
                            "op": "between",
                            "value": [t * 20, t * 20 + 9],
                        },
                        {"field": "probability", "op": "gte", "value": 95 + t},
                    ],
                },
            }
        )
    rules += [
        {
            "name": "Named",
            "action": "assign_user",
            "user": members[0],
            "conditions": {"conditions": [{"field": "grade", "op": "in", "value": ["C4"]}]},
        },
        {
            "name": "North target",
            "team": teams[1].pk,
            "method": "weighted",
            "conditions": {"conditions": [{"field": "target", "op": "in", "value": [target.pk]}]},
        },
        {
            "name": "Back to Marketing",
            "action": "recycle",
            "recycle_reason": "not_ready",
            "conditions": {"conditions": [{"field": "grade", "op": "in", "value": ["D4"]}]},
        },
        {
            "name": "Abroad",
            "team": teams[0].pk,
            "conditions": {"conditions": [{"field": "country", "op": "not_in", "value": ["FR"]}]},
        },
        {"name": "Everything else", "team": teams[4].pk, "method": "round_robin"},
    ]
    for data in rules:
        services.rule_create(actor=admin, channel="cli", data={"action": "assign_team", **data})
    now = timezone.now()
    bulk_insert(
        Lead,
        [
            "stage",
            "stage_entered_at",
            "arrived_at",
            "source",
            "grade",
            "profile_score",
            "engagement_score",
            "organisation_id",
        ],
        (
            (
                "mql",
                now,
                now,
                rng.choice(SOURCES),
                rng.choice(GRADES),
                rng.randint(0, 100),
                rng.randint(0, 100),
                orgs[rng.randrange(len(orgs))].pk,
            )
            for _ in range(total + extra)
        ),
    )
    refresh_statistics(Lead, Organisation)
    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True))
    return {"ids": ids[:total], "latency_ids": ids[total:], "members": members}


def _raw_worker(ids: list[int], owner: int, queue: Any, single: bool) -> None:
    from django.db import connection, transaction

    timings = []
    step = 1 if single else BATCH
    for start in range(0, len(ids), step):
        batch = ids[start : start + step]
        began = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"UPDATE leads_lead SET owner_id = %s WHERE id IN ({marks})", [owner, *batch]
            )
        timings.append((time.perf_counter() - began) * 1000)
    queue.put(timings)


def _route_worker(ids: list[int], owner: int, queue: Any, single: bool) -> None:
    from cible.routing.assignment import services

    timings = []
    step = 1 if single else BATCH
    for start in range(0, len(ids), step):
        began = time.perf_counter()
        services.route(lead_ids=ids[start : start + step], actor=None, channel="job")
        timings.append((time.perf_counter() - began) * 1000)
    queue.put(timings)


def _decide_worker(ids: list[int], owner: int, queue: Any, single: bool) -> None:
    """Decisions alone: the rule set (cached), the leads' values, the rules, the members; one
    lead per call (`single`), or batches of 50 timed per lead."""
    from django.utils import timezone

    from cible.routing.assignment import decisions
    from cible.routing.assignment.facts import load_leads

    timings = []
    step = 1 if single else BATCH
    for start in range(0, len(ids), step):
        batch = ids[start : start + step]
        began = time.perf_counter()
        ruleset, rows = load_leads(batch, lock=False)
        decisions.decide_all(rows, ruleset, today=timezone.localdate(), lock=False)
        timings.append((time.perf_counter() - began) * 1000 / len(batch))
    queue.put(timings)


def _run(target: Any, shares: list[list[int]], owner: int, single: bool) -> tuple[float, list]:
    """Run `target` in one process per share; wall seconds and every call's milliseconds."""
    from django.db import connections

    connections.close_all()  # each child opens its own connection
    context = mp.get_context("fork")
    queue = context.Queue()
    processes = [
        context.Process(target=target, args=(share, owner, queue, single)) for share in shares
    ]
    began = time.perf_counter()
    for process in processes:
        process.start()
    timings: list[float] = []
    for _ in processes:
        timings.extend(queue.get())
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a worker failed (exit code {process.exitcode})")
    return time.perf_counter() - began, timings


def _shares(ids: list[int], workers: int) -> list[list[int]]:
    return [ids[i::workers] for i in range(workers)]


def measure(total: int, workers: int) -> dict[str, Any]:
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from cible.lifecycle.leads.models import Lead
    from cible.routing.assignment.models import Assignment

    call_command("migrate", verbosity=0)
    if Lead.objects.exists():
        raise SystemExit("bench_routing needs an empty database")
    data = _setup(total, LATENCY_LEADS * workers)
    ids, latency_ids, owner = data["ids"], data["latency_ids"], data["members"][0]
    # Contiguous batches per worker (ids[i::w] would interleave them).
    chunked = [ids[i * len(ids) // workers : (i + 1) * len(ids) // workers] for i in range(workers)]
    raw_seconds, _raw = _run(_raw_worker, chunked, owner, single=False)
    _s, raw_single = _run(_raw_worker, _shares(latency_ids, workers), owner, single=True)
    Lead.objects.update(owner=None)
    route_seconds, _batches = _run(_route_worker, chunked, owner, single=False)
    _s, decided = _run(_decide_worker, _shares(latency_ids, workers), owner, single=True)
    _s, alone = _run(_decide_worker, [latency_ids], owner, single=True)
    _s, batched = _run(_decide_worker, chunked, owner, single=False)
    _s, singles = _run(_route_worker, _shares(latency_ids, workers), owner, single=True)
    routed = Assignment.objects.filter(lead_id__in=ids).count()
    assert routed == total, (routed, total)
    assert Assignment.objects.values("lead_id").distinct().count() == total + len(latency_ids)
    return {
        "vendor": connection.vendor,
        "leads": total,
        "workers": workers,
        "raw_rate": total / raw_seconds,
        "route_rate": total / route_seconds,
        "p95": percentile(decided, 95),
        "p50": percentile(decided, 50),
        "alone_p95": percentile(alone, 95),
        "batched_p95": percentile(batched, 95),
        "route_p95": percentile(singles, 95),
        "route_p50": percentile(singles, 50),
        "raw_p95": percentile(raw_single, 95),
        "methods": dict(
            Assignment.objects.values_list("method").annotate(n=Count("id")).order_by()
        ),
    }


def results(f: dict[str, Any]) -> list[Result]:
    on_pg = f["vendor"] == "postgresql"
    return [
        Result(
            "routing",
            f"{f['leads']:,} leads, 20 rules, {f['workers']} workers",
            f["route_rate"],
            "rows/s",
            f["raw_rate"],
            f"raw UPDATE leads SET owner_id … WHERE id IN (50 ids), {f['workers']} processes",
            target=f"≥ {TARGET_RATE:.0f} leads/s" if on_pg else "",
            met=f["route_rate"] >= TARGET_RATE if on_pg else None,
        ),
        Result(
            "routing",
            f"decision of one lead, {f['workers']} workers (p95; p50 {f['p50']:.2f} ms)",
            f["p95"],
            "ms",
            f["raw_p95"],
            "raw one-lead UPDATE … SET owner_id (p95)",
            target=f"≤ {TARGET_P95_MS:.0f} ms" if on_pg else "",
            met=f["p95"] <= TARGET_P95_MS if on_pg else None,
            note="reads, rules and member pick; no write",
        ),
        Result(
            "routing",
            "decision of one lead, one process (p95)",
            f["alone_p95"],
            "ms",
            f["raw_p95"],
            "same baseline",
            target=f"≤ {TARGET_P95_MS:.0f} ms" if on_pg else "",
            met=f["alone_p95"] <= TARGET_P95_MS if on_pg else None,
        ),
        Result(
            "routing",
            "decision per lead in batches of 50 (p95)",
            f["batched_p95"],
            "ms",
            f["raw_p95"],
            "same baseline",
            target=f"≤ {TARGET_P95_MS:.0f} ms" if on_pg else "",
            met=f["batched_p95"] <= TARGET_P95_MS if on_pg else None,
        ),
        Result(
            "routing",
            f"one lead routed and written (p95; p50 {f['route_p50']:.2f} ms)",
            f["route_p95"],
            "ms",
            f["raw_p95"],
            "same baseline",
            note="locks, owner, counters, assignment, SLA clocks on commit",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--pg-port", type=int, default=54_384)
    args = parser.parse_args()
    if os.environ.get("CIBLE_DATABASE_URL"):
        figures = measure(args.leads, args.workers)
        print_table(f"Routing on {figures['vendor']}", results(figures))
        print(f"  assignments by method: {figures['methods']}")
        return
    from pg import rerun_in_fresh_database

    rerun_in_fresh_database(__file__, db=args.db, pg_port=args.pg_port, name="routing")


if __name__ == "__main__":
    main()
