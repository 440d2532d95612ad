"""`cible segments`: segmentation axes from the command line.

cible segments rebuild [--segment ID …]     recompute rule segments (after imports), with progress
cible segments refresh ID [ID …]            re-evaluate every rule segment for these organisations
cible segments list                         axes, segments, member counts and rules in words
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cible.core.errors import CibleError
from cible.segments.axes import selectors, services


class Command(BaseCommand):
    help = "Segmentation axes: rebuild, refresh, list."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild = sub.add_parser("rebuild", help="recompute the membership of rule segments")
        rebuild.add_argument(
            "--segment",
            type=int,
            action="append",
            default=[],
            metavar="ID",
            help="only this segment and what depends on it (repeatable)",
        )
        refresh = sub.add_parser("refresh", help="re-evaluate segments for some organisations")
        refresh.add_argument("ids", type=int, nargs="+", metavar="ID")
        sub.add_parser("list", help="axes, segments and member counts")

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"do_{options['action']}")(options)
        except CibleError as error:
            raise CommandError(str(error)) from None

    def do_rebuild(self, options: dict[str, Any]) -> None:
        run = services.membership_rebuild(
            channel="cli", segment_ids=options["segment"] or None, progress=self.say
        )
        self.say(
            f"Rebuild #{run.pk}: {run.segments_done} segments, +{run.rows_added:,} "
            f"−{run.rows_removed:,} memberships, {run.seconds:.1f} s."
        )

    def do_refresh(self, options: dict[str, Any]) -> None:
        diff = services.membership_refresh_for(organisation_ids=options["ids"])
        if not diff.changed:
            self.say("No change.")
        for label, changes in (("+", diff.added), ("−", diff.removed)):
            for segment_id, ids in sorted(changes.items()):
                shown = ", ".join(map(str, sorted(ids)[:20]))
                self.say(f"{label} segment #{segment_id}: {shown}")

    def do_list(self, options: dict[str, Any]) -> None:
        admin = get_user_model().objects.filter(is_superuser=True, is_active=True).first()
        if admin is None:
            raise CommandError("No administrator exists to count with.")
        for summary in selectors.axis_list(viewer=admin, include_inactive=True):
            axis = summary.axis
            flags = "exclusive" if axis.exclusive else "overlapping"
            self.say(f"{axis.display_name} [{axis.code}, {flags}]")
            for item in summary.segments:
                self.say(f"  #{item.id:<5} {item.name:<36}{item.count:>12,}  {item.description}")
