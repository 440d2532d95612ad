"""Rule scoring of leads (issue 6: 1,000,000 leads with 10,000,000 interactions in ≤ 30 s end to
end; one lead after an interaction in ≤ 20 ms p95).

1. `--load N` fills an empty, migrated database through `core.bulk`: N organisations, N contacts
   (function, seniority), N live leads (source, BANT), 10·N interactions over two years (visits,
   opens, clicks, downloads, webinars, demo requests), an ICP with a fit score per organisation, a
   persona and a segment holding a third of the organisations.
2. A scoring model over all of it (ICP, persona, segment, source, BANT, six kinds with decay and
   caps) is activated, and `compute.rescore_all` runs twice, end to end: gather, numpy, compare,
   write, stage moves. Run 1 writes every lead; run 2 is the next day's decay sweep (same facts,
   `as_of` one day later): it writes only the leads whose rounded scores moved.
3. Baseline, same run: the floor of the same reading and writing with the raw driver — one
   `GROUP BY contact, kind` count over the interactions, fetched, plus a raw bulk write of N
   (id, profile, engagement, grade) rows into an index-free twin table.
4. The one-lead rescore (`compute.rescore_leads`, what an interaction costs), p50/p95, beside a
   raw primary-key read of one lead.

Standalone: CIBLE_DATABASE_URL=… python bench/bench_scoring.py --load 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from typing import Any

from common import (
    Result,
    admin_or_create,
    percentile,
    print_table,
    setup_django,
    summary,
    time_runs,
)

CITIES = ["Paris", "Lyon", "Lille", "Marseille", "Nantes", "Bordeaux"]
FUNCTIONS = ["sales", "marketing", "it", "finance", "general_management"]
SENIORITIES = ["executive", "director", "manager", "individual"]
SOURCES = ["website", "event", "webinar", "referral", "outbound", "advertising"]
KINDS = [  # (kind, share of interactions)
    ("web_visit", 0.45),
    ("email_opened", 0.25),
    ("email_clicked", 0.12),
    ("content_download", 0.08),
    ("webinar", 0.07),
    ("demo_request", 0.03),
]
DEFINITION_KINDS = {
    "web_visit": {"points": 2, "cap": 20},
    "email_opened": {"points": 1, "cap": 10},
    "email_clicked": {"points": 3, "cap": 15},
    "content_download": {"points": 8, "cap": 24},
    "webinar": {"points": 10, "cap": 20},
    "demo_request": {"points": 30, "cap": 40},
}


def load(count: int, per_lead: int, seed: int = 6) -> None:
    from django.db import connection

    from cible.core.bulk import bulk_insert, refresh_statistics, reset_sequences
    from cible.engagement.interactions.models import Interaction
    from cible.lifecycle.leads.models import Lead
    from cible.people.models import Contact, Organisation
    from cible.segments.profiles.models import FitScore, IdealCustomerProfile

    rng = random.Random(seed)
    began = time.perf_counter()
    bulk_insert(
        Organisation,
        ["id", "legal_name", "name_key", "city"],
        ((i, f"Org {i}", f"org {i}", rng.choice(CITIES)) for i in range(1, count + 1)),
    )
    bulk_insert(
        Contact,
        ["id", "last_name", "name_key", "organisation_id", "function", "seniority"],
        (
            (i, f"Person {i}", f"person {i}", i, rng.choice(FUNCTIONS), rng.choice(SENIORITIES))
            for i in range(1, count + 1)
        ),
    )
    bant = {
        "budget": ["", "", "none", "planned", "approved"],
        "authority": ["", "", "none", "influencer", "decision_maker"],
        "need": ["", "", "latent", "identified", "critical"],
        "timing": ["", "", "over_year", "within_year", "within_half", "within_quarter"],
    }
    now = dt.datetime.now(dt.UTC)
    bulk_insert(
        Lead,
        ["id", "contact_id", "organisation_id", "stage", "source", *bant],
        (
            (i, i, i, "prospect", rng.choice(SOURCES), *(rng.choice(v) for v in bant.values()))
            for i in range(1, count + 1)
        ),
    )
    print(f"  organisations, contacts, leads: {time.perf_counter() - began:.1f} s", flush=True)
    kinds = [k for k, _share in KINDS]
    weights = [share for _k, share in KINDS]
    two_years = 730 * 86400

    def interactions() -> Any:
        for chunk in range(0, count * per_lead, 100_000):
            picks = rng.choices(kinds, weights, k=100_000)
            for offset, kind in enumerate(picks):
                n = chunk + offset
                contact = n % count + 1
                when = now - dt.timedelta(seconds=rng.random() * two_years)
                yield (kind, when, contact, contact, "events")

    began = time.perf_counter()
    bulk_insert(
        Interaction,
        ["kind", "occurred_at", "contact_id", "organisation_id", "channel"],
        interactions(),
        progress=lambda done: (
            print(f"    {done:,} interactions", flush=True) if done % 2_000_000 == 0 else None
        ),
    )
    print(f"  {count * per_lead:,} interactions: {time.perf_counter() - began:.1f} s", flush=True)
    icp, _created = IdealCustomerProfile.objects.get_or_create(
        code="bench-scoring", defaults={"name": "Bench scoring"}
    )
    bulk_insert(
        FitScore,
        ["profile_id", "organisation_id", "score", "matched"],
        ((icp.pk, i, rng.randint(0, 100), "[]") for i in range(1, count + 1)),
    )
    refresh_statistics(Organisation, Contact, Lead, Interaction, FitScore)
    if connection.vendor == "postgresql":
        reset_sequences(Organisation, Contact, Lead)


def _setup(admin: Any) -> Any:
    """The persona, a manual segment of a third of the organisations, and the active model."""
    from django.db.models import F

    from cible.core.bulk import bulk_insert
    from cible.lifecycle.scoring.models import ScoringModel
    from cible.lifecycle.scoring.services import model_activate, model_create
    from cible.people.models import Organisation
    from cible.segments.axes.models import Axis, Membership, Segment
    from cible.segments.profiles.models import IdealCustomerProfile, Persona
    from cible.segments.profiles.services import persona_create

    persona = Persona.objects.filter(code="bench-sales-directors").first() or persona_create(
        actor=admin,
        channel="cli",
        name="Bench sales directors",
        code="bench-sales-directors",
        rule={
            "match": "all",
            "conditions": [
                {"field": "function", "op": "in", "value": ["sales"]},
                {"field": "seniority", "op": "in", "value": ["director", "executive"]},
            ],
        },
    )
    segment = Segment.objects.filter(axis__name="Bench accounts").first()
    if segment is None:
        axis = Axis.objects.create(name="Bench accounts", code="bench-accounts", exclusive=False)
        segment = Segment.objects.create(axis=axis, name="Key", code="key", kind="manual")
        ids = Organisation.objects.filter(pk__gt=0).values_list("pk", flat=True)
        now = dt.datetime.now(dt.UTC)
        written = bulk_insert(
            Membership,
            ["segment_id", "organisation_id", "axis_id", "since"],
            ((segment.pk, pk, axis.pk, now) for pk in ids.iterator() if pk % 3 == 0),
        )
        Segment.objects.filter(pk=segment.pk).update(
            member_count=written, members_version=F("members_version") + 1
        )
    icp = IdealCustomerProfile.objects.get(code="bench-scoring")
    ScoringModel.objects.filter(name="Bench").delete()
    model = model_create(
        actor=admin,
        channel="cli",
        name="Bench",
        definition={
            "fit": {
                "icp": {"profile": icp.pk, "weight": 40},
                "personas": [{"persona": persona.pk, "points": 15}],
                "segments": [{"segment": segment.pk, "points": 10}],
                "sources": {"referral": 10, "webinar": 5, "event": 5},
            },
            "bant": {
                "budget": {"approved": 15, "planned": 8, "none": -15},
                "authority": {"decision_maker": 10, "influencer": 4},
                "need": {"critical": 10, "identified": 6},
                "timing": {"within_quarter": 10, "within_half": 6},
            },
            "behaviour": {"half_life_days": 45, "kinds": DEFINITION_KINDS},
        },
    )
    model_activate(model=model, actor=admin, channel="cli")
    return model


def _raw_floor(count: int) -> float:
    """Seconds of the raw driver's aggregated read of the interactions plus a raw bulk write of
    `count` score rows into an index-free twin."""
    from django.db import connection, transaction

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_id, kind, COUNT(*) FROM interactions_interaction "
            "WHERE contact_id IS NOT NULL GROUP BY contact_id, kind"
        )
        cursor.fetchall()
        cursor.execute("DROP TABLE IF EXISTS bench_score_twin")
        cursor.execute(
            "CREATE TABLE bench_score_twin (id bigint, profile smallint, engagement smallint, "
            "grade varchar(2))"
        )
    rows = [(i, i % 100, i % 97, "B2") for i in range(1, count + 1)]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy("COPY bench_score_twin FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany("INSERT INTO bench_score_twin VALUES (%s, %s, %s, %s)", rows)
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_score_twin")
    return seconds


def run(runs: int = 30) -> list[Result]:
    from django.db import connection
    from django.utils import timezone

    from cible.lifecycle.leads.models import Lead
    from cible.lifecycle.scoring import compute

    admin = admin_or_create()
    model = _setup(admin)
    leads = Lead.objects.count()
    print(f"  {leads:,} leads", flush=True)
    results: list[Result] = []
    timings = []
    moments = (timezone.now(), timezone.now() + dt.timedelta(days=1))
    for attempt, reason, as_of in ((1, "model", moments[0]), (2, "decay", moments[1])):
        began = time.perf_counter()
        done = compute.rescore_all(
            model=model, reason=reason, as_of=as_of, step=lambda m: print("   ", m, flush=True)
        )
        timings.append(time.perf_counter() - began)
        assert done is not None
        print(
            f"  run {attempt}: {timings[-1]:.1f} s, {done.leads:,} leads, {done.changed:,} "
            f"written, {done.moved:,} moved",
            flush=True,
        )
    raw = _raw_floor(leads)
    print(f"  raw floor (aggregated read + bulk write): {raw:.1f} s", flush=True)
    for attempt, seconds in enumerate(timings, 1):
        results.append(
            Result(
                "scoring",
                f"rescore of {leads:,} leads, run {attempt}",
                seconds,
                "s",
                raw,
                "raw GROUP BY read of the interactions + raw bulk write of one row per lead",
                "≤ 30 s at 1,000,000",
                seconds <= 30 * max(1.0, leads / 1_000_000),
            )
        )
    some = list(Lead.objects.order_by("?").values_list("pk", flat=True)[: max(runs, 10)])
    ids = iter(some * 10)
    later = moments[1] + dt.timedelta(seconds=1)  # newer than the batch, so every write lands
    one = time_runs(lambda: compute.rescore_leads([next(ids)], as_of=later), runs)

    def read_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM leads_lead WHERE id = %s", [some[0]])
            cursor.fetchall()

    baseline = time_runs(read_one, runs)
    print(f"  rescore of one lead: {summary(one)}", flush=True)
    results.append(
        Result(
            "scoring",
            "rescore of one lead: p95",
            percentile(one, 95),
            "ms",
            percentile(baseline, 95),
            "raw primary-key read of one lead, p95",
            "≤ 20 ms",
            percentile(one, 95) <= 20,
        )
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=int, default=0, metavar="N")
    parser.add_argument("--per-lead", type=int, default=10)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--load-only", action="store_true", help="fill the database and stop")
    args = parser.parse_args()
    setup_django()
    if args.load:
        from cible.people.models import Organisation

        if Organisation.objects.exists():
            raise SystemExit("--load wants an empty database")
        load(args.load, args.per_lead)
        if args.load_only:
            return
    print_table("Lead scoring", run(args.runs))


if __name__ == "__main__":
    main()
