"""ICP fit scores for every organisation (issue 5: 1,000,000 organisations in ≤ 30 s).

1. A five-criterion profile (an installed product, a size class, a folded city, a sales-team
   range, a contact's function and seniority) scored over the whole base with
   `fit_scores_compute`, twice, end to end: the criteria queries, the numpy arithmetic, the
   comparison with the stored rows, the writes, the audit entry. Run 1 writes every row; run 2
   finds every score unchanged and writes none (a nightly run's usual case).
2. Baseline, same run: a raw driver write of the same number of (profile, organisation, score,
   matched) rows into an empty twin table without indexes — `executemany` in one transaction on
   SQLite, `COPY` on PostgreSQL — the floor of the write alone.
3. The incremental refresh of one organisation for that profile (what an edit costs), p50/p95,
   beside a raw primary-key read of one organisation.

Standalone: CIBLE_DATABASE_URL=… python bench/bench_profiles.py [--load 100000]
(`--load N` fills an empty, migrated database with N synthetic organisations and N contacts
through `core.bulk`; otherwise the demo data already there is used.)
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from common import Result, percentile, print_table, setup_django, summary, time_runs

CITIES = ["Paris", "Lyon", "Lille", "Marseille", "Nantes", "Bordeaux", "Île-de-France", "Évry"]
PRODUCTS = ["Salesforce", "HubSpot", "Sage CRM", "SugarCRM"]
CRITERIA = [
    (
        "Salesforce installed",
        3,
        [{"field": "installed_products", "op": "any_of", "value": ["Salesforce"]}],
    ),
    ("PME or ETI", 2, [{"field": "size_class", "op": "in", "value": ["pme", "eti"]}]),
    ("not in Lille", 1, [{"field": "city", "op": "not_equals", "value": "Lille"}]),
    ("sales team 11–50", 2, [{"field": "sales_team_size", "op": "between", "value": [11, 50]}]),
    (
        "a sales director is known",
        2,
        [
            {"field": "contacts.function", "op": "in", "value": ["sales"]},
            {"field": "contacts.seniority", "op": "in", "value": ["director", "executive"]},
        ],
    ),
]


def load(count: int, seed: int = 5) -> None:
    """N organisations (with products on four in ten) and one contact each, through core.bulk."""
    from django.db import connection

    from cible.core.bulk import bulk_insert, refresh_statistics
    from cible.people.models import CompetitorProduct, Contact, Organisation
    from cible.people.normalise import band_for, size_class_for

    rng = random.Random(seed)
    products = [CompetitorProduct.objects.get_or_create(name=name)[0].pk for name in PRODUCTS]
    began = time.perf_counter()

    def organisations() -> Any:
        for i in range(1, count + 1):
            headcount = int(rng.lognormvariate(3, 1.6))
            band = band_for(headcount)
            yield (
                i,
                f"Org {i}",
                f"org {i}",
                rng.choice(CITIES),
                headcount,
                band,
                size_class_for(band),
                rng.randint(0, 40),
            )

    columns = ["id", "legal_name", "name_key", "city", "headcount", "headcount_band"]
    bulk_insert(Organisation, [*columns, "size_class", "sales_team_size"], organisations())
    through = Organisation.installed_products.through
    rows = ((i, rng.choice(products)) for i in range(1, count + 1) if rng.random() < 0.4)
    bulk_insert(through, ["organisation_id", "competitorproduct_id"], rows)
    functions = ["sales", "marketing", "it", "finance", "general_management"]
    seniorities = ["executive", "director", "manager", "individual"]
    contacts = (
        (f"Person {i}", f"person {i}", i, rng.choice(functions), rng.choice(seniorities))
        for i in range(1, count + 1)
    )
    bulk_insert(
        Contact, ["last_name", "name_key", "organisation_id", "function", "seniority"], contacts
    )
    refresh_statistics(Organisation, through, Contact)
    if connection.vendor == "postgresql":
        from cible.core.bulk import reset_sequences

        reset_sequences(Organisation)
    print(f"  loaded {count:,} organisations in {time.perf_counter() - began:.1f} s", flush=True)


def _raw_write(rows: list[tuple[int, int, int, str]]) -> float:
    """Seconds to write `rows` into an index-free twin of the fit-score table, raw driver."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_fit_twin")
        cursor.execute(
            "CREATE TABLE bench_fit_twin (profile_id bigint, organisation_id bigint, "
            "score smallint, matched text, computed_at timestamp)"
        )
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(
                "COPY bench_fit_twin (profile_id, organisation_id, score, matched) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                "INSERT INTO bench_fit_twin (profile_id, organisation_id, score, matched) "
                "VALUES (%s, %s, %s, %s)",
                rows,
            )
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_fit_twin")
    return seconds


