"""`cible worker`: the background task consumer (Huey) — imports, rescoring, SLA sweeps, nurture
steps and email sending, and the periodic tasks that drive them.

The queue is the SQLite file next to the database by default, or Redis when `CIBLE_REDIS_URL` is
set (then run as many workers, on as many machines, as the load needs). `cible serve` starts one
beside the web server unless told `--no-worker`.

A worker killed in the middle of a task loses nothing: every task is a service whose work
commits in transactions of its own (a nurture chunk, an email batch, an import batch), so the
next worker starts again from the last commit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


def queue_description() -> str:
    huey = settings.HUEY
    if "url" in huey:
        return f"Redis {huey['url']}"
    return f"SQLite {huey.get('filename', '')}"


class Command(BaseCommand):
    help = "Run Cible's background task consumer (Huey), with the periodic tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--threads", type=int, default=2, help="Tasks run at the same time (default 2)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        threads = max(1, options["threads"])
        self.stdout.write(f"Cible worker: {threads} threads, queue {queue_description()}")
        call_command(
            "run_huey",
            workers=threads,
            worker_type="thread",
            # A task is picked up within a second of being queued, even after a quiet hour.
            max_delay=1.0,
            # A worker killed in the middle of a locked task (the nurture advance, sending)
            # leaves its lock behind, and every later run would be skipped. Those tasks are
            # safe to run twice at once (claims, skip-locked rows), so a new worker clears them.
            flush_locks=True,
        )
