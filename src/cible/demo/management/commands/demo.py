"""`cible demo`: generate the demo dataset into the configured database, then return."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cible.demo.generator import SIZES, database_is_empty, generate, rate


class Command(BaseCommand):
    help = (
        "Generate the demo dataset (a French software publisher's CRM: organisations, contacts, "
        "users in every role, two years of opportunities) into the configured database. "
        "Deterministic for a given --size and --seed. It does not serve: see `cible serve`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size",
            choices=list(SIZES),
            default="small",
            help="small: ~2,000 organisations (seconds); medium: ~50,000; 1m: 1,000,000 "
            "organisations and 3,000,000 contacts (minutes); tiny: ~300, for tests.",
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        existing = parser.add_mutually_exclusive_group()
        existing.add_argument(
            "--if-empty",
            action="store_true",
            help="if the database already holds data, say so and do nothing (exit code 0)",
        )
        existing.add_argument(
            "--force",
            action="store_true",
            help="add the demo dataset even though the database already holds data",
        )

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        size, seed = options["size"], options["seed"]
        if not database_is_empty():
            if options["if_empty"]:
                self.say("The database already holds data: the demo dataset was not added.")
                return
            if not options["force"]:
                raise CommandError(
                    "The database already holds organisations, contacts or opportunities; the demo "
                    "dataset is only added to an empty database. Use --force to add it anyway, "
                    "or --if-empty to skip quietly."
                )
        spec = SIZES[size]
        self.say(
            f"Generating the {size} demo dataset (seed {seed}): {spec.organisations:,} "
            f"organisations, about {spec.contacts:,} contacts."
        )
        ctx = generate(size, seed, progress=self.say)
        self.say("")
        self.say(f"{'rows written':<28}{'rows':>12}")
        for label, rows in ctx.counts.items():
            self.say(f"  {label:<26}{rows:>12,}")
        self.say(f"  {'total':<26}{ctx.total_rows:>12,}")
        self.say("")
        self.say(f"{'step':<28}{'seconds':>12}")
        for name, seconds in ctx.timings.items():
            if name != "total":
                self.say(f"  {name:<26}{seconds:>12.2f}")
        total = ctx.timings["total"]
        self.say(f"  {'total':<26}{total:>12.2f}   ({rate(ctx.total_rows, total)})")
        customers = ctx.shared.get("customers", 0)
        self.say(
            f"\n{customers:,} organisations became customers. `cible demo_logins` lists the logins."
        )
