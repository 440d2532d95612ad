"""`cible duplicates`: detect duplicates, list them, merge those above a score, measure quality."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cible.core.audit import Channel
from cible.core.errors import CibleError
from cible.quality.duplicates import detect, evaluation, scoring, selectors, services
from cible.quality.duplicates.entities import ENTITIES
from cible.quality.duplicates.models import BulkMergeRun, DuplicateLabel


class Command(BaseCommand):
    help = (
        "Duplicate organisations and contacts: `detect` finds likely pairs and stores them for "
        "review; `list` shows the open pairs; `merge --threshold 0.97` merges every open pair "
        "scored at least that (each merge can be undone from its page); `quality` measures "
        "precision and recall against the labelled demo set."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["detect", "list", "merge", "quality"])
        parser.add_argument(
            "--entity",
            choices=[*ENTITIES, "all"],
            help="organisation or contact (detect and quality: both by default; list and "
            "merge: organisation)",
        )
        parser.add_argument("--threshold", help="merge: minimum score, e.g. 0.97 or 97 (required)")
        parser.add_argument("--dry-run", action="store_true", help="merge: only count the pairs")
        parser.add_argument("--user", help="list or merge as this user (default: an administrator)")
        parser.add_argument("--min-score", type=float, default=0.0, help="list: lowest score")
        parser.add_argument("--limit", type=int, default=20, help="list: how many pairs")

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _user(self, username: str | None) -> Any:
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"No active user named {username!r}.")
            return user
        user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("No active administrator: name the user with --user.")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if options["entity"] is None:
            options["entity"] = "all" if action in ("detect", "quality") else "organisation"
        elif options["entity"] == "all" and action in ("list", "merge"):
            raise CommandError(
                f"`{action}` works on one kind of record: --entity organisation or contact."
            )
        if action == "merge" and not options["threshold"]:
            raise CommandError("`merge` needs --threshold, e.g. --threshold 0.97.")
        try:
            getattr(self, f"handle_{action}")(options)
        except CibleError as error:
            raise CommandError(str(error)) from None

    def handle_detect(self, options: dict[str, Any]) -> None:
        entities = list(ENTITIES) if options["entity"] == "all" else [options["entity"]]
        for entity in entities:
            began = time.perf_counter()
            run = detect.run_detection(
                entity=entity, channel=Channel.CLI, progress=lambda m: self.say(f"  {m}")
            )
            self.say(
                f"{entity}: {run.records:,} records, {run.candidates:,} candidate pairs, "
                f"{run.pairs:,} pairs stored ({run.new_pairs:,} new) in "
                f"{time.perf_counter() - began:.1f} s"
            )

    def handle_list(self, options: dict[str, Any]) -> None:
        user = self._user(options.get("user"))
        filters = selectors.parse_filters(
            {"entity": options["entity"], "min_score": options["min_score"]}
        )
        pairs = list(selectors.pair_list(viewer=user, filters=filters)[: options["limit"]])
        records = selectors.records_of(options["entity"], pairs)
        if not pairs:
            self.say("No open pairs.")
        for pair in pairs:
            a, b = records.get(pair.record_a), records.get(pair.record_b)
            why = ", ".join(scoring.describe(r) for r in pair.reasons if scoring.is_for(r))
            self.say(
                f"{pair.pk:>8}  {pair.percent:>3} %  #{pair.record_a} {a}  ~  #{pair.record_b} {b}"
            )
            self.say(f"{'':>16}{why}")

    def handle_merge(self, options: dict[str, Any]) -> None:
        user = self._user(options.get("user"))
        entity = options["entity"]
        threshold = services.check_threshold(options["threshold"])
        pairs = selectors.bulk_candidates(viewer=user, entity=entity, threshold=threshold)
        if options["dry_run"]:
            self.say(f"{len(pairs):,} open pairs of {entity}s scored {threshold:.2f} or more.")
            return

        def progress(run: BulkMergeRun) -> None:
            sys.stdout.write(
                f"\r  {run.merged + run.skipped + run.failed:,} / {run.total:,}: "
                f"{run.merged:,} merged, {run.skipped:,} skipped, {run.failed:,} refused"
            )
            sys.stdout.flush()

        run = services.bulk_merge_start(
            entity=entity,
            threshold=threshold,
            actor=user,
            channel=Channel.CLI,
            background=False,
            progress=progress,
        )
        self.say("")
        self.say(
            f"{run.merged:,} merged, {run.skipped:,} skipped, {run.failed:,} refused "
            f"(of {run.total:,} pairs scored {threshold:.2f} or more)."
        )
        for error in run.errors[:20]:
            self.say(f"  pair {error['pair']}: {error['message']}")

    def handle_quality(self, options: dict[str, Any]) -> None:
        entities = list(ENTITIES) if options["entity"] == "all" else [options["entity"]]
        if not DuplicateLabel.objects.exists():
            raise CommandError("No labelled set: it is built by `cible demo`.")
        for entity in entities:
            threshold = (
                services.check_threshold(options["threshold"])
                if options["threshold"]
                else scoring.DEFAULT_THRESHOLD
            )
            self.say(str(evaluation.measure(entity, threshold)))