def run(runs: int = 30) -> list[Result]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from cible.people.models import Organisation
    from cible.segments.profiles.compute import fit_scores_compute
    from cible.segments.profiles.models import FitScore, IdealCustomerProfile
    from cible.segments.profiles.refresh import fit_scores_refresh_for
    from cible.segments.profiles.services import profile_create

    admin = get_user_model().objects.filter(is_superuser=True).first()
    if admin is None:
        from cible.core.roles import Role
        from cible.people.services import user_create

        admin = user_create(username="bench-admin", password=None, role=Role.ADMIN)
        admin.is_superuser = True
        admin.save()
    IdealCustomerProfile.objects.filter(code="bench-conquest").delete()
    profile = profile_create(
        actor=admin,
        channel="cli",
        name="Bench conquest",
        code="bench-conquest",
        criteria=[
            {"label": label, "weight": weight, "rule": {"match": "all", "conditions": rule}}
            for label, weight, rule in CRITERIA
        ],
    )
    organisations = Organisation.objects.count()
    print(f"  {organisations:,} organisations", flush=True)
    results: list[Result] = []
    timings = []
    for attempt in (1, 2):
        began = time.perf_counter()
        done = fit_scores_compute(profile=profile, progress=lambda m: print(" ", m, flush=True))
        timings.append(time.perf_counter() - began)
        print(f"  run {attempt}: {timings[-1]:.1f} s for {done.rows:,} rows", flush=True)
    rows = list(
        FitScore.objects.filter(profile=profile).values_list(
            "profile_id", "organisation_id", "score", "matched"
        )
    )
    raw_rows = [(p, o, s, str(m)) for p, o, s, m in rows]
    raw = _raw_write(raw_rows)
    print(f"  raw write of the same rows: {raw:.1f} s", flush=True)
    for attempt, seconds in enumerate(timings, 1):
        results.append(
            Result(
                "profiles",
                f"fit scores of {organisations:,} organisations, run {attempt}",
                seconds,
                "s",
                raw,
                f"raw {'COPY' if connection.vendor == 'postgresql' else 'executemany'} of "
                f"the same {len(rows):,} rows into an index-free twin",
                "≤ 30 s at 1,000,000",
                seconds <= 30 * max(1.0, organisations / 1_000_000),
            )
        )
    some = list(Organisation.objects.order_by("?").values_list("pk", flat=True)[:runs])
    ids = iter(some * 10)
    refresh = time_runs(
        lambda: fit_scores_refresh_for(organisation_ids=[next(ids)], profiles=[profile]), runs
    )

    def read_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM people_organisation WHERE id = %s", [some[0]])
            cursor.fetchall()

    baseline = time_runs(read_one, runs)
    print(f"  refresh of one organisation: {summary(refresh)}", flush=True)
    results.append(
        Result(
            "profiles",
            "refresh of one organisation (5 criteria): p95",
            percentile(refresh, 95),
            "ms",
            percentile(baseline, 95),
            "raw primary-key read of one organisation, p95",
        )
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=int, default=0, metavar="N")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    if args.load:
        from cible.people.models import Organisation

        if Organisation.objects.exists():
            raise SystemExit("--load wants an empty database")
        load(args.load)
    print_table("ICP fit scores", run(args.runs))


if __name__ == "__main__":
    main()
