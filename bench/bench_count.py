"""Count of a two-filter organisation query through the selector vs the raw SQL count.

The selector is `people.selectors.organisation_list` (what the list page, the export and the API
use: query-string parsing, access policy, filters), then `.count()`, as the administrator.
Two queries: region + size class (a composite index matches), and sector + status.

Baseline, same run: the raw SQL `COUNT(*)` with the same two conditions. p50/p95 over ≥ 30 runs.
Target: ≤ 100 ms (p95). Standalone: CIBLE_DATABASE_URL=… python bench/bench_count.py.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from common import Result, admin_user, percentile, print_table, setup_django, time_runs

QUERIES = (
    ({"region": "FR-IDF", "size_class": "pme"}, "region = %s AND size_class = %s"),
    ({"naf_section": "J", "status": "prospect"}, "naf_section = %s AND status = %s"),
)


def run(runs: int = 30) -> tuple[list[Result], dict[str, Any]]:
    from django.db import connection

    from cible.people.selectors import organisation_list

    admin = admin_user()
    results: list[Result] = []
    details: dict[str, Any] = {}
    for params, where in QUERIES:
        counted: list[int] = []

        def through_selector(params: dict[str, str] = params, counted: list[int] = counted) -> None:
            qs, query = organisation_list(viewer=admin, params=params)
            assert not query.errors, query.errors
            counted.append(qs.count())

        def raw(
            params: dict[str, str] = params, where: str = where, counted: list[int] = counted
        ) -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT COUNT(*) FROM people_organisation WHERE {where}", list(params.values())
                )
                counted.append(cursor.fetchone()[0])

        timings = time_runs(through_selector, runs)
        raw_timings = time_runs(raw, runs)
        assert len(set(counted)) == 1, set(counted)
        label = " & ".join(f"{k}={v}" for k, v in params.items())
        p95 = percentile(timings, 95)
        print(
            f"  count {label:<34} = {counted[0]:>9,}"
            f"  selector p50 {statistics.median(timings):7.2f} ms"
            f"  p95 {p95:7.2f} ms; raw p95 {percentile(raw_timings, 95):7.2f} ms",
            flush=True,
        )
        results.append(
            Result(
                "count",
                f"count {label}: p95",
                p95,
                "ms",
                percentile(raw_timings, 95),
                "raw SQL COUNT(*) with the same conditions, p95",
                "≤ 100 ms",
                p95 <= 100,
            )
        )
        details[label] = {
            "rows": counted[0],
            "p50": statistics.median(timings),
            "p95": p95,
            "raw_p95": percentile(raw_timings, 95),
        }
    return results, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    results, _details = run(args.runs)
    print_table("Count of a two-filter query", results)


if __name__ == "__main__":
    main()
