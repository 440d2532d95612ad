"""Segments and targets (issue 5) on the demo base, each figure beside a raw SQL baseline measured
in the same run:

1. Count of a target combining three axes and two field conditions, through
   `targets.selectors.target_count` as the administrator (definition parsing, access policy,
   the database's deadline) — target p95 ≤ 50 ms. Two definitions: seed 002's (Salesforce,
   sales team 11–20 or > 20, Lille or Paris; suspects and prospects of 20 people or more) and a
   broad one (PME or ETI, no CRM, any target sector; not customers, 4–20 salespeople), plus seed
   002's contact-level target (informative). Baseline: the same count in raw SQL, the best plan
   written by hand (the smallest axis's members from the covering index, probes of the other
   axes on the (organisation, segment) index, then the organisation rows), whose result must be
   equal. The cost of such a count grows with the members of the smallest axis of the target.
2. Incremental membership update after editing one organisation: `people.services.
   organisation_update` changing its sales-team size (it moves between segments), the axes
   app's refresh of every rule segment timed around it (`membership_refresh_for`, called by the
   receivers inside the save) — target ≤ 20 ms (p95) — and the whole service call. Baseline: a
   raw `UPDATE` of the same column by primary key.
3. Full rebuild of every rule segment (`membership_rebuild`, ≥ 25 segments over 5 axes) — target
   ≤ 60 s — twice: over the current memberships (after an import: nothing or little changes) and
   from an empty membership table (the worst case). Baseline: a raw `INSERT … SELECT` copy of
   the same membership rows into an empty twin table with the same indexes.

Needs the demo dataset; when the membership table is empty the segments are rebuilt first.
Standalone: CIBLE_DATABASE_URL=… python bench/bench_segments.py [--runs 30] [--stages counts,…].
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from common import Result, admin_user, percentile, print_table, setup_django, summary, time_runs

COUNT_TARGET_MS = 50
REFRESH_TARGET_MS = 20
REBUILD_TARGET_S = 60

# (label, definition by segment codes, organisation rule, hand-written WHERE of the raw count)
SEED_002 = (
    "seed 002: Salesforce × 11–20|>20 × Lille|Paris, suspect|prospect, headcount ≥ 20",
    {
        "installed-crm": ["salesforce"],
        "sales-team": ["11-20", "over-20"],
        "geography": ["lille", "paris"],
    },
    {
        "match": "all",
        "conditions": [
            {"field": "status", "op": "in", "value": ["suspect", "prospect"]},
            {"field": "headcount", "op": "gte", "value": 20},
        ],
    },
    "o.status IN ('suspect', 'prospect') AND o.headcount >= 20",
)
BROAD = (
    "broad: PME|ETI × no CRM × any target sector, not customers, 4–20 salespeople",
    {"size": ["pme", "eti"], "installed-crm": ["no-crm"], "target-sectors": None},
    {
        "match": "all",
        "conditions": [
            {"field": "status", "op": "in", "value": ["suspect", "prospect"]},
            {"field": "sales_team_size", "op": "between", "value": [4, 20]},
        ],
    },
    "o.status IN ('suspect', 'prospect') AND o.sales_team_size BETWEEN 4 AND 20",
)
CONTACTS = (
    "seed 002 contacts: Lille|Paris × 11–20|>20 × Salesforce, sales directors",
    {
        "geography": ["lille", "paris"],
        "sales-team": ["11-20", "over-20"],
        "installed-crm": ["salesforce"],
    },
    {
        "match": "all",
        "conditions": [
            {"field": "function", "op": "in", "value": ["sales"]},
            {"field": "seniority", "op": "in", "value": ["director", "executive"]},
        ],
    },
    "",
)


def _ensure_memberships() -> None:
    from cible.segments.axes.models import Membership
    from cible.segments.axes.services import membership_rebuild

    if not Membership.objects.exists():
        print("  rebuilding the rule segments first (empty membership table)", flush=True)
        membership_rebuild(channel="cli")


def _segments(wanted: dict[str, list[str] | None]) -> dict[str, list[int]]:
    from cible.segments.axes.models import Segment

    found = {}
    for axis, codes in wanted.items():
        segments = Segment.objects.filter(axis__code=axis)
        if codes is not None:
            segments = segments.filter(code__in=codes)
        found[axis] = sorted(segments.values_list("pk", flat=True))
        assert found[axis], f"no segment {codes} on axis {axis}: the seeded axes are needed"
    return found


def _probes(segments: list[list[int]], column: str) -> str:
    return "".join(
        " AND EXISTS (SELECT 1 FROM segments_membership m WHERE m.organisation_id = "
        f"{column} AND m.segment_id IN ({', '.join(map(str, ids))}))"
        for ids in segments
    )


def _by_size(segments: dict[str, list[int]]) -> list[list[int]]:
    """The axes' segment ids, the axis with the fewest members first (the driver)."""
    from cible.segments.axes.models import Segment

    sizes = dict(Segment.objects.values_list("pk", "member_count"))
    return sorted(segments.values(), key=lambda ids: sum(sizes.get(i, 0) for i in ids))


