"""Event ingestion through the real API view, beside a raw insert of the same rows.

1. A fresh database (`migrate`): a user with an API token, 5,000 contacts (with emails) at
   1,000 organisations, two campaigns with UTM names; not timed.
2. Batches of 1,000 to 10,000 website and product events are built as JSON (as a sender would:
   70 % from known contacts, 20 % from emails Cible does not know, 10 % from anonymous visitors;
   a fifth tagged with a campaign, half of those moving a campaign member), then POSTed to
   `/api/v1/events` with Django's test `Client` and a bearer token: the whole request (token,
   JSON parsing, checks, matching, insert, campaign members, audit entry) is timed, per batch.
3. The first batch is sent again: every event is a duplicate (idempotency costs).
4. Baseline, same run: the stored rows read back and written into an identical empty twin table
   with a raw driver `executemany` in one transaction (SQLite) or `COPY` (PostgreSQL)
   (bench_demo's raw_baseline), timed alone.

Target (issue 6): ≥ 5,000 events/s sustained, on SQLite and on PostgreSQL.

    python bench/bench_events.py --events 100000 --batch 5000             # fresh SQLite file
    python bench/bench_events.py --db postgres --events 100000            # temporary PostgreSQL
    CIBLE_DATABASE_URL=… python bench/bench_events.py --events 20000      # an empty database
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

from common import Result, print_table, setup_django

TARGET_RATE = 5_000
CONTACTS = 5_000
ORGANISATIONS = 1_000
KINDS_FROM_WEBSITE = ("web_visit", "web_visit", "web_visit", "content_download", "form_submission")
KINDS_FROM_EMAIL = ("email_opened", "email_clicked", "webinar")


def _prepare() -> tuple[str, list[str], list[str]]:
    """The sender's token, the known emails and the campaigns' UTM names."""
    from django.utils import timezone

    from cible.core.services import api_token_create
    from cible.engagement.campaigns.models import Campaign
    from cible.people.models import Contact, Organisation
    from cible.people.services import user_create

    user = user_create(username="events-bench", password=None, role="marketing")
    _token, key = api_token_create(user=user, name="bench")
    now = timezone.now()
    Organisation.objects.bulk_create(
        [
            Organisation(legal_name=f"Bench {n}", name_key=f"bench {n}", domain=f"bench{n}.example")
            for n in range(ORGANISATIONS)
        ],
        batch_size=500,
    )
    organisation_ids = list(Organisation.objects.values_list("id", flat=True))
    emails = [f"person{n}@bench{n % ORGANISATIONS}.example" for n in range(CONTACTS)]
    Contact.objects.bulk_create(
        [
            Contact(
                last_name=f"Person {n}",
                name_key=f"person {n}",
                email=email,
                email_key=email,
                organisation_id=organisation_ids[n % len(organisation_ids)],
                created_at=now,
            )
            for n, email in enumerate(emails)
        ],
        batch_size=500,
    )
    utms = ["spring-webinar", "nurture-q2"]
    for utm in utms:
        Campaign.objects.create(name=utm, type="email", utm_campaign=utm)
    return key, emails, utms


def _events(
    start: int, count: int, emails: list[str], utms: list[str], rng: random.Random
) -> bytes:
    now = time.time()
    events: list[dict[str, Any]] = []
    for n in range(start, start + count):
        moment = time.strftime(
            "%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - rng.randint(60, 86_400 * 30))
        )
        event: dict[str, Any] = {"event_id": f"evt-{n}", "source": "website", "occurred_at": moment}
        draw = rng.random()
        if draw < 0.7:
            event["email"] = rng.choice(emails)
        elif draw < 0.9:
            event["email"] = f"stranger{n}@elsewhere.example"
        else:
            event["visitor_id"] = f"anon-{rng.randint(1, 50_000)}"
        if rng.random() < 0.2:
            event["kind"] = rng.choice(KINDS_FROM_EMAIL)
            event["campaign"] = rng.choice(utms)
        else:
            event["kind"] = rng.choice(KINDS_FROM_WEBSITE)
            event["properties"] = {"page": f"/produits/{rng.randint(1, 40)}", "referrer": "search"}
        events.append(event)
    return json.dumps({"events": events}).encode()


def measure(total: int, batch: int, seed: int) -> dict[str, Any]:
    setup_django()
    from bench_demo import raw_baseline
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from cible.engagement.interactions.models import Interaction

    call_command("migrate", verbosity=0)
    if Interaction.objects.exists():
        raise SystemExit("bench_events needs an empty database (no interactions)")
    key, emails, utms = _prepare()
    rng = random.Random(seed)
    bodies = [
        _events(start, min(batch, total - start), emails, utms, rng)
        for start in range(0, total, batch)
    ]
    client = Client(headers={"Authorization": f"Bearer {key}"})
    timings: list[float] = []
    accepted = 0
    for number, body in enumerate(bodies, 1):
        began = time.perf_counter()
        response = client.post("/api/v1/events", data=body, content_type="application/json")
        timings.append(time.perf_counter() - began)
        assert response.status_code == 200, response.content[:500]
        answer = response.json()
        assert not answer["rejected"], answer["rejected"][:3]
        accepted += answer["accepted"]
        if number % 5 == 0 or number == len(bodies):
            print(
                f"    {accepted:>9,} events  {accepted / sum(timings):>9,.0f} events/s", flush=True
            )
    assert accepted == total == Interaction.objects.count(), (accepted, total)
    began = time.perf_counter()
    replay = client.post("/api/v1/events", data=bodies[0], content_type="application/json")
    replay_seconds = time.perf_counter() - began
    assert replay.json()["duplicates"] == json.loads(bodies[0])["events"].__len__()
    raw = raw_baseline(["interactions_interaction"])
    raw_rows, raw_seconds = raw["interactions_interaction"]
    return {
        "vendor": connection.vendor,
        "events": total,
        "batch": batch,
        "seconds": sum(timings),
        "batch_p50": statistics.median(timings),
        "batch_max": max(timings),
        "replay_events": len(json.loads(bodies[0])["events"]),
        "replay_seconds": replay_seconds,
        "raw_rows": raw_rows,
        "raw_seconds": raw_seconds,
        "members": _members(),
    }


def _members() -> int:
    from cible.engagement.campaigns.models import CampaignMember

    return CampaignMember.objects.count()


def results(figures: dict[str, Any]) -> list[Result]:
    rate = figures["events"] / figures["seconds"]
    raw_rate = figures["raw_rows"] / figures["raw_seconds"]
    replay_rate = figures["replay_events"] / figures["replay_seconds"]
    batch = figures["batch"]
    return [
        Result(
            "events",
            f"event ingestion via the API ({figures['events']:,} in batches of {batch:,})",
            rate,
            "rows/s",
            raw_rate,
            "raw executemany/COPY of the same rows into an identical table",
            f"≥ {TARGET_RATE:,} events/s",
            rate >= TARGET_RATE,
            note=(
                f"batch p50 {figures['batch_p50'] * 1000:.0f} ms, max "
                f"{figures['batch_max'] * 1000:.0f} ms; {figures['members']:,} campaign members"
            ),
        ),
        Result(
            "events",
            f"replay of a batch already stored ({figures['replay_events']:,} duplicates)",
            replay_rate,
            "rows/s",
            raw_rate,
            "same baseline",
            "",
            None,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-port", type=int, default=54_371)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.batch <= 10_000:
        raise SystemExit("--batch must be between 1 and 10,000 (the API's limit)")
    if os.environ.get("CIBLE_DATABASE_URL"):
        figures = measure(args.events, args.batch, args.seed)
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
        print_table(f"Event ingestion on {figures['vendor']}", results(figures))
        return
    # A fresh database for this run, then this script again in a child process pointed at it.
    from pg import rerun_in_fresh_database

    rerun_in_fresh_database(__file__, db=args.db, pg_port=args.pg_port, name="events")


if __name__ == "__main__":
    main()
