"""Run every benchmark on SQLite and/or PostgreSQL and write bench/RESULTS.md.

    python bench/run_all.py --size 1m --db both      # make bench
    python bench/run_all.py --size small --db sqlite # make bench-quick

For each database: a fresh one (a temporary SQLite file, or a temporary PostgreSQL server started
by bench/pg.py), `migrate`, then in one worker process: bench_demo (generation vs raw inserts;
its segments step rebuilds the segments and scores the ICPs), bench_lists, bench_search,
bench_count, bench_duplicates, bench_quality, bench_segments (target counts, incremental
membership, full rebuilds), bench_crosstab, bench_profiles (ICP fit scores), then bench_import
(in a child process, on a fresh database of the same kind). Every figure is printed beside its
baseline measured in the same run, with the ratio. The 1m size writes bench/RESULTS.md (a "Notes"
section written by hand is kept); other sizes write bench/output/RESULTS-<size>.md unless
--output says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, Result, fmt, print_table

BENCH = Path(__file__).resolve().parent
# Rows of the organisation file bench_import imports, per size.
IMPORT_ROWS = {"tiny": 10_000, "small": 10_000, "medium": 100_000, "1m": 1_000_000}
NOTES_MARKER = "<!-- notes: everything below is kept by run_all.py -->"


# --- worker: one database, all benchmarks ----------------------------------------------------


def worker(args: argparse.Namespace) -> None:
    from common import setup_django

    setup_django()
    import bench_count
    import bench_crosstab
    import bench_demo
    import bench_duplicates
    import bench_import
    import bench_lists
    import bench_profiles
    import bench_quality
    import bench_search
    import bench_segments
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
    print(f"\n=== {args.db}: {version}, size {args.size} ===", flush=True)
    output: dict[str, Any] = {"db": args.db, "version": version, "results": [], "details": {}}
    stages = (
        ("demo", lambda: bench_demo.run(args.size, args.seed)),
        ("lists", lambda: bench_lists.run(args.runs)),
        ("search", lambda: bench_search.run(args.runs)),
        ("count", lambda: bench_count.run(args.runs)),
        ("duplicates", bench_duplicates.run),
        ("quality", lambda: bench_quality.run(args.runs)),
        # Issue 5. The rebuild from an empty membership table comes last in bench_segments and
        # leaves the memberships whole (and analysed) for the cross-tab.
        ("segments", lambda: bench_segments.run(args.runs)),
        ("crosstab", lambda: bench_crosstab.run(args.runs)),
        ("profiles", lambda: (bench_profiles.run(args.runs), {})),
        # In a process and a database of its own: an empty base, and its own memory peak.
        ("import", lambda: bench_import.run(IMPORT_ROWS[args.size], args.seed)),
    )
    for name, stage in stages:
        print(f"\n--- {name} ---", flush=True)
        began = time.perf_counter()
        results, details = stage()
        output["results"].extend(r.as_dict() for r in results)
        output["details"][name] = details
        print_table(f"{name} on {args.db}", results)
        print(f"  ({time.perf_counter() - began:.1f} s)", flush=True)
    Path(args.json).write_text(json.dumps(output, indent=2, default=str))


# --- parent: databases, machine, report --------------------------------------------------------


def _run_worker(
    db: str, env: dict[str, str], args: argparse.Namespace, out: Path
) -> dict[str, Any]:
    command = [
        sys.executable,
        str(BENCH / "run_all.py"),
        "--worker",
        "--db",
        db,
        "--size",
        args.size,
        "--seed",
        str(args.seed),
        "--runs",
        str(args.runs),
        "--json",
        str(out),
    ]
    subprocess.run(command, env=env, check=True, cwd=ROOT)
    return json.loads(out.read_text())


def run_database(db: str, args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix=f"cible-bench-{db}."))
    try:
        env = dict(os.environ)
        env["CIBLE_VAR_DIR"] = str(directory / "var")
        env["CIBLE_TASKS_IMMEDIATE"] = "1"
        out = directory / "results.json"
        if db == "sqlite":
            env["CIBLE_DATABASE_URL"] = f"sqlite:///{directory / 'bench.sqlite3'}"
            return _run_worker(db, env, args, out)
        from pg import temporary_postgres

        with temporary_postgres() as url:
            env["CIBLE_DATABASE_URL"] = url
            return _run_worker(db, env, args, out)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def machine() -> dict[str, str]:
    memory = ""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    try:
        from pg import server_version

        postgres = server_version()
    except SystemExit:
        postgres = "not installed"
    date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    return {
        "date": date,
        "cpus": str(os.cpu_count()),
        "cpu model": _cpu_model(),
        "memory": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": postgres,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _row(r: dict[str, Any]) -> str:
    ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else "–"
    verdict = "" if r["met"] is None else ("✅ met" if r["met"] else "❌ **missed**")
    target = f"{r['target']} {verdict}".strip()
    baseline = fmt(r["baseline"], r["unit"]) if r["baseline"] is not None else "–"
    name = r["name"].replace("|", "\\|") + (f" ({r['note']})" if r.get("note") else "")
    if r["baseline_name"]:
        baseline = f"{baseline} ({r['baseline_name']})"
    return f"| {name} | {fmt(r['value'], r['unit'])} | {baseline} | {ratio} | {target} |"


def report(
    args: argparse.Namespace,
    info: dict[str, str],
    runs: list[dict[str, Any]],
    load_after: str,
    seconds: float,
) -> str:
    from pg import SERVER_SETTINGS

    lines = [
        "# Benchmark results",
        "",
        f"Written by `python bench/run_all.py --size {args.size} --db {args.db}` "
        f"({'`make bench`' if args.size == '1m' else '`make bench-quick`'}). Each figure is "
        "measured beside a baseline taken in the same run on the same database, and the ratio "
        "is what to compare between runs: these machines are shared and noisy.",
        "",
        f"- **Date**: {info['date']}",
        f"- **Machine**: {info['cpus']} CPUs ({info['cpu model']}), {info['memory']} RAM; "
        f"load average {info['load']} at the start, {load_after} at the end "
        "(other jobs share the machine)",
        f"- **Software**: Python {info['python']}, SQLite {info['sqlite']} (WAL, "
        "synchronous=NORMAL, as in settings.py), "
        f"{info['postgres']} (" + ", ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items()) + ")",
        f"- **Size**: `{args.size}`, seed {args.seed}; {args.runs} timed runs per latency figure "
        f"(after 3 warm-up runs); whole run {seconds / 60:.1f} min",
        "",
    ]
    for run in runs:
        demo = run["details"]["demo"]
        counts = demo["counts"]
        lines += [
            f"## {run['version']}",
            "",
            f"Demo generation: {demo['seconds']:.1f} s for "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items())
            + "; steps: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in demo["timings"].items() if k != "total")
            + ".",
            "",
            "| measure | figure | baseline (same run) | ratio | target |",
            "|---|---|---|---|---|",
            *(_row(r) for r in run["results"]),
            "",
        ]
        lists = run["details"]["lists"]
        for page in ("page_1", "page_50"):
            slow = lists[page]["slowest_queries"]
            if slow:
                lines.append(
                    f"List {page.replace('_', ' ')}: {lists[page]['queries']} queries; slowest "
                    f"{slow[0]['ms']:.1f} ms: `{slow[0]['sql'][:200]}`"
                )
                lines.append("")
    missed = [(run["db"], r) for run in runs for r in run["results"] if r["met"] is False]
    lines += ["## Targets", ""]
    if missed:
        lines += [
            f"- ❌ {db}: {r['name'].strip()} = {fmt(r['value'], r['unit'])} (target {r['target']})"
            for db, r in missed
        ]
    else:
        lines.append("- ✅ every target met in this run")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["tiny", "small", "medium", "1m"])
    parser.add_argument("--db", default="both", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--output", help="report path (default: RESULTS.md for 1m)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.runs < 30:
        parser.error("--runs must be at least 30 (p95 needs them)")
    began = time.perf_counter()
    info = machine()
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    snapshot = Path(tempfile.mkdtemp(prefix="cible-bench-src."))
    try:
        shutil.copytree(
            ROOT / "src" / "cible",
            snapshot / "cible",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        os.environ["CIBLE_BENCH_SRC"] = str(snapshot)
        runs = [run_database(db, args) for db in databases]
    finally:
        shutil.rmtree(snapshot, ignore_errors=True)
    load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
    for run in runs:
        print_table(f"{run['version']}", [_result(r) for r in run["results"]])
    output = (
        Path(args.output)
        if args.output
        else (
            BENCH / "RESULTS.md"
            if args.size == "1m"
            else BENCH / "output" / f"RESULTS-{args.size}.md"
        )
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    text = report(args, info, runs, load_after, time.perf_counter() - began)
    if output.exists() and NOTES_MARKER in output.read_text():
        text += "\n" + NOTES_MARKER + output.read_text().split(NOTES_MARKER, 1)[1]
    else:
        text += "\n" + NOTES_MARKER + "\n"
    output.write_text(text)
    print(f"\nwritten {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")


def _result(data: dict[str, Any]) -> Result:
    fields = {k: v for k, v in data.items() if k != "ratio"}
    return Result(**fields)


if __name__ == "__main__":
    main()
