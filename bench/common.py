"""Shared helpers of the benchmarks: Django set-up from the environment, timing, tables.

Every figure is printed beside a baseline measured in the same run on the same database (these
machines are noisy; only ratios are stable), as a `Result`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """Configure Django from CIBLE_DATABASE_URL / CIBLE_VAR_DIR (set by run_all.py or by hand).

    run_all.py points CIBLE_BENCH_SRC at a snapshot of src/ taken when it started, so that a
    run of half an hour measures one version of the code even if the tree changes meanwhile.
    """
    sys.path.insert(0, os.environ.get("CIBLE_BENCH_SRC") or str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cible.settings")
    import django

    django.setup()
    from django.urls import get_resolver

    # Import every view now: fail in seconds, not after a load of several minutes.
    assert get_resolver().url_patterns


@dataclass
class Result:
    bench: str
    name: str
    value: float
    unit: str  # "ms" (lower is better) or "rows/s" (higher is better)
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """How many times worse than the baseline (>1 means slower)."""
        if not self.baseline or not self.value:
            return None
        if self.unit == "rows/s":
            return self.baseline / self.value
        return self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 30 runs is the 29th fastest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def time_runs(action: Callable[[], Any], runs: int, warmup: int = 3) -> list[float]:
    """Milliseconds of each of `runs` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        action()
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        action()
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def summary(timings: list[float]) -> str:
    return (
        f"p50 {statistics.median(timings):7.2f} ms  p95 {percentile(timings, 95):7.2f} ms  "
        f"max {max(timings):7.2f} ms  (n={len(timings)})"
    )


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "rows/s":
        return f"{value:,.0f} rows/s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "s":
        return f"{value:,.1f} s"
    if unit == "share":  # precision, recall: a share between 0 and 1
        return f"{value:.3f}"
    return f"{value:,.2f} ms"


def print_table(title: str, results: list[Result]) -> None:
    print(f"\n{title}")
    header = f"  {'measure':<46}{'figure':>18}{'baseline':>18}{'ratio':>8}  target"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for r in results:
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else "-"
        verdict = "" if r.met is None else ("ok" if r.met else "MISSED")
        print(
            f"  {r.name:<46}{fmt(r.value, r.unit):>18}{fmt(r.baseline, r.unit):>18}{ratio:>8}"
            f"  {r.target} {verdict}".rstrip()
        )
        if r.baseline_name:
            print(f"  {'':<46}{'baseline: ' + r.baseline_name}")
    sys.stdout.flush()


def admin_user() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


def admin_or_create() -> Any:
    """An administrator to act as: the demo's, or one made for the benchmark."""
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.filter(is_superuser=True).first()
    if admin is None:
        from cible.core.roles import Role
        from cible.people.services import user_create

        admin = user_create(username="bench-admin", password=None, role=Role.ADMIN)
        admin.is_superuser = True
        admin.save()
    return admin