def _raw_count_sql(segments: dict[str, list[int]], where: str) -> str:
    """The best plan written by hand: the members of the smallest axis's segments (a covering
    index range), probes of the other axes on the (organisation, segment) index, then the
    organisation row for the field conditions."""
    driver, *others = _by_size(segments)
    return (
        "SELECT COUNT(*) FROM segments_membership v JOIN people_organisation o "
        f"ON o.id = v.organisation_id WHERE v.segment_id IN ({', '.join(map(str, driver))})"
        f"{_probes(others, 'v.organisation_id')} AND {where}"
    )


def _contact_raw_sql(segments: dict[str, list[int]]) -> str:
    driver, *others = _by_size(segments)
    return (
        "SELECT COUNT(*) FROM segments_membership v JOIN people_contact c "
        "ON c.organisation_id = v.organisation_id WHERE v.segment_id IN "
        f"({', '.join(map(str, driver))}){_probes(others, 'v.organisation_id')} "
        "AND c.function = 'sales' AND c.seniority IN ('director', 'executive') "
        "AND c.anonymised_at IS NULL"
    )


def _raw(sql: str, params: list[Any] | None = None, *, fetch: bool = True) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall() if fetch else cursor.rowcount


# --- 1. counts -------------------------------------------------------------------------------


def _cold_count(count: Callable[[], None]) -> float:
    """Milliseconds of a count in a process that holds no member set nor column yet."""
    from cible.segments.axes import bitsets
    from cible.segments.targets import columns

    bitsets.forget()
    columns.forget()
    began = time.perf_counter()
    count()
    return (time.perf_counter() - began) * 1000


def _count_after_edit(count: Callable[[], None], runs: int) -> list[float]:
    """Milliseconds of counts each right after a raw write of one organisation (the kept
    columns read the change log and that row again; the write itself is not timed). It writes
    a city over itself: logged like any edit, and the count stays comparable to the raw one."""
    from django.db import connection

    table = connection.ops.quote_name("people_organisation")
    timings = []
    for run in range(runs):
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET city = city WHERE id = %s", [1 + run * 7919])
        began = time.perf_counter()
        count()
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def bench_counts(runs: int, admin: Any) -> tuple[list[Result], dict[str, Any]]:
    from cible.segments.targets.selectors import target_count

    results: list[Result] = []
    details: dict[str, Any] = {}
    for label, wanted, rule, where in (SEED_002, BROAD, CONTACTS):
        segments = _segments(wanted)
        contact_level = not where
        definition = {
            "segments": segments,
            "organisation": None if contact_level else rule,
            "contact": rule if contact_level else None,
        }
        level = "contact" if contact_level else "organisation"
        counted: list[int | None] = []

        def through_selector(
            definition: dict[str, Any] = definition,
            level: str = level,
            counted: list[int | None] = counted,
        ) -> None:
            counted.append(target_count(viewer=admin, definition=definition, level=level).count)

        sql = _contact_raw_sql(segments) if contact_level else _raw_count_sql(segments, where)
        raw_counts: list[int] = []

        def raw(sql: str = sql, raw_counts: list[int] = raw_counts) -> None:
            raw_counts.append(_raw(sql)[0][0])

        raw_timings = time_runs(raw, runs)
        cold = _cold_count(through_selector)
        timings = time_runs(through_selector, runs)
        after_edit = _count_after_edit(through_selector, runs)
        assert None not in counted, f"{label}: the count gave up (timeout)"
        # Contacts: the selector also applies the access policy's contact rules; equal here for
        # the administrator, who sees everything.
        assert set(counted) == set(raw_counts), (label, set(counted), set(raw_counts))
        p95, raw_p95 = percentile(timings, 95), percentile(raw_timings, 95)
        print(
            f"  count {label}\n    = {counted[0]:,}: {summary(timings)}; raw p95 {raw_p95:.2f} ms"
            f"\n    first count of a fresh process (sets and columns read) {cold:.0f} ms; "
            f"right after an edit of one organisation: {summary(after_edit)}",
            flush=True,
        )
        targeted = not contact_level
        results.append(
            Result(
                "segments",
                f"target count, {label}: p95",
                p95,
                "ms",
                raw_p95,
                "raw SQL COUNT(*) of the same selection, best plan by hand, p95",
                f"≤ {COUNT_TARGET_MS} ms" if targeted else "",
                p95 <= COUNT_TARGET_MS if targeted else None,
                note=f"{counted[0]:,} {level}s",
            )
        )
        details[label] = {
            "count": counted[0],
            "p50": statistics.median(timings),
            "p95": p95,
            "raw_p95": raw_p95,
        }
    return results, details


