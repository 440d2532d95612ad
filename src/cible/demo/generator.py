"""The demo dataset generator: a registry of steps, one module per app, run in order.

Each app's contribution lives in its own module here (`people.py`, `pipeline.py`; later
`engagement.py`, `revenue.py` …) and registers a `Step` at import. A step reads what earlier steps
left in the `DemoContext` or in the database and writes its own rows, through the services for
the handful of users and teams and through `core.bulk` for everything that grows with the size.

Determinism: the same size and seed give the same rows. Each step draws from its own random
stream (`ctx.rng_for(name)`), so a step added later does not change what earlier steps produce.
Every date is an offset back from the start of `ctx.today` (UTC): a run on another day gives
the same rows shifted in time (same deals open, won and lost), and `generate(today=…)` pins them.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

# Modules that contribute steps; a later issue adds its own module to this list.
STEP_MODULES = (
    "cible.demo.people",
    "cible.demo.organisations",
    "cible.demo.duplicates",
    "cible.demo.pipeline",
    "cible.demo.consents",
    "cible.demo.freshness",
    "cible.demo.segments",
    "cible.demo.engagement",
    "cible.demo.scoring",
    "cible.demo.lifecycle",
    "cible.demo.nurture",
    "cible.demo.routing",
)

DEMO_PASSWORD = "demo-cible-2026"  # noqa: S105 - public by design, listed by `demo_logins`
# make_password(DEMO_PASSWORD, salt="cibledemo2026"), computed once: hashing costs ~0.4 s per call
# (PBKDF2, a million rounds) and the password is public anyway. Django re-hashes it at the first
# login if its hasher settings have moved on since.
DEMO_PASSWORD_HASH = (
    "pbkdf2_sha256$1000000$cibledemo2026$0rluwThCyIYNrM36Y991/8Y/YeMk853SekWZc5hREG0="  # noqa: S105
)


@dataclass(frozen=True)
class SizeSpec:
    name: str
    organisations: int
    contacts: int
    # Share of organisations worked by Sales over the two years (they get opportunities).
    opportunity_share: float


SIZES: dict[str, SizeSpec] = {
    "tiny": SizeSpec("tiny", 300, 1_000, 0.35),
    "small": SizeSpec("small", 2_000, 8_000, 0.25),
    "medium": SizeSpec("medium", 50_000, 150_000, 0.12),
    "1m": SizeSpec("1m", 1_000_000, 3_000_000, 0.06),
}

Progress = Callable[[str], None]


@dataclass
class DemoContext:
    """What the steps share: the seed, the size, the random streams, what was created so far."""

    seed: int
    size: SizeSpec
    rng: random.Random
    today: dt.date
    now: dt.datetime
    progress: Progress = print
    users: dict[str, Any] = field(default_factory=dict)  # username -> user
    users_by_role: dict[str, list[Any]] = field(default_factory=dict)
    teams: dict[str, Any] = field(default_factory=dict)  # name -> team
    products: dict[str, int] = field(default_factory=dict)  # installed product name -> id
    org_ids: range = range(0)
    contact_ids: range = range(0)
    counts: dict[str, int] = field(default_factory=dict)  # rows written per table label
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    shared: dict[str, Any] = field(default_factory=dict)  # anything a later step needs

    def rng_for(self, name: str) -> random.Random:
        """A random stream of its own for one step, derived from the seed."""
        return random.Random(f"{self.seed}:{name}")

    def count(self, label: str, rows: int) -> None:
        self.counts[label] = self.counts.get(label, 0) + rows

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Step:
    name: str
    order: int
    run: Callable[[DemoContext], None]
    description: str = ""


_steps: dict[str, Step] = {}


def register(step: Step) -> Step:
    """Add (or replace, by name) a step of the generator."""
    _steps[step.name] = step
    return step


def steps() -> list[Step]:
    for module in STEP_MODULES:
        importlib.import_module(module)
    return sorted(_steps.values(), key=lambda s: (s.order, s.name))


def refresh_statistics(ctx: DemoContext) -> None:
    """Last step: fresh planner statistics for every table the steps bulk-loaded."""
    from cible.core.bulk import refresh_statistics as refresh

    models = list(dict.fromkeys(ctx.shared.get("bulk_models", [])))
    if models:
        refresh(*models)


register(Step("statistics", 10_000, refresh_statistics, "planner statistics of the loaded tables"))


def database_is_empty() -> bool:
    """No business record yet (users alone, e.g. an administrator, do not count)."""
    from cible.people.models import Contact, Organisation
    from cible.pipeline.models import Opportunity

    return not (
        Organisation.objects.exists() or Contact.objects.exists() or Opportunity.objects.exists()
    )


def generate(
    size: str = "small",
    seed: int = 42,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> DemoContext:
    """Generate the demo dataset of `size` into the configured database."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}: one of {', '.join(SIZES)}")
    # Dates count back from the start of the (UTC) day: see the module docstring.
    today = today or timezone.now().astimezone(dt.UTC).date()
    ctx = DemoContext(
        seed=seed,
        size=SIZES[size],
        rng=random.Random(seed),
        today=today,
        now=dt.datetime.combine(today, dt.time(0), tzinfo=dt.UTC),
        progress=progress or (lambda message: None),
    )
    started = time.perf_counter()
    for step in steps():
        began = time.perf_counter()
        step.run(ctx)
        ctx.timings[step.name] = time.perf_counter() - began
    ctx.timings["total"] = time.perf_counter() - started
    return ctx


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s" if seconds > 0 else "-"
