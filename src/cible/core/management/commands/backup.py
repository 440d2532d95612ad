"""`cible backup FILE`: a consistent copy of the database while Cible keeps running.

SQLite uses its online backup API; PostgreSQL uses pg_dump's custom format.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cible.core.backups import pg_environment


class Command(BaseCommand):
    help = "Back up the database to a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="Where to write the backup.")

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(options["path"]).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith("sqlite3"):
            source = sqlite3.connect(db["NAME"])
            dest = sqlite3.connect(target)
            with dest:
                source.backup(dest)
            dest.close()
            source.close()
        elif db["ENGINE"].endswith("postgresql"):
            command, env = pg_environment(dict(db), "pg_dump")
            result = subprocess.run(
                [*command, "--format=custom", "--file", str(target)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode:
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        else:
            raise CommandError(f"No backup method for {db['ENGINE']}")
        self.stdout.write(f"Backup written to {target} ({target.stat().st_size:,} bytes)")