# --- 2. incremental update -------------------------------------------------------------------


def bench_incremental(runs: int, admin: Any) -> tuple[list[Result], dict[str, Any]]:
    from cible.people.models import Organisation
    from cible.people.services import organisation_update
    from cible.segments.axes import services as axes_services
    from cible.segments.axes.models import Membership, Segment

    rng = random.Random(5)
    top = Organisation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    chosen: list[int] = []
    while len(chosen) < runs + 3:
        found = (
            Organisation.objects.filter(pk__gte=rng.randint(1, top), sales_team_size__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if found is not None and found not in chosen:
            chosen.append(found)
    organisations = {o.pk: o for o in Organisation.objects.filter(pk__in=chosen)}
    refreshes: list[float] = []
    real = axes_services.membership_refresh_for

    def timed_refresh(**kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return real(**kwargs)
        finally:
            refreshes.append((time.perf_counter() - began) * 1000)

    ids = iter(chosen)
    moves: list[tuple[int, int]] = []

    def edit() -> None:
        organisation = organisations[next(ids)]
        # 15 ↔ 25: from "11–20" to "more than 20" and back, a real change of segment
        size = 25 if (organisation.sales_team_size or 0) <= 20 else 15
        organisation_update(
            organisation=organisation,
            actor=admin,
            channel="cli",
            data={"sales_team_size": size},
        )
        moves.append((organisation.pk, size))

    axes_services.membership_refresh_for = timed_refresh  # the receivers look it up per call
    try:
        totals = time_runs(edit, runs)
    finally:
        axes_services.membership_refresh_for = real
    # one refresh per save (the receivers), warm-up saves included
    assert len(refreshes) == len(moves), (len(refreshes), len(moves))
    refreshes = refreshes[-runs:]
    team = {s.code: s.pk for s in Segment.objects.filter(axis__code="sales-team")}
    for organisation_id, size in moves:
        expected = team["over-20"] if size > 20 else team["11-20"]
        assert Membership.objects.filter(
            organisation_id=organisation_id, segment_id=expected
        ).exists(), (organisation_id, size)
    rule_segments = Segment.objects.filter(kind="rule").count()
    some = chosen[0]
    sizes = iter([25, 15] * (runs + 3))
    raw_timings = time_runs(
        lambda: _raw(
            "UPDATE people_organisation SET sales_team_size = %s WHERE id = %s",
            [next(sizes), some],
            fetch=False,
        ),
        runs,
    )
    refresh_p95, total_p95 = percentile(refreshes, 95), percentile(totals, 95)
    raw_p95 = percentile(raw_timings, 95)
    print(
        f"  membership refresh after one edit ({rule_segments} rule segments): "
        f"{summary(refreshes)}\n  whole organisation_update: {summary(totals)}; "
        f"raw UPDATE p95 {raw_p95:.2f} ms",
        flush=True,
    )
    results = [
        Result(
            "segments",
            f"membership refresh after editing one organisation ({rule_segments} rule segments): "
            "p95",
            refresh_p95,
            "ms",
            raw_p95,
            "raw UPDATE of the same column by primary key, p95",
            f"≤ {REFRESH_TARGET_MS} ms",
            refresh_p95 <= REFRESH_TARGET_MS,
        ),
        Result(
            "segments",
            "whole organisation_update of that edit (audit, segments, fit scores): p95",
            total_p95,
            "ms",
            raw_p95,
            "raw UPDATE of the same column by primary key, p95",
        ),
    ]
    details = {
        "rule_segments": rule_segments,
        "refresh_p50": statistics.median(refreshes),
        "refresh_p95": refresh_p95,
        "update_p50": statistics.median(totals),
        "update_p95": total_p95,
        "raw_p95": raw_p95,
    }
    return results, details


# --- 3. full rebuild -------------------------------------------------------------------------


def _raw_copy_seconds() -> tuple[int, float]:
    """Rows and seconds of a raw INSERT … SELECT of every membership row into an empty twin
    with the same indexes (bench_demo's twins)."""
    from bench_demo import _twin_postgresql, _twin_sqlite
    from django.db import connection, transaction

    table, twin = "segments_membership", "raw_segments_membership"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE IF EXISTS "{twin}"')
        (_twin_postgresql if connection.vendor == "postgresql" else _twin_sqlite)(
            cursor, table, twin
        )
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{twin}" SELECT * FROM "{table}"')
        rows = cursor.rowcount
    seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TABLE "{twin}"')
    return rows, seconds


def bench_rebuild() -> tuple[list[Result], dict[str, Any]]:
    from django.db import connection

    from cible.core.bulk import refresh_statistics
    from cible.segments.axes.models import Axis, Membership, Segment
    from cible.segments.axes.services import membership_rebuild

    rule_segments = Segment.objects.filter(kind="rule", axis__is_active=True).count()
    axes = Axis.objects.filter(segments__kind="rule").distinct().count()
    say: Callable[[str], None] = lambda message: None  # noqa: E731
    results: list[Result] = []
    details: dict[str, Any] = {"rule_segments": rule_segments, "axes": axes}
    figures = {}
    for case in ("over the current memberships", "from an empty membership table"):
        if case.startswith("from an empty"):
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM segments_membership")
        began = time.perf_counter()
        run = membership_rebuild(channel="cli", progress=say)
        figures[case] = time.perf_counter() - began
        print(
            f"  full rebuild {case}: {run.segments_done} segments, +{run.rows_added:,} "
            f"−{run.rows_removed:,} rows, {figures[case]:.1f} s",
            flush=True,
        )
        details[case] = {
            "seconds": figures[case],
            "added": run.rows_added,
            "removed": run.rows_removed,
        }
    memberships = Membership.objects.count()
    refresh_statistics(Membership)  # as after the demo's load; not timed
    rows, raw_seconds = _raw_copy_seconds()
    print(f"  raw copy of the {rows:,} membership rows: {raw_seconds:.1f} s", flush=True)
    for case, seconds in figures.items():
        results.append(
            Result(
                "segments",
                f"full rebuild of {rule_segments} rule segments over {axes} axes, {case}",
                seconds,
                "s",
                raw_seconds,
                f"raw INSERT … SELECT of the same {memberships:,} membership rows into an "
                "empty twin with the same indexes",
                f"≤ {REBUILD_TARGET_S} s",
                seconds <= REBUILD_TARGET_S,
            )
        )
    details["memberships"] = memberships
    details["raw_seconds"] = raw_seconds
    return results, details


STAGES = ("counts", "incremental", "rebuild")


def run(runs: int = 30, stages: tuple[str, ...] = STAGES) -> tuple[list[Result], dict[str, Any]]:
    _ensure_memberships()
    admin = admin_user()
    results: list[Result] = []
    details: dict[str, Any] = {}
    for name, stage in (
        ("counts", lambda: bench_counts(runs, admin)),
        ("incremental", lambda: bench_incremental(runs, admin)),
        ("rebuild", bench_rebuild),
    ):
        if name not in stages:
            continue
        found, more = stage()
        results.extend(found)
        details[name] = more
    return results, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help=f"comma-separated, among {', '.join(STAGES)} (default: all)",
    )
    args = parser.parse_args()
    stages = tuple(name.strip() for name in args.stages.split(",") if name.strip())
    if unknown := set(stages) - set(STAGES):
        parser.error(f"unknown stage(s): {', '.join(sorted(unknown))}")
    setup_django()
    results, _details = run(args.runs, stages)
    print_table("Segments and targets", results)


if __name__ == "__main__":
    main()
