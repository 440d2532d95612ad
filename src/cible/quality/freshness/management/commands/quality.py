"""`cible quality`: the data-quality figures from the command line.

cible quality refresh                  recompute every figure now
cible quality snapshot [--date D]      freeze today's figures (or rebuild day D's)
cible quality sweep                    the nightly pass: recompute, close verified tasks
cible quality stale [--entity E] [--owner USER] [--reason R] [--list N]
                                       stale counts by reason (and the first N records)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cible.core.errors import CibleError
from cible.quality.freshness import selectors, services, tally
from cible.quality.freshness.rules import Entity


class Command(BaseCommand):
    help = "Data-quality figures: refresh, snapshot, sweep, stale."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("refresh", help="recompute every figure now")
        snapshot = sub.add_parser("snapshot", help="freeze today's figures for the trends")
        snapshot.add_argument(
            "--date", help="rebuild the snapshot of a past day (YYYY-MM-DD) from the records"
        )
        sub.add_parser("sweep", help="the nightly pass: recompute, close verified tasks")
        stale = sub.add_parser("stale", help="stale records by reason")
        stale.add_argument("--entity", choices=Entity.values, default="organisation")
        stale.add_argument("--owner", help="a username, or 'none' for unowned records")
        stale.add_argument("--reason", help="age, never, bounced, left or closed")
        stale.add_argument("--list", type=int, default=0, metavar="N", help="list N records")
        stale.add_argument(
            "--as", dest="viewer", default=None, help="whose access rights (default: an admin)"
        )

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"do_{options['action']}")(options)
        except CibleError as error:
            raise CommandError(str(error)) from None

    def do_refresh(self, options: dict[str, Any]) -> None:
        services.tally_refresh_now(progress=self.say)
        self.say(f"Figures recomputed ({tally.tally_status().computed_at:%Y-%m-%d %H:%M}).")

    def do_snapshot(self, options: dict[str, Any]) -> None:
        day = None
        if options.get("date"):
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(
                    f"--date: “{options['date']}” is not a YYYY-MM-DD date"
                ) from None
        result = services.snapshot_take(day=day, progress=self.say)
        verb = "replaced" if result.replaced else "taken"
        self.say(f"Snapshot of {result.day} {verb}: {result.rows} rows (entity × owner).")

    def do_sweep(self, options: dict[str, Any]) -> None:
        result = services.staleness_sweep(progress=self.say)
        self.say(f"Sweep done; {result.tasks_closed} verification tasks closed.")

    def _viewer(self, username: str | None) -> Any:
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"--as: no user named “{username}”")
            return user
        user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("No administrator exists; name a user with --as.")
        return user

    def do_stale(self, options: dict[str, Any]) -> None:
        viewer = self._viewer(options.get("viewer"))
        entity = options["entity"]
        owner = options.get("owner")
        if owner and owner != selectors.NO_OWNER:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"--owner: no user named “{owner}”")
            owner = str(user.pk)
        tally.tally_catch_up(inline_buckets=10**9, request_background=services.tally_refresh_now)
        figures = selectors.owner_figures(viewer=viewer, entity=entity, owner=owner)
        self.say(f"{figures.label}: {figures.total:,} records, {figures.stale:,} stale")
        for reason in figures.reasons:
            self.say(f"  {reason.label:<40}{reason.count:>12,}")
        if options["list"]:
            qs = selectors.stale_records(
                viewer=viewer, entity=entity, reason=options.get("reason"), owner=owner
            )
            for record in qs.select_related("owner")[: options["list"]]:
                verified = (
                    record.last_verified_at.date().isoformat()
                    if record.last_verified_at
                    else "never"
                )
                reasons = ", ".join(selectors.reasons_of(record))
                self.say(f"  {record.pk:>9}  {str(record)[:50]:<50}  {verified:<10}  {reasons}")
