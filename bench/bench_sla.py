"""The SLA sweep over a million open clocks, beside a raw UPDATE of the same rows in the same run.

1. A fresh database (`migrate`): 20 teams of 10, each with a manager who has an email address;
   N leads (bulk insert) and one open first-touch clock per lead, written by one
   `INSERT … SELECT` in SQL; 10 % of them past due, the rest due tomorrow. Not timed.
2. Baseline: `UPDATE sla_slaclock SET status = 'breached', breached_at = now WHERE status = 'open'
   AND due_at < now`, in a transaction rolled back afterwards (so the sweep finds the same rows).
3. `services.sweep()`: the conditional breach UPDATE, the claim of untold breaches with their
   notification (a digest per manager here: each has thousands) in the app and by email to a
   local SMTP server (aiosmtpd), and the search for clocks past their second delay.
4. The same sweep again a second later: nothing left to do (safe to run twice).

    python bench/bench_sla.py --clocks 1000000                  # fresh SQLite file
    python bench/bench_sla.py --db postgres --clocks 1000000    # temporary PostgreSQL
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from typing import Any

from common import ROOT, Result, print_table, setup_django

TEAMS = 20
TEAM_SIZE = 10
TARGET_SECONDS = 10.0


def _people() -> list[tuple[int, int]]:
    """(user id, team id) of every member."""
    from cible.people.services import team_create, user_create

    members = []
    for t in range(TEAMS):
        manager = user_create(
            username=f"bench-manager-{t}",
            password=None,
            role="sales_manager",
            email=f"manager{t}@bench.example",
        )
        team = team_create(name=f"Bench team {t}", manager=manager)
        for m in range(TEAM_SIZE):
            user = user_create(
                username=f"bench-sdr-{t}-{m}", password=None, role="sdr", teams=[team]
            )
            members.append((user.pk, team.pk))
    return members


def _load(total: int, members: list[tuple[int, int]], now: dt.datetime) -> float:
    """Leads in bulk, then one clock per lead generated in SQL; returns the seconds it took."""
    from django.db import connection

    from cible.core.bulk import bulk_insert, refresh_statistics
    from cible.lifecycle.leads.models import Lead
    from cible.routing.sla.models import Handoff, SlaClock, SlaPolicy

    began = time.perf_counter()
    policy = SlaPolicy.objects.create(
        name="First touch",
        handoff=Handoff.FIRST_TOUCH,
        target_minutes=120,
        business_hours=False,
        escalate_after_minutes=240,
    )
    bulk_insert(
        Lead,
        ["stage", "owner", "arrived_at", "stage_entered_at"],
        ((("mql", members[n % len(members)][0], now, now)) for n in range(total)),
    )
    ops = connection.ops
    past = ops.adapt_datetimefield_value(now - dt.timedelta(hours=1))
    escalate = ops.adapt_datetimefield_value(now + dt.timedelta(hours=3))
    future = ops.adapt_datetimefield_value(now + dt.timedelta(days=1))
    started = ops.adapt_datetimefield_value(now - dt.timedelta(hours=3))
    size = len(members)
    # The owner and team of each clock follow the lead's id, as the leads' owners did.
    owner_case = " ".join(f"WHEN {i} THEN {u}" for i, (u, _t) in enumerate(members))
    team_case = " ".join(f"WHEN {i} THEN {t}" for i, (_u, t) in enumerate(members))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {SlaClock._meta.db_table}
                (policy_id, lead_id, owner_id, team_id, started_at, due_at, escalate_at, status)
                SELECT %s, id, CASE (id - 1) %% {size} {owner_case} END,
                       CASE (id - 1) %% {size} {team_case} END, %s,
                       CASE WHEN id %% 10 = 0 THEN %s ELSE %s END,
                       CASE WHEN id %% 10 = 0 THEN %s ELSE NULL END, 'open'
                FROM {Lead._meta.db_table}""",
            [policy.pk, started, past, future, escalate],
        )
    refresh_statistics(Lead, SlaClock)
    return time.perf_counter() - began


def _raw_update(now: dt.datetime) -> tuple[float, int]:
    from django.db import connection, transaction

    stamp = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic():
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE sla_slaclock SET status = 'breached', breached_at = %s "
                "WHERE status = 'open' AND due_at < %s",
                [stamp, stamp],
            )
            count = cursor.rowcount
        seconds = time.perf_counter() - began
        transaction.set_rollback(True)
    return seconds, count


def measure(total: int) -> dict[str, Any]:
    setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from cible.routing.sla import services
    from cible.routing.sla.models import SlaClock

    sys.path.insert(0, str(ROOT))
    from tests.smtp import start_smtp_server

    call_command("migrate", verbosity=0)
    if SlaClock.objects.exists():
        raise SystemExit("bench_sla needs an empty database (no clocks)")
    now = timezone.now()
    load_seconds = _load(total, _people(), now)
    raw_seconds, raw_count = _raw_update(now)
    server = start_smtp_server()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        began = time.perf_counter()
        report = services.sweep(now=now)
        sweep_seconds = time.perf_counter() - began
        began = time.perf_counter()
        again = services.sweep(now=now + dt.timedelta(seconds=1))
        again_seconds = time.perf_counter() - began
        received = len(server.messages)
    finally:
        server.stop()
    assert report.breached == raw_count == total // 10, (report, raw_count)
    assert (again.breached, again.notified, again.reassigned) == (0, 0, 0), again
    # Each team's manager hears of its breaches: one by one, or in one digest past DIGEST_OVER.
    per_team = SlaClock.objects.filter(status="breached").values("team").annotate(n=Count("id"))
    told = sum(1 if row["n"] > services.DIGEST_OVER else row["n"] for row in per_team)
    assert report.notified == told == received, (report, told, received)
    return {
        "vendor": connection.vendor,
        "clocks": total,
        "load_seconds": load_seconds,
        "raw_seconds": raw_seconds,
        "breached": report.breached,
        "sweep_seconds": sweep_seconds,
        "again_seconds": again_seconds,
        "emails": received,
    }


def results(f: dict[str, Any]) -> list[Result]:
    return [
        Result(
            "sla",
            f"sweep, {f['clocks']:,} open clocks, {f['breached']:,} past due",
            f["sweep_seconds"] * 1000,
            "ms",
            f["raw_seconds"] * 1000,
            "raw UPDATE … SET status='breached' WHERE status='open' AND due_at < now",
            target=f"≤ {TARGET_SECONDS:.0f} s",
            met=f["sweep_seconds"] <= TARGET_SECONDS,
            note=f"{f['emails']} digest emails received by a local SMTP server",
        ),
        Result(
            "sla",
            "the same sweep again (nothing left to do)",
            f["again_seconds"] * 1000,
            "ms",
            f["raw_seconds"] * 1000,
            "same baseline",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clocks", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-port", type=int, default=54_385)
    args = parser.parse_args()
    if args.clocks % 10:
        parser.error("--clocks must be a multiple of 10 (10 % are past due)")
    if os.environ.get("CIBLE_DATABASE_URL"):
        figures = measure(args.clocks)
        print(f"  (load, not timed in the figures: {figures['load_seconds']:.1f} s)")
        print_table(f"SLA sweep on {figures['vendor']}", results(figures))
        return
    from pg import rerun_in_fresh_database

    rerun_in_fresh_database(__file__, db=args.db, pg_port=args.pg_port, name="sla")


if __name__ == "__main__":
    main()
