"""Demo generation insert rate vs raw `executemany` (SQLite) / `COPY` (PostgreSQL) of the same rows.

1. `cible.demo.generator.generate(size)` into the (empty, migrated) database, timed end to end:
   users, Faker pools, row generation, derived fields, inserts, the pipeline's reads and status
   updates, planner statistics. Each `bulk_insert` call is also timed, per table.
2. Baseline: for each bulk-loaded table, an empty twin with the same columns, indexes and foreign
   keys; the rows just generated are read back in id order and written into the twin with a raw
   driver `executemany` in one transaction (SQLite) or `COPY … FROM STDIN` (PostgreSQL). Only the
   writes are timed. The twins are dropped afterwards.

Target: the demo's end-to-end rate within 3× of the raw rate.

Standalone: CIBLE_DATABASE_URL=… python bench/bench_demo.py --size small (empty database).
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from typing import Any

from common import Result, print_table, setup_django

READ_CHUNK = 50_000


def _instrument() -> dict[str, list[float]]:
    """Time every bulk_insert call of the demo steps, per table (rows, seconds)."""
    import importlib

    from cible.core import bulk
    from cible.demo.generator import STEP_MODULES

    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def timed(model: Any, columns: list[str], rows: Any, **kwargs: Any) -> int:
        began = time.perf_counter()
        written = bulk.bulk_insert(model, columns, rows, **kwargs)
        entry = totals[model._meta.db_table]
        entry[0] += written
        entry[1] += time.perf_counter() - began
        return written

    # Every step module that imported bulk_insert, so a new step is timed without editing this.
    for name in STEP_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "bulk_insert"):
            module.bulk_insert = timed
    return totals


def _twin_sqlite(cursor: Any, table: str, twin: str, *, indexes_after: bool = False) -> list[str]:
    """Create `twin` like `table`; its index statements, run now or returned for later."""
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table])
    (create,) = cursor.fetchone()
    cursor.execute(create.replace(f'"{table}"', f'"{twin}"', 1))
    cursor.execute(
        "SELECT name, sql FROM sqlite_master "
        "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        [table],
    )
    statements = []
    for name, sql in cursor.fetchall():
        sql = sql.replace(f'"{name}"', f'"raw_{name}"', 1)
        statements.append(re.sub(rf'ON "{table}"', f'ON "{twin}"', sql, count=1))
    return _now_or_later(cursor, statements, indexes_after)


def _twin_postgresql(
    cursor: Any, table: str, twin: str, *, indexes_after: bool = False
) -> list[str]:
    """Create `twin` like `table` (its primary key always at once); the statements of its
    other indexes and its foreign keys, run now or returned for later."""
    cursor.execute(f'CREATE TABLE "{twin}" (LIKE "{table}" INCLUDING ALL EXCLUDING INDEXES)')
    cursor.execute(f'ALTER TABLE "{twin}" ADD PRIMARY KEY (id)')
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p')",
        [table, table],
    )
    statements = []
    for name, definition in cursor.fetchall():
        definition = definition.replace(f"INDEX {name} ", f'INDEX "raw_{name}" ', 1)
        statements.append(re.sub(rf"ON (\w+\.)?{table} ", f'ON "{twin}" ', definition, count=1))
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    )
    for name, definition in cursor.fetchall():
        statements.append(f'ALTER TABLE "{twin}" ADD CONSTRAINT "raw_{name}" {definition}')
    return _now_or_later(cursor, statements, indexes_after)


def _now_or_later(cursor: Any, statements: list[str], later: bool) -> list[str]:
    if later:
        return statements
    for sql in statements:
        cursor.execute(sql)
    return []


def raw_baseline(tables: list[str], *, indexes_after: bool = False) -> dict[str, tuple[int, float]]:
    """Rows and seconds of raw writes of each table's rows into an identical empty twin.

    With `indexes_after`, the twin starts with its primary key only and its other indexes and
    foreign keys are built once the rows are in, and timed too: the cheapest raw way to land
    the same rows with the same indexes, as a very large import does (`core.indexes`).
    """
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection  # the driver's own connection: sqlite3 or psycopg
    vendor = connection.vendor
    figures: dict[str, tuple[int, float]] = {}
    for table in tables:
        twin = f"raw_{table}"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TABLE IF EXISTS "{twin}"')
            twin_of = _twin_postgresql if vendor == "postgresql" else _twin_sqlite
            later = twin_of(cursor, table, twin, indexes_after=indexes_after)
            cursor.execute(f'SELECT * FROM "{table}" LIMIT 0')
            columns = [c[0] for c in cursor.description]
        column_sql = ", ".join(f'"{c}"' for c in columns)
        read_sql = (
            f'SELECT {column_sql} FROM "{table}" WHERE id > %s ORDER BY id LIMIT {READ_CHUNK}'
        )
        if vendor == "sqlite":
            read_sql = read_sql.replace("%s", "?")
        insert_sql = f'INSERT INTO "{twin}" ({column_sql}) VALUES ({", ".join("?" * len(columns))})'
        rows_written, seconds, last_id = 0, 0.0, -1
        reader = raw.cursor()
        writer = raw.cursor()
        # One transaction for the whole table, as bulk_insert does.
        if vendor == "postgresql":
            transaction = raw.transaction()
            transaction.__enter__()
        else:
            writer.execute("BEGIN")
        while True:
            reader.execute(read_sql, [last_id])
            chunk = reader.fetchall()
            if not chunk:
                break
            last_id = chunk[-1][0]
            began = time.perf_counter()
            if vendor == "postgresql":
                with writer.copy(f'COPY "{twin}" ({column_sql}) FROM STDIN') as copy:
                    for row in chunk:
                        copy.write_row(row)
            else:
                writer.executemany(insert_sql, chunk)
            seconds += time.perf_counter() - began
            rows_written += len(chunk)
        began = time.perf_counter()
        if vendor == "postgresql":
            transaction.__exit__(None, None, None)
        else:
            raw.commit()
        seconds += time.perf_counter() - began
        built = _build_later(connection, later)
        seconds += built
        figures[table] = (rows_written, seconds)
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TABLE "{twin}"')
        print(
            f"  raw {table:<42}{rows_written:>10,} rows {seconds:8.2f} s"
            f"  {rows_written / seconds if seconds else 0:>10,.0f} rows/s"
            + (f" ({len(later)} indexes and keys after: {built:.1f} s)" if indexes_after else ""),
            flush=True,
        )
    return figures


def _build_later(connection: Any, statements: list[str]) -> float:
    """Seconds to run `statements` (index builds, keys) in one transaction, with the sort
    settings the import's own builds use on SQLite."""
    from django.db import transaction

    from cible.core.indexes import sqlite_sorter

    if not statements:
        return 0.0
    with sqlite_sorter(connection), connection.cursor() as cursor:
        began = time.perf_counter()
        with transaction.atomic():
            for sql in statements:
                cursor.execute(sql)
        return time.perf_counter() - began


