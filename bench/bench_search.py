"""Global search (`cible.core.search.search`) by name prefix, email, SIREN and phone number.

Typed the way people type them: a name's first letters ("lefeb"), a full e-mail address, a SIREN
with spaces ("732 829 320"), a French number in national format ("01 23 45 67 89"). Each kind is
searched for 30+ different values taken at random from the demo data, as the administrator (who
sees everything, so the access policy adds no filter). p50/p95 per kind.

Baseline, same run: the raw indexed SQL lookup of the same values (p95).
Target: p95 ≤ 100 ms. Standalone: CIBLE_DATABASE_URL=… python bench/bench_search.py (demo loaded).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from common import Result, admin_user, percentile, print_table, setup_django


def national(e164: str) -> str:
    """+33123456789 -> "01 23 45 67 89"."""
    digits = "0" + e164.removeprefix("+33")
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def _samples(count: int, seed: int) -> dict[str, list[tuple[str, Any]]]:
    """(typed text, raw SQL parameter) per kind, from rows picked at random."""
    from django.db.models import Max, Min

    from cible.people.models import Contact, Organisation

    rng = random.Random(seed)
    bounds = Organisation.objects.aggregate(low=Min("id"), high=Max("id"))
    contact_bounds = Contact.objects.aggregate(low=Min("id"), high=Max("id"))

    def organisations(n: int, **filters: Any) -> list[Any]:
        picked: list[Any] = []
        while len(picked) < n:
            start = rng.randint(bounds["low"], bounds["high"])
            org = Organisation.objects.filter(id__gte=start, **filters).order_by("id").first()
            if org is not None:
                picked.append(org)
        return picked

    contacts = []
    while len(contacts) < count:
        start = rng.randint(contact_bounds["low"], contact_bounds["high"])
        contact = Contact.objects.filter(id__gte=start).exclude(email="").order_by("id").first()
        if contact is not None:
            contacts.append(contact)
    names = []
    for org in organisations(count):
        prefix = org.name_key[: rng.randint(4, 7)].strip()
        names.append((prefix, prefix))
    french = organisations(count, country="FR")
    return {
        "name prefix": names,
        "email": [(c.email, c.email.lower()) for c in contacts],
        "SIREN": [(f"{o.siren[:3]} {o.siren[3:6]} {o.siren[6:]}", o.siren) for o in french],
        "phone": [(national(o.phone), o.phone) for o in french],
    }


RAW_SQL = {
    "name prefix": (
        "SELECT id FROM people_organisation WHERE name_key >= %s AND name_key < %s "
        "ORDER BY name_key, id LIMIT 10"
    ),
    "email": "SELECT id FROM people_contact WHERE email_key = %s LIMIT 10",
    "SIREN": "SELECT id FROM people_organisation WHERE siren = %s LIMIT 10",
    "phone": "SELECT id FROM people_organisation WHERE phone = %s LIMIT 10",
}


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    value = action()
    return (time.perf_counter() - began) * 1000, value


def run(runs: int = 30, seed: int = 7) -> tuple[list[Result], dict[str, Any]]:
    from django.db import connection

    from cible.core.search import search

    admin = admin_user()
    samples = _samples(runs, seed)
    results: list[Result] = []
    details: dict[str, Any] = {}
    for kind, values in samples.items():
        for text, _param in values[:3]:  # warm-up
            search(admin, text)
        timings, raw_timings, found = [], [], 0
        for text, param in values:
            elapsed, hits = _timed(lambda text=text: search(admin, text))
            timings.append(elapsed)
            found += hits.total > 0
            params = [param, param + "\uffff"] if kind == "name prefix" else [param]

            def lookup(params: list[Any] = params, sql: str = RAW_SQL[kind]) -> Any:
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    return cursor.fetchall()

            raw_elapsed, _rows = _timed(lookup)
            raw_timings.append(raw_elapsed)
        p95 = percentile(timings, 95)
        print(
            f"  search by {kind:<12} p50 {statistics.median(timings):7.2f} ms  p95 {p95:7.2f} ms"
            f"  (found {found}/{len(values)}; raw p95 {percentile(raw_timings, 95):.2f} ms)",
            flush=True,
        )
        results.append(
            Result(
                "search",
                f"search by {kind}: p95",
                p95,
                "ms",
                percentile(raw_timings, 95),
                "raw indexed lookup of the same values, p95",
                "p95 ≤ 100 ms",
                p95 <= 100,
                note=f"typed like {values[0][0]!r}",
            )
        )
        details[kind] = {
            "p50": statistics.median(timings),
            "p95": p95,
            "found": found,
            "n": len(values),
            "raw_p95": percentile(raw_timings, 95),
        }
    return results, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    results, _details = run(args.runs)
    print_table("Global search", results)


if __name__ == "__main__":
    main()
