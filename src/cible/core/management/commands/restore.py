"""`cible restore FILE`: replace the database with a backup made by `cible backup`."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from cible.core.backups import pg_environment


class Command(BaseCommand):
    help = "Restore the database from a backup file (replaces the current data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(options["path"]).resolve()
        if not source.is_file():
            raise CommandError(f"No backup file at {source}")
        if (
            not options["yes"]
            and input("This replaces every record in the database. Type 'yes': ") != "yes"
        ):
            raise CommandError("Restore cancelled.")
        db = settings.DATABASES["default"]
        connections.close_all()
        if db["ENGINE"].endswith("sqlite3"):
            try:
                backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
                backup.execute("PRAGMA schema_version").fetchone()
            except sqlite3.DatabaseError as error:
                raise CommandError(f"{source} is not a SQLite backup: {error}") from None
            live = sqlite3.connect(db["NAME"])
            with live:
                backup.backup(live)
            live.close()
            backup.close()
        elif db["ENGINE"].endswith("postgresql"):
            command, env = pg_environment(dict(db), "pg_restore")
            result = subprocess.run(
                [*command, "--clean", "--if-exists", "--no-owner", str(source)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode:
                raise CommandError(f"pg_restore failed: {result.stderr.strip()}")
        else:
            raise CommandError(f"No restore method for {db['ENGINE']}")
        self.stdout.write(f"Database restored from {source}")