def run(size: str = "small", seed: int = 42) -> tuple[list[Result], dict[str, Any]]:
    from cible.demo.generator import database_is_empty, generate

    if not database_is_empty():
        raise SystemExit("bench_demo needs an empty (migrated) database")
    per_table = _instrument()
    began = time.perf_counter()
    ctx = generate(size, seed, progress=lambda message: print(message, flush=True))
    total_seconds = time.perf_counter() - began
    bulk_rows = int(sum(rows for rows, _seconds in per_table.values()))
    print(
        f"  demo: {bulk_rows:,} bulk rows (+{ctx.total_rows - bulk_rows:,} other) in "
        f"{total_seconds:.1f} s; steps: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in ctx.timings.items() if k != "total"),
        flush=True,
    )

    raw = raw_baseline(list(per_table))
    raw_rows = sum(rows for rows, _seconds in raw.values())
    raw_seconds = sum(seconds for _rows, seconds in raw.values())
    # The tables also hold the rows later steps wrote through the services (a nurture step's
    # interactions, a routing step's transitions): the baseline writes those too, and rates
    # compare per row.
    assert raw_rows >= bulk_rows, (raw_rows, bulk_rows)
    demo_rate = bulk_rows / total_seconds
    raw_rate = raw_rows / raw_seconds
    results = [
        Result(
            "demo",
            f"demo generation, end to end ({bulk_rows:,} rows)",
            demo_rate,
            "rows/s",
            raw_rate,
            "raw executemany/COPY of the same rows into identical tables",
            "≤ 3× raw",
            demo_rate * 3 >= raw_rate,
        ),
    ]
    for table, (rows, seconds) in per_table.items():
        raw_table_rows, raw_table_seconds = raw[table]
        results.append(
            Result(
                "demo",
                f"  bulk_insert into {table}",
                rows / seconds,
                "rows/s",
                raw_table_rows / raw_table_seconds,
                "",
                "",
            )
        )
    details = {
        "size": size,
        "seed": seed,
        "seconds": total_seconds,
        "bulk_rows": bulk_rows,
        "timings": ctx.timings,
        "counts": ctx.counts,
        "raw": {t: {"rows": r, "seconds": s} for t, (r, s) in raw.items()},
        "bulk": {t: {"rows": r, "seconds": s} for t, (r, s) in per_table.items()},
    }
    return results, details


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    setup_django()
    results, _details = run(args.size, args.seed)
    print_table("Demo generation vs raw inserts", results)


if __name__ == "__main__":
    main()
