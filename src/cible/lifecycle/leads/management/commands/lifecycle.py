"""`cible lifecycle seed-definitions`: the starting MQL, SAL and SQL definitions, as drafts.

The text is written in the active language (`--language`, default the site's); the team then
edits it and both sides approve it on the stage definitions page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation

from cible.core.audit import Channel
from cible.lifecycle.leads.definitions import seed_definitions


class Command(BaseCommand):
    help = "Lifecycle maintenance: seed-definitions writes the starting stage definitions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["seed-definitions"])
        parser.add_argument(
            "--language", default=settings.LANGUAGE_CODE, help="Language of the seed text."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            written = seed_definitions(actor=None, channel=Channel.CLI)
        if not written:
            self.stdout.write("Every stage already has a definition; nothing written.")
        for definition in written:
            self.stdout.write(f"Wrote {definition} (draft).")
