"""Tasks and notifications at scale, each figure beside a raw baseline of the same run.

1. A fresh database (`migrate`): a sales manager and their team of 50, 10,000 contacts; not timed.
2. `services.create_tasks` of N keyed tasks (a nurture step over N contacts: key lookup, checks,
   contacts' organisations, bulk insert, audit entry), then the same rows again (every key
   known: nothing written). Baseline: the stored rows written into an identical empty twin table
   with a raw `executemany` (SQLite) / `COPY` (PostgreSQL) (bench_demo's raw_baseline).
3. The manager's team view `/tasks/?scope=team` (HTTP through Django's test client: session,
   access, count, first page) and Alice's `/tasks/`, p50/p95. Baseline: the page's two raw SQL
   queries (count and first 50 open tasks by due time).
4. `services.notify(email=True)` to 500 users through a local SMTP server (aiosmtpd), in-app
   rows included. Baseline: the same 500 messages, already built, sent with `smtplib` over one
   connection.

    python bench/bench_tasks.py --tasks 100000                 # fresh SQLite file
    python bench/bench_tasks.py --db postgres --tasks 100000   # temporary PostgreSQL
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import smtplib
import sys
import time
from typing import Any

from common import ROOT, Result, percentile, print_table, setup_django, time_runs

CONTACTS = 10_000
TEAM = 50
RECIPIENTS = 500


def _prepare() -> tuple[Any, list[Any], list[int]]:
    from django.utils import timezone

    from cible.people.models import Contact
    from cible.people.services import team_create, user_create

    manager = user_create(username="bench-manager", password=None, role="sales_manager")
    team = team_create(name="Bench team", manager=manager)
    members = [
        user_create(username=f"bench-ae-{n}", password=None, role="ae", teams=[team])
        for n in range(TEAM)
    ]
    now = timezone.now()
    Contact.objects.bulk_create(
        [Contact(last_name=f"P{n}", name_key=f"p{n}", created_at=now) for n in range(CONTACTS)],
        batch_size=1000,
    )
    return manager, members, list(Contact.objects.values_list("id", flat=True))


def _rows(total: int, members: list[Any], contacts: list[int]) -> list[Any]:
    from django.utils import timezone

    from cible.engagement.tasks.services import TaskRow

    now = timezone.now()
    return [
        TaskRow(
            assignee=members[n % len(members)].pk,
            title=f"Call contact {n}, who clicked",
            kind="call",
            due_at=now + dt.timedelta(minutes=n % 10_000 - 2_000),
            contact=contacts[n % len(contacts)],
            source="nurture:1",
            key=f"nurture:1:step:3:contact:{n}",
        )
        for n in range(total)
    ]


def _page_timings(client: Any, url: str, runs: int) -> list[float]:
    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    return time_runs(get, runs)


def _raw_page(assignee_ids: list[int], runs: int) -> list[float]:
    from django.db import connection

    marks = ", ".join(["%s"] * len(assignee_ids))
    where = f"assignee_id IN ({marks}) AND done_at IS NULL"

    def query() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM tasks_task WHERE {where} LIMIT 10001) t",
                assignee_ids,
            )
            cursor.fetchone()
            cursor.execute(
                f"SELECT * FROM tasks_task WHERE {where} ORDER BY due_at, id LIMIT 50", assignee_ids
            )
            cursor.fetchall()

    return time_runs(query, runs)


def _mail(users: list[Any]) -> tuple[float, float, int]:
    """Seconds of notify(email=True) to `users`, of the raw smtplib baseline, messages received."""
    from django.conf import settings
    from django.core.mail import EmailMessage

    from cible.engagement.tasks import services

    sys.path.insert(0, str(ROOT))
    from tests.smtp import start_smtp_server

    server = start_smtp_server()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        began = time.perf_counter()
        services.notify(
            users=users, title="SLA breached", body="Lead 1", url="/leads/1/", email=True, key="b"
        )
        seconds = time.perf_counter() - began
        received = len(server.messages)
        built = [
            EmailMessage("[Cible] SLA breached", "Lead 1", to=[u.email]).message().as_bytes()
            for u in users
        ]
        began = time.perf_counter()
        with smtplib.SMTP(server.host, server.port) as smtp:
            for user, message in zip(users, built, strict=True):
                smtp.sendmail(settings.DEFAULT_FROM_EMAIL, [user.email], message)
        raw_seconds = time.perf_counter() - began
    finally:
        server.stop()
    return seconds, raw_seconds, received


def measure(total: int, runs: int) -> dict[str, Any]:
    setup_django()
    from bench_demo import raw_baseline
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from cible.core.bulk import refresh_statistics
    from cible.engagement.tasks import services
    from cible.engagement.tasks.models import Task
    from cible.people.services import user_create

    call_command("migrate", verbosity=0)
    if Task.objects.exists():
        raise SystemExit("bench_tasks needs an empty database (no tasks)")
    manager, members, contacts = _prepare()
    rows = _rows(total, members, contacts)
    began = time.perf_counter()
    created = services.create_tasks(rows=rows, channel="job")
    create_seconds = time.perf_counter() - began
    began = time.perf_counter()
    again = services.create_tasks(rows=rows, channel="job")
    replay_seconds = time.perf_counter() - began
    assert (created, again) == (total, 0), (created, again)
    raw_rows, raw_seconds = raw_baseline(["tasks_task"])["tasks_task"]
    refresh_statistics(Task)  # as after any big load: the planner sees the new rows
    manager_client, member_client = Client(), Client()
    manager_client.force_login(manager)
    member_client.force_login(members[0])
    team_page = _page_timings(manager_client, "/tasks/?scope=team", runs)
    my_page = _page_timings(member_client, "/tasks/", runs)
    raw_team = _raw_page([m.pk for m in members] + [manager.pk], runs)
    raw_mine = _raw_page([members[0].pk], runs)
    recipients = [
        user_create(username=f"n{n}", password=None, role="ae", email=f"n{n}@bench.example")
        for n in range(RECIPIENTS)
    ]
    mail_seconds, raw_mail_seconds, received = _mail(recipients)
    assert received == RECIPIENTS, received
    return {
        "vendor": connection.vendor,
        "tasks": total,
        "create_seconds": create_seconds,
        "replay_seconds": replay_seconds,
        "raw_rows": raw_rows,
        "raw_seconds": raw_seconds,
        "team_page": team_page,
        "my_page": my_page,
        "raw_team": raw_team,
        "raw_mine": raw_mine,
        "mail_seconds": mail_seconds,
        "raw_mail_seconds": raw_mail_seconds,
    }


def results(f: dict[str, Any]) -> list[Result]:
    raw_rate = f["raw_rows"] / f["raw_seconds"]
    p95 = lambda timings: percentile(timings, 95)  # noqa: E731
    return [
        Result(
            "tasks",
            f"create_tasks, {f['tasks']:,} keyed rows",
            f["tasks"] / f["create_seconds"],
            "rows/s",
            raw_rate,
            "raw executemany/COPY of the same rows into an identical table",
        ),
        Result(
            "tasks",
            f"create_tasks again (all {f['tasks']:,} keys known)",
            f["tasks"] / f["replay_seconds"],
            "rows/s",
            raw_rate,
            "same baseline",
        ),
        Result(
            "tasks",
            f"team page /tasks/?scope=team ({TEAM} people), p95",
            p95(f["team_page"]),
            "ms",
            p95(f["raw_team"]),
            "the page's count and first 50 rows in raw SQL, p95",
        ),
        Result(
            "tasks",
            "my tasks /tasks/, p95",
            p95(f["my_page"]),
            "ms",
            p95(f["raw_mine"]),
            "same two raw queries for one person, p95",
        ),
        Result(
            "tasks",
            f"notify(email=True) to {RECIPIENTS} users (local SMTP)",
            RECIPIENTS / f["mail_seconds"],
            "rows/s",
            RECIPIENTS / f["raw_mail_seconds"],
            "the same messages, prebuilt, via smtplib on one connection",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-port", type=int, default=54_381)
    args = parser.parse_args()
    if os.environ.get("CIBLE_DATABASE_URL"):
        figures = measure(args.tasks, args.runs)
        print_table(f"Tasks and notifications on {figures['vendor']}", results(figures))
        return
    from pg import rerun_in_fresh_database

    rerun_in_fresh_database(__file__, db=args.db, pg_port=args.pg_port, name="tasks")


if __name__ == "__main__":
    main()
